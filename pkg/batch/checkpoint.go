package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/kilnml/kiln/pkg/table"
)

// checkpointName is the checkpoint file in a job's work folder.
const checkpointName = "checkpoint.json"

// checkpoint records the parts of a job's output that are complete. It is
// rewritten (atomically) after each part is committed; a part file that it
// does not list is ignored and overwritten on resume.
type checkpoint struct {
	// Fingerprint identifies the job: input files, model and options.
	Fingerprint string `json:"fingerprint"`
	// NextRow is the input row number where the job continues.
	NextRow int64 `json:"next_row"`
	// Rows counts the rows of the shard read so far, Failed the bad ones.
	Rows   int64  `json:"rows"`
	Failed int64  `json:"failed"`
	Parts  []part `json:"parts"`
	// Done is set once every input row is in a part.
	Done bool `json:"done"`
}

// part is one committed piece of the output.
type part struct {
	Name string `json:"name"`
	// Errors names the bad rows file of the part, when it has bad rows.
	Errors   string `json:"errors,omitempty"`
	FirstRow int64  `json:"first_row"`
	EndRow   int64  `json:"end_row"`
	Rows     int64  `json:"rows"`
	Failed   int64  `json:"failed"`
}

// loadCheckpoint reads the checkpoint in dir; nil when there is none.
func loadCheckpoint(ctx context.Context, st *table.Storage, dir table.Location) (*checkpoint, error) {
	data, err := st.ReadFile(ctx, dir.Join(checkpointName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var cp checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s is corrupt (%v): delete the folder %s to start over", dir.Join(checkpointName), err, dir)
	}
	return &cp, nil
}

// save writes the checkpoint atomically.
func (cp *checkpoint) save(ctx context.Context, st *table.Storage, dir table.Location) error {
	data, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	return st.WriteFile(ctx, dir.Join(checkpointName), data)
}

// fingerprint hashes what decides a job's output.
func fingerprint(v any) string {
	data, _ := json.Marshal(v)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
