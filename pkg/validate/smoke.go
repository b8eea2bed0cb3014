package validate

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/kilnml/kiln/pkg/oip"
)

// smokeGate runs the smoke test's request (or the version's input example)
// and checks the outputs: finite, and equal to the expected ones within the
// tolerance when the policy gives them.
func smokeGate(ctx context.Context, s *SmokeTest, cand Candidate, r Runner) GateResult {
	const gate = "smoke"
	threshold := "finite outputs"
	if s.Expected != nil {
		threshold += ", |diff| <= " + num(s.Tolerance)
	}
	req := s.Input
	if req == nil {
		req = cand.InputExample
	}
	if req == nil {
		return fail(gate, "", threshold, "no input: push the version with an input example or set smoke.input in the policy")
	}
	var names []string
	if s.Expected == nil {
		for _, o := range req.Outputs {
			names = append(names, o.Name)
		}
	}
	outputs, err := r.Run(ctx, req.Inputs, names)
	if err != nil {
		return fail(gate, "error", threshold, "run: "+err.Error())
	}
	var problems []string
	for _, t := range outputs {
		if p := nonFinite(t); p != "" {
			problems = append(problems, p)
		}
	}
	measured := "finite"
	if s.Expected != nil {
		worst, diffs := compareExpected(s.Expected.Outputs, outputs, s.Tolerance)
		problems = append(problems, diffs...)
		measured = "max |diff| " + num(worst)
	}
	if len(problems) > 0 {
		if s.Expected == nil {
			measured = "not finite"
		}
		return fail(gate, measured, threshold, strings.Join(problems, "; "))
	}
	return pass(gate, measured, threshold)
}

// nonFinite describes the NaN and infinite elements of t ("" when none).
func nonFinite(t *oip.Tensor) string {
	if !isFloat(t.Datatype) {
		return ""
	}
	vs, err := oip.Float64s(t)
	if err != nil {
		return fmt.Sprintf("output %s: %v", t.Name, err)
	}
	nan, inf := 0, 0
	for _, v := range vs {
		switch {
		case math.IsNaN(v):
			nan++
		case math.IsInf(v, 0):
			inf++
		}
	}
	if nan+inf == 0 {
		return ""
	}
	return fmt.Sprintf("output %s holds %d NaN and %d infinite of %d values", t.Name, nan, inf, len(vs))
}

// compareExpected checks each expected output against the actual one of
// the same name and returns the largest numeric difference seen and the
// mismatches.
func compareExpected(expected, actual []*oip.Tensor, tol float64) (worst float64, problems []string) {
	for _, e := range expected {
		i := slices.IndexFunc(actual, func(t *oip.Tensor) bool { return t.Name == e.Name })
		if i < 0 {
			problems = append(problems, "no output "+e.Name)
			continue
		}
		a := actual[i]
		switch {
		case a.Datatype != e.Datatype:
			problems = append(problems, fmt.Sprintf("output %s is %s, expected %s", e.Name, a.Datatype, e.Datatype))
		case !slices.Equal(a.Shape, e.Shape):
			problems = append(problems, fmt.Sprintf("output %s has shape %s, expected %s", e.Name, shapeString(a.Shape), shapeString(e.Shape)))
		case a.Datatype == oip.Bytes:
			if !slices.EqualFunc(a.Strings, e.Strings, bytes.Equal) {
				problems = append(problems, fmt.Sprintf("output %s differs from the expected strings", e.Name))
			}
		default:
			d, at, err := maxDiff(a, e)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			worst = max(worst, d)
			if d > tol || math.IsNaN(d) {
				problems = append(problems, fmt.Sprintf("output %s differs by %s at element %d (tolerance %s)", e.Name, num(d), at, num(tol)))
			}
		}
	}
	return worst, problems
}

// maxDiff returns the largest absolute element difference of two numeric
// tensors of the same shape, and where it is.
func maxDiff(a, e *oip.Tensor) (float64, int, error) {
	av, err := oip.Float64s(a)
	if err != nil {
		return 0, 0, err
	}
	ev, err := oip.Float64s(e)
	if err != nil {
		return 0, 0, fmt.Errorf("expected output %s: %v", e.Name, err)
	}
	if len(av) != len(ev) {
		return 0, 0, fmt.Errorf("output %s has %d values, expected %d", e.Name, len(av), len(ev))
	}
	worst, at := 0.0, 0
	for i := range av {
		d := math.Abs(av[i] - ev[i])
		if av[i] == ev[i] { // equal infinities
			d = 0
		}
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
			if math.IsNaN(d) {
				break
			}
		}
	}
	return worst, at, nil
}
