package validate

import "context"

// Runtime runs the gates that need a loaded model: the smoke test and the
// latency budget. r is the candidate loaded on this machine; a nil r skips
// them.
func Runtime(ctx context.Context, p Policy, cand Candidate, r Runner) Report {
	rep := newReport(cand, nil)
	if p.Smoke != nil {
		if r == nil {
			rep.add(skip("smoke", "", "no runtime here"))
		} else {
			rep.add(smokeGate(ctx, p.Smoke, cand, r))
		}
	}
	if p.Latency != nil {
		if r == nil {
			rep.add(skip("latency", "", "no runtime here"))
		} else {
			rep.add(latencyGates(ctx, p, cand, r)...)
		}
	}
	return rep
}

// All runs every gate of the policy: Static, then Runtime.
func All(ctx context.Context, p Policy, cand Candidate, current *Candidate, r Runner) Report {
	rep := Static(p, cand, current)
	rep.Merge(Runtime(ctx, p, cand, r))
	return rep
}
