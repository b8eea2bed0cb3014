package batch

import (
	"fmt"
	"math"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/table"
)

// outputColumn is one column made from a model output: the whole row's
// slice of the tensor (a scalar, or a list), or one element of it when
// outputs are expanded.
type outputColumn struct {
	field  table.Field
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
			cols = append(cols, outputColumn{field: table.Field{Name: o.Name, Kind: kind}, output: i, elem: -1})
		case expand && width > 0:
			for e := range width {
				cols = append(cols, outputColumn{field: table.Field{Name: fmt.Sprintf("%s_%d", o.Name, e), Kind: kind}, output: i, elem: e})
			}
		case expand:
			return nil, fmt.Errorf("output %q has shape %v: its width is not fixed, so it cannot be expanded into columns", o.Name, o.Shape)
		default:
			cols = append(cols, outputColumn{field: table.Field{Name: o.Name, Kind: table.KindList, Elem: kind}, output: i, elem: -1})
		}
	}
	return cols, nil
}

func outputKind(dt oip.Datatype) (table.Kind, error) {
	switch dt {
	case oip.FP32, oip.FP16, oip.BF16:
		return table.KindFloat32, nil
	case oip.FP64:
		return table.KindFloat64, nil
	case oip.Bool:
		return table.KindBool, nil
	case oip.Bytes:
		return table.KindString, nil
	case oip.Int8, oip.Int16, oip.Int32, oip.Int64, oip.Uint8, oip.Uint16, oip.Uint32, oip.Uint64:
		return table.KindInt, nil
	}
	return 0, fmt.Errorf("datatype %q is not supported", dt)
}

// cellReader returns the i-th element of a tensor as a cell.
func cellReader(t *oip.Tensor) (func(i int) table.Value, error) {
	switch t.Datatype {
	case oip.FP32:
		return reader(t, func(x float32) table.Value { return table.Float32(x) })
	case oip.FP64:
		return reader(t, table.Float64)
	case oip.FP16, oip.BF16:
		conv := oip.Float16ToFloat32
		if t.Datatype == oip.BF16 {
			conv = oip.BFloat16ToFloat32
		}
		bits, err := oip.HalfBits(t)
		return func(i int) table.Value { return table.Float32(conv(bits[i])) }, err
	case oip.Bool:
		return reader(t, table.Bool)
	case oip.Int8:
		return reader(t, func(x int8) table.Value { return table.Int(int64(x)) })
	case oip.Int16:
		return reader(t, func(x int16) table.Value { return table.Int(int64(x)) })
	case oip.Int32:
		return reader(t, func(x int32) table.Value { return table.Int(int64(x)) })
	case oip.Int64:
		return reader(t, table.Int)
	case oip.Uint8:
		return reader(t, func(x uint8) table.Value { return table.Int(int64(x)) })
	case oip.Uint16:
		return reader(t, func(x uint16) table.Value { return table.Int(int64(x)) })
	case oip.Uint32:
		return reader(t, func(x uint32) table.Value { return table.Int(int64(x)) })
	case oip.Uint64:
		return reader(t, func(x uint64) table.Value {
			if x > math.MaxInt64 {
				return table.Float64(float64(x))
			}
			return table.Int(int64(x))
		})
	case oip.Bytes:
		return func(i int) table.Value { return table.String(string(t.Strings[i])) }, nil
	}
	return nil, fmt.Errorf("output %q: datatype %q is not supported", t.Name, t.Datatype)
}

func reader[T oip.Element](t *oip.Tensor, cell func(T) table.Value) (func(i int) table.Value, error) {
	vals, err := oip.Values[T](t)
	return func(i int) table.Value { return cell(vals[i]) }, err
}

// outputTable makes the output columns of n rows from the model's
// tensors, checking that every output holds exactly n rows.
func outputTable(cols []outputColumn, tensors []*oip.Tensor, n int) ([]*table.Column, error) {
	readers := make([]func(int) table.Value, len(tensors))
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
		if readers[i], err = cellReader(t); err != nil {
			return nil, err
		}
	}
	out := make([]*table.Column, len(cols))
	for c, col := range cols {
		t, w := tensors[col.output], per[col.output]
		switch {
		case col.elem >= w && n > 0:
			return nil, fmt.Errorf("output %q has %d values per row, fewer than its declared shape", t.Name, w)
		case col.elem < 0 && col.field.Kind != table.KindList && w != 1 && n > 0:
			return nil, fmt.Errorf("output %q has %d values per row where one was declared", t.Name, w)
		}
		out[c] = col.column(readers[col.output], n, w, t.Datatype != oip.Uint64)
	}
	return out, nil
}

// column makes the output column of n rows from a tensor of w elements
// per row, whose element i read returns. It is typed unless typed is false
// (a uint64 output is an int or, past the int64 range, a float).
func (oc outputColumn) column(read func(int) table.Value, n, w int, typed bool) *table.Column {
	switch {
	case oc.field.Kind == table.KindList && typed && w > 0:
		c := table.NewListColumn(oc.field.Elem, n, w)
		for i := range n * w {
			c.Set(i, read(i))
		}
		return c
	case oc.field.Kind == table.KindList:
		lists := make([]table.Value, n*w)
		cells := make([]table.Value, n)
		for r := range cells {
			list := lists[r*w : (r+1)*w : (r+1)*w]
			for e := range list {
				list[e] = read(r*w + e)
			}
			cells[r] = table.List(list)
		}
		return table.ValueColumn(cells)
	}
	at := func(r int) int { return r }
	if oc.elem >= 0 {
		at = func(r int) int { return r*w + oc.elem }
	}
	if !typed {
		cells := make([]table.Value, n)
		for r := range cells {
			cells[r] = read(at(r))
		}
		return table.ValueColumn(cells)
	}
	c := table.NewColumn(oc.field.Kind, n)
	for r := range n {
		c.Set(r, read(at(r)))
	}
	return c
}
