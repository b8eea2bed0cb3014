package batch

import (
	"fmt"
	"math"

	"github.com/kilnml/kiln/pkg/oip"
)

// outputColumn is one column made from a model output: the whole row's
// slice of the tensor (a scalar, or a list), or one element of it when
// outputs are expanded.
type outputColumn struct {
	field  Field
	output int // index into the model's outputs
	elem   int // element index when expanded, else -1
}

// outputColumns lists the columns for the model's outputs: one per output
// (vectors as lists), or with expand one per element (name_0, name_1, ...).
func outputColumns(outputs []oip.TensorMetadata, expand bool) ([]outputColumn, error) {
	var cols []outputColumn
	for i, o := range outputs {
		kind, err := outputKind(o.Datatype)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
		width := 1
		for _, d := range o.Shape[min(1, len(o.Shape)):] {
			width *= int(d)
		}
		switch {
		case len(o.Shape) <= 1:
			cols = append(cols, outputColumn{field: Field{Name: o.Name, Kind: kind}, output: i, elem: -1})
		case expand && width > 0:
			for e := range width {
				cols = append(cols, outputColumn{field: Field{Name: fmt.Sprintf("%s_%d", o.Name, e), Kind: kind}, output: i, elem: e})
			}
		case expand:
			return nil, fmt.Errorf("output %q has shape %v: its width is not fixed, so it cannot be expanded into columns", o.Name, o.Shape)
		default:
			cols = append(cols, outputColumn{field: Field{Name: o.Name, Kind: KindList, Elem: kind}, output: i, elem: -1})
		}
	}
	return cols, nil
}

func outputKind(dt oip.Datatype) (Kind, error) {
	switch dt {
	case oip.FP32, oip.FP16, oip.BF16:
		return KindFloat32, nil
	case oip.FP64:
		return KindFloat64, nil
	case oip.Bool:
		return KindBool, nil
	case oip.Bytes:
		return KindString, nil
	case oip.Int8, oip.Int16, oip.Int32, oip.Int64, oip.Uint8, oip.Uint16, oip.Uint32, oip.Uint64:
		return KindInt, nil
	}
	return 0, fmt.Errorf("datatype %q is not supported", dt)
}

// tensorCells converts every element of a tensor to a cell.
func tensorCells(t *oip.Tensor) ([]Value, error) {
	switch t.Datatype {
	case oip.FP32:
		return cells(t, func(x float32) Value { return Float32(x) })
	case oip.FP64:
		return cells(t, Float64)
	case oip.FP16, oip.BF16:
		conv := oip.Float16ToFloat32
		if t.Datatype == oip.BF16 {
			conv = oip.BFloat16ToFloat32
		}
		bits, err := oip.HalfBits(t)
		return convertAll(bits, func(x uint16) Value { return Float32(conv(x)) }), err
	case oip.Bool:
		return cells(t, Bool)
	case oip.Int8:
		return cells(t, func(x int8) Value { return Int(int64(x)) })
	case oip.Int16:
		return cells(t, func(x int16) Value { return Int(int64(x)) })
	case oip.Int32:
		return cells(t, func(x int32) Value { return Int(int64(x)) })
	case oip.Int64:
		return cells(t, Int)
	case oip.Uint8:
		return cells(t, func(x uint8) Value { return Int(int64(x)) })
	case oip.Uint16:
		return cells(t, func(x uint16) Value { return Int(int64(x)) })
	case oip.Uint32:
		return cells(t, func(x uint32) Value { return Int(int64(x)) })
	case oip.Uint64:
		return cells(t, func(x uint64) Value {
			if x > math.MaxInt64 {
				return Float64(float64(x))
			}
			return Int(int64(x))
		})
	case oip.Bytes:
		return convertAll(t.Strings, func(x []byte) Value { return String(string(x)) }), nil
	}
	return nil, fmt.Errorf("output %q: datatype %q is not supported", t.Name, t.Datatype)
}

func cells[T oip.Element](t *oip.Tensor, cell func(T) Value) ([]Value, error) {
	vals, err := oip.Values[T](t)
	return convertAll(vals, cell), err
}

func convertAll[T any](xs []T, cell func(T) Value) []Value {
	out := make([]Value, len(xs))
	for i, x := range xs {
		out[i] = cell(x)
	}
	return out
}

// fillOutputs writes the output cells of n rows: out[r] gets one cell per
// column. It checks that every output holds exactly n rows. List cells
// share the memory of their output's converted elements.
func fillOutputs(cols []outputColumn, tensors []*oip.Tensor, n int, out []Row) error {
	elems := make([][]Value, len(tensors))
	per := make([]int, len(tensors))
	for i, t := range tensors {
		count, err := t.NumElements()
		if err != nil {
			return fmt.Errorf("output %q: %w", t.Name, err)
		}
		if len(t.Shape) == 0 || t.Shape[0] != int64(n) || (n > 0 && count%int64(n) != 0) {
			return fmt.Errorf("output %q has shape %v for %d rows", t.Name, t.Shape, n)
		}
		if n > 0 {
			per[i] = int(count) / n
		}
		if elems[i], err = tensorCells(t); err != nil {
			return err
		}
		if len(elems[i]) < per[i]*n {
			return fmt.Errorf("output %q holds %d values, fewer than its shape %v needs", t.Name, len(elems[i]), t.Shape)
		}
	}
	if n == 0 {
		return nil
	}
	for c, col := range cols {
		vals, w := elems[col.output], per[col.output]
		switch {
		case col.elem >= 0:
			if col.elem >= w {
				return fmt.Errorf("output %q has %d values per row, fewer than its declared shape", tensors[col.output].Name, w)
			}
			for r := range n {
				out[r][c] = vals[r*w+col.elem]
			}
		case col.field.Kind == KindList:
			for r := range n {
				out[r][c] = List(vals[r*w : (r+1)*w : (r+1)*w])
			}
		default:
			if w != 1 {
				return fmt.Errorf("output %q has %d values per row where one was declared", tensors[col.output].Name, w)
			}
			for r := range n {
				out[r][c] = vals[r]
			}
		}
	}
	return nil
}
