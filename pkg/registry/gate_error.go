package registry

import (
	"fmt"

	"github.com/kilnml/kiln/pkg/validate"
)

// GateError is a refused move of a protected alias: the version failed
// gates of the model's policy. It wraps ErrConflict (HTTP 409), and the API
// sends the report with the error.
type GateError struct {
	Model string
	Alias string
	// From is the version the alias stays at (0: unset).
	From    int
	Version int
	Report  validate.Report
}

// Error says what was refused, which gates failed and what to do.
func (e *GateError) Error() string {
	return fmt.Sprintf("move %s@%s to version %d refused: %s; fix the version, or move it with --force (admin)", e.Model, e.Alias, e.Version, e.Report.Summary())
}

// Unwrap returns ErrConflict.
func (e *GateError) Unwrap() error { return ErrConflict }
