package oip

import "fmt"

// Float64s returns the elements of a numeric or BOOL tensor as float64
// (BOOL as 0 and 1, FP16 and BF16 widened): the one conversion of tensors to
// numbers that gates, rollouts and reports share.
func Float64s(t *Tensor) ([]float64, error) {
	switch t.Datatype {
	case Bool:
		return convert[bool](t, func(b bool) float64 {
			if b {
				return 1
			}
			return 0
		})
	case Uint8:
		return convert(t, func(v uint8) float64 { return float64(v) })
	case Uint16:
		return convert(t, func(v uint16) float64 { return float64(v) })
	case Uint32:
		return convert(t, func(v uint32) float64 { return float64(v) })
	case Uint64:
		return convert(t, func(v uint64) float64 { return float64(v) })
	case Int8:
		return convert(t, func(v int8) float64 { return float64(v) })
	case Int16:
		return convert(t, func(v int16) float64 { return float64(v) })
	case Int32:
		return convert(t, func(v int32) float64 { return float64(v) })
	case Int64:
		return convert(t, func(v int64) float64 { return float64(v) })
	case FP32:
		return convert(t, func(v float32) float64 { return float64(v) })
	case FP64:
		return Values[float64](t)
	case FP16, BF16:
		bits, err := HalfBits(t)
		if err != nil {
			return nil, err
		}
		widen := Float16ToFloat32
		if t.Datatype == BF16 {
			widen = BFloat16ToFloat32
		}
		out := make([]float64, len(bits))
		for i, b := range bits {
			out[i] = float64(widen(b))
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor %q: %s is not numeric", t.Name, t.Datatype)
}

func convert[T Element](t *Tensor, f func(T) float64) ([]float64, error) {
	vs, err := Values[T](t)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return out, nil
}
