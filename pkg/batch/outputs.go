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

// cellSetter returns a function that sets dst, a null cell, to the i-th
// element of t (see Value's set methods).
func cellSetter(t *oip.Tensor) (func(dst *Value, i int), error) {
	switch t.Datatype {
	case oip.FP32:
		return setter(t, setFloat[float32](KindFloat32))
	case oip.FP64:
		return setter(t, setFloat[float64](KindFloat64))
	case oip.FP16, oip.BF16:
		conv := oip.Float16ToFloat32
		if t.Datatype == oip.BF16 {
			conv = oip.BFloat16ToFloat32
		}
		bits, err := oip.HalfBits(t)
		return func(dst *Value, i int) { dst.setFloat(KindFloat32, float64(conv(bits[i]))) }, err
	case oip.Bool:
		return setter(t, (*Value).setBool)
	case oip.Int8:
		return setter(t, setInt[int8])
	case oip.Int16:
		return setter(t, setInt[int16])
	case oip.Int32:
		return setter(t, setInt[int32])
	case oip.Int64:
		return setter(t, setInt[int64])
	case oip.Uint8:
		return setter(t, setInt[uint8])
	case oip.Uint16:
		return setter(t, setInt[uint16])
	case oip.Uint32:
		return setter(t, setInt[uint32])
	case oip.Uint64:
		return setter(t, func(dst *Value, x uint64) {
			if x > math.MaxInt64 {
				dst.setFloat(KindFloat64, float64(x))
				return
			}
			dst.setInt(int64(x))
		})
	case oip.Bytes:
		return func(dst *Value, i int) { dst.setString(string(t.Strings[i])) }, nil
	}
	return nil, fmt.Errorf("output %q: datatype %q is not supported", t.Name, t.Datatype)
}

func setter[T oip.Element](t *oip.Tensor, set func(*Value, T)) (func(dst *Value, i int), error) {
	vals, err := oip.Values[T](t)
	return func(dst *Value, i int) { set(dst, vals[i]) }, err
}

func setFloat[T float32 | float64](kind Kind) func(*Value, T) {
	return func(dst *Value, x T) { dst.setFloat(kind, float64(x)) }
}

func setInt[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32](dst *Value, x T) {
	dst.setInt(int64(x))
}

// outputTable makes the output columns of n rows from the model's
// tensors, checking that every output holds exactly n rows.
func outputTable(cols []outputColumn, tensors []*oip.Tensor, n int) ([]*column, error) {
	setters := make([]func(*Value, int), len(tensors))
	per := make([]int, len(tensors))
	for i, t := range tensors {
		elems, err := t.NumElements()
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", t.Name, err)
		}
		if len(t.Shape) == 0 || t.Shape[0] != int64(n) || (n > 0 && elems%int64(n) != 0) {
			return nil, fmt.Errorf("output %q has shape %v for %d rows", t.Name, t.Shape, n)
		}
		if n > 0 {
			per[i] = int(elems) / n
		}
		if setters[i], err = cellSetter(t); err != nil {
			return nil, err
		}
	}
	out := make([]*column, len(cols))
	for c, col := range cols {
		t, w := tensors[col.output], per[col.output]
		switch {
		case col.elem >= w && n > 0:
			return nil, fmt.Errorf("output %q has %d values per row, fewer than its declared shape", t.Name, w)
		case col.elem < 0 && col.field.Kind != KindList && w != 1 && n > 0:
			return nil, fmt.Errorf("output %q has %d values per row where one was declared", t.Name, w)
		}
		out[c] = col.column(setters[col.output], n, w, t.Datatype != oip.Uint64)
	}
	return out, nil
}

// column makes the output column of n rows from a tensor of w elements
// per row, whose element i set sets. It is typed unless typed is false (a
// uint64 output is an int or, past the int64 range, a float).
func (oc outputColumn) column(set func(*Value, int), n, w int, typed bool) *column {
	var v Value
	switch {
	case oc.field.Kind == KindList && typed && w > 0:
		c := newColumn(oc.field.Elem, n*w)
		c.n, c.width = n, w
		for i := range n * w {
			v = Value{}
			set(&v, i)
			c.set(i, v)
		}
		return c
	case oc.field.Kind == KindList:
		lists := make([]Value, n*w)
		cells := make([]Value, n)
		for r := range cells {
			list := lists[r*w : (r+1)*w : (r+1)*w]
			for e := range list {
				set(&list[e], r*w+e)
			}
			cells[r] = List(list)
		}
		return valueColumn(cells)
	}
	at := func(r int) int { return r }
	if oc.elem >= 0 {
		at = func(r int) int { return r*w + oc.elem }
	}
	if !typed {
		cells := make([]Value, n)
		for r := range cells {
			set(&cells[r], at(r))
		}
		return valueColumn(cells)
	}
	c := newColumn(oc.field.Kind, n)
	for r := range n {
		v = Value{}
		set(&v, at(r))
		c.set(r, v)
	}
	return c
}
