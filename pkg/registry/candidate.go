package registry

import (
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/validate"
)

// CandidateFromVersion describes a version for the validation gates: its
// size, metrics, signature and decoded input example (nil when it has none).
func CandidateFromVersion(v *Version) validate.Candidate {
	c := validate.Candidate{
		Name: v.Name, Version: v.Version, SizeBytes: v.Size, Metrics: v.Metrics,
		Inputs: tensorMetadata(v.Signature.Inputs), Outputs: tensorMetadata(v.Signature.Outputs),
	}
	if len(v.InputExample) > 0 {
		// Push validated the example; a decode error leaves it out, which
		// the smoke gate reports as a missing example.
		if req, err := oip.DecodeRequest(v.InputExample, -1); err == nil {
			c.InputExample = req
		}
	}
	return c
}

func tensorMetadata(specs []TensorSpec) []oip.TensorMetadata {
	out := make([]oip.TensorMetadata, len(specs))
	for i, t := range specs {
		out[i] = oip.TensorMetadata{Name: t.Name, Datatype: oip.Datatype(t.Datatype), Shape: t.Shape}
	}
	return out
}
