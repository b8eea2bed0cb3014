package validate

import (
	"fmt"
	"slices"

	"github.com/kilnml/kiln/pkg/oip"
)

// floats returns the elements of a numeric or BOOL tensor as float64.
func floats(t *oip.Tensor) ([]float64, error) {
	switch t.Datatype {
	case oip.Bool:
		return convert[bool](t, func(b bool) float64 {
			if b {
				return 1
			}
			return 0
		})
	case oip.Uint8:
		return convert(t, func(v uint8) float64 { return float64(v) })
	case oip.Uint16:
		return convert(t, func(v uint16) float64 { return float64(v) })
	case oip.Uint32:
		return convert(t, func(v uint32) float64 { return float64(v) })
	case oip.Uint64:
		return convert(t, func(v uint64) float64 { return float64(v) })
	case oip.Int8:
		return convert(t, func(v int8) float64 { return float64(v) })
	case oip.Int16:
		return convert(t, func(v int16) float64 { return float64(v) })
	case oip.Int32:
		return convert(t, func(v int32) float64 { return float64(v) })
	case oip.Int64:
		return convert(t, func(v int64) float64 { return float64(v) })
	case oip.FP32:
		return convert(t, func(v float32) float64 { return float64(v) })
	case oip.FP64:
		return oip.Values[float64](t)
	case oip.FP16, oip.BF16:
		bits, err := oip.HalfBits(t)
		if err != nil {
			return nil, err
		}
		widen := oip.Float16ToFloat32
		if t.Datatype == oip.BF16 {
			widen = oip.BFloat16ToFloat32
		}
		out := make([]float64, len(bits))
		for i, b := range bits {
			out[i] = float64(widen(b))
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor %q: %s is not numeric", t.Name, t.Datatype)
}

func convert[T oip.Element](t *oip.Tensor, f func(T) float64) ([]float64, error) {
	vs, err := oip.Values[T](t)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return out, nil
}

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
