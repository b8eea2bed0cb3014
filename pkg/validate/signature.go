package validate

import (
	"fmt"
	"strings"

	"github.com/kilnml/kiln/pkg/oip"
)

// signatureGate checks that cand can replace current without breaking a
// client: the same input names and datatypes, input shapes that accept
// everything current's accept, and every output of current with the same
// datatype and a shape within current's.
func signatureGate(cand Candidate, current *Candidate) GateResult {
	const gate = "signature"
	const threshold = "compatible"
	if current == nil {
		return skip(gate, threshold, "no version to compare with")
	}
	var problems []string
	problems = append(problems, compareInputs(cand.Inputs, current.Inputs)...)
	problems = append(problems, compareOutputs(cand.Outputs, current.Outputs)...)
	if len(problems) > 0 {
		return fail(gate, "incompatible", threshold, fmt.Sprintf("against version %d: %s", current.Version, strings.Join(problems, "; ")))
	}
	return pass(gate, "compatible", threshold)
}

func compareInputs(cand, cur []oip.TensorMetadata) []string {
	var problems []string
	for _, c := range cur {
		n := find(cand, c.Name)
		switch {
		case n == nil:
			problems = append(problems, "input "+c.Name+" is gone")
		case n.Datatype != c.Datatype:
			problems = append(problems, fmt.Sprintf("input %s is %s, was %s", c.Name, n.Datatype, c.Datatype))
		case !shapeWithin(c.Shape, n.Shape):
			problems = append(problems, fmt.Sprintf("input %s takes %s, was %s", c.Name, shapeString(n.Shape), shapeString(c.Shape)))
		}
	}
	for _, n := range cand {
		if find(cur, n.Name) == nil {
			problems = append(problems, "new input "+n.Name+" that clients do not send")
		}
	}
	return problems
}

func compareOutputs(cand, cur []oip.TensorMetadata) []string {
	var problems []string
	for _, c := range cur {
		n := find(cand, c.Name)
		switch {
		case n == nil:
			problems = append(problems, "output "+c.Name+" is gone")
		case n.Datatype != c.Datatype:
			problems = append(problems, fmt.Sprintf("output %s is %s, was %s", c.Name, n.Datatype, c.Datatype))
		case !shapeWithin(n.Shape, c.Shape):
			problems = append(problems, fmt.Sprintf("output %s has shape %s, was %s", c.Name, shapeString(n.Shape), shapeString(c.Shape)))
		}
	}
	return problems
}

// shapeWithin reports whether every shape matching inner also matches
// outer: same rank, and each dimension of outer is -1 or equal to inner's.
// A nil shape (unknown rank) matches anything.
func shapeWithin(inner, outer []int64) bool {
	if inner == nil || outer == nil {
		return true
	}
	if len(inner) != len(outer) {
		return false
	}
	for i := range outer {
		if outer[i] >= 0 && inner[i] != outer[i] {
			return false
		}
	}
	return true
}

func find(ts []oip.TensorMetadata, name string) *oip.TensorMetadata {
	for i := range ts {
		if ts[i].Name == name {
			return &ts[i]
		}
	}
	return nil
}

func shapeString(s []int64) string {
	if s == nil {
		return "[?]"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
		if d < 0 {
			parts[i] = "-1"
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}
