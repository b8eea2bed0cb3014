package runtime_test

import (
	"context"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
)

// TestConformance runs every model of the conformance set in-process and
// checks each output against what ONNX semantics say it must be.
func TestConformance(t *testing.T) {
	for _, c := range testenv.ConformanceCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			m := load(t, c.Model)
			for i, r := range c.Requests {
				out, err := m.Run(context.Background(), r.Inputs, nil)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if len(out) != len(r.Want) {
					t.Fatalf("request %d: %d outputs, want %d", i, len(out), len(r.Want))
				}
				for j, want := range r.Want {
					if err := testenv.SameTensor(out[j], want); err != nil {
						t.Errorf("request %d: %v", i, err)
					}
				}
			}
		})
	}
}
