package storage_test

import (
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/registry/storage"
)

// backends runs f against a fresh folder store and a fresh S3 store (under
// the prefix reg/ of a new versitygw bucket, the way kiln-registry opens it).
func backends(t *testing.T, f func(t *testing.T, store storage.Store)) {
	t.Run("fs", func(t *testing.T) { f(t, testenv.FolderStore(t, "")) })
	t.Run("s3", func(t *testing.T) { f(t, testenv.NewS3(t).RegistryStore(t)) })
}
