package validate

import (
	"fmt"
	"slices"

	"github.com/kilnml/kiln/pkg/oip"
)

// isFloat reports whether a datatype can hold NaN or infinity.
func isFloat(d oip.Datatype) bool {
	return d == oip.FP16 || d == oip.BF16 || d == oip.FP32 || d == oip.FP64
}

// withBatch returns inputs with a first dimension of n rows: the first row
// of each tensor repeated. An input whose signature fixes the first
// dimension is kept as it is for n == 1 and is an error for larger n.
func withBatch(inputs []*oip.Tensor, sig []oip.TensorMetadata, n int) ([]*oip.Tensor, error) {
	out := make([]*oip.Tensor, len(inputs))
	for i, t := range inputs {
		fixed := false
		if m := find(sig, t.Name); m != nil && len(m.Shape) > 0 && m.Shape[0] >= 0 {
			fixed = true
		}
		switch {
		case len(t.Shape) == 0 || fixed:
			if n != 1 {
				return nil, fmt.Errorf("input %s has no variable batch dimension (shape %s)", t.Name, shapeString(t.Shape))
			}
			out[i] = t
		case t.Shape[0] == int64(n):
			out[i] = t
		case t.Shape[0] < 1:
			return nil, fmt.Errorf("input %s has no rows to repeat", t.Name)
		default:
			out[i] = repeatRow(t, n)
		}
	}
	return out, nil
}

// repeatRow returns a tensor holding t's first row n times.
func repeatRow(t *oip.Tensor, n int) *oip.Tensor {
	rows := int(t.Shape[0])
	shape := slices.Clone(t.Shape)
	shape[0] = int64(n)
	r := &oip.Tensor{Name: t.Name, Datatype: t.Datatype, Shape: shape}
	if t.Datatype == oip.Bytes {
		per := len(t.Strings) / rows
		for range n {
			r.Strings = append(r.Strings, t.Strings[:per]...)
		}
		return r
	}
	per := len(t.Raw) / rows
	r.Raw = make([]byte, 0, per*n)
	for range n {
		r.Raw = append(r.Raw, t.Raw[:per]...)
	}
	return r
}

// zeroInputs builds one row of zeros (empty strings for BYTES) per input of
// the signature, for models without an input example.
func zeroInputs(sig []oip.TensorMetadata) ([]*oip.Tensor, error) {
	if len(sig) == 0 {
		return nil, fmt.Errorf("the version has no input example and no recorded inputs")
	}
	out := make([]*oip.Tensor, len(sig))
	for i, m := range sig {
		size := m.Datatype.Size()
		if size < 0 || m.Shape == nil {
			return nil, fmt.Errorf("the version has no input example, and input %s (%q, shape %s) cannot be made up; push it with an input example", m.Name, m.Datatype, shapeString(m.Shape))
		}
		shape := make([]int64, len(m.Shape))
		elems := 1
		for j, d := range m.Shape {
			shape[j] = max(d, 1)
			elems *= int(shape[j])
		}
		t := &oip.Tensor{Name: m.Name, Datatype: m.Datatype, Shape: shape}
		if size == 0 {
			t.Strings = make([][]byte, elems)
		} else {
			t.Raw = make([]byte, elems*size)
		}
		out[i] = t
	}
	return out, nil
}
