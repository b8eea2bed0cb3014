package registry

import (
	"context"
	"os"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/validate"
)

// CheckVersion runs every gate of policy on version v, loaded on this
// machine as r, against current (nil: none), and says where it ran: where
// ("node", "cli") and the host name.
func CheckVersion(ctx context.Context, policy validate.Policy, v, current *Version, r validate.Runner, where string) validate.Report {
	var cur *validate.Candidate
	if current != nil {
		c := CandidateFromVersion(current)
		cur = &c
	}
	report := validate.All(ctx, policy, CandidateFromVersion(v), cur, r)
	host, _ := os.Hostname()
	report.Where = where + " " + host
	return report
}

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
