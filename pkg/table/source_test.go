package table

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnml/kiln/pkg/objstore"
)

// A folder without tables names the extensions it looked for, always in
// the same order (they came from a map's random order once).
func TestOpenEmptyFolderNamesExtensionsInOrder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		_, err := Open(context.Background(), NewStorage(objstore.S3Options{}), dir, "")
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no .csv, .jsonl, .ndjson, .json, .parquet, .pq files there") {
			t.Fatalf("open an empty folder: %v", err)
		}
	}
}
