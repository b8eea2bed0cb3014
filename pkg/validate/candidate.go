package validate

import (
	"context"

	"github.com/kilnml/kiln/pkg/oip"
)

// Candidate is what the gates know about one model version: its recorded
// size, metrics and signature, and its input example.
type Candidate struct {
	Name      string               `json:"name"`
	Version   int                  `json:"version"`
	SizeBytes int64                `json:"size_bytes"`
	Metrics   map[string]float64   `json:"metrics,omitempty"`
	Inputs    []oip.TensorMetadata `json:"inputs,omitempty"`
	Outputs   []oip.TensorMetadata `json:"outputs,omitempty"`
	// InputExample is a request the model must accept, or nil.
	InputExample *oip.InferRequest `json:"input_example,omitempty"`
}

// Runner runs a loaded model; *runtime.Model satisfies it. outputs names
// the outputs to return (nil: all of them).
type Runner interface {
	Run(ctx context.Context, inputs []*oip.Tensor, outputs []string) ([]*oip.Tensor, error)
}
