package table

import (
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// parquetWriter writes rows as one Parquet file. Columns whose kind is
// still unknown take it from the first non-null value written.
type parquetWriter struct {
	out    io.Writer
	fields []Field
	w      *parquet.Writer
	vals   []parquet.Value // one column's values, reused
	// buffered counts the values written since the last row group ended.
	buffered int
}

// rowGroupValues is how many values a row group holds before it is
// flushed, which bounds the memory a writer buffers.
const rowGroupValues = 4 << 20

func newParquetWriter(w io.Writer, fields []Field) *parquetWriter {
	return &parquetWriter{out: w, fields: append([]Field(nil), fields...)}
}

// start settles unknown kinds from rows and creates the Parquet writer.
func (p *parquetWriter) start(rows []Row) error {
	for i := range p.fields {
		for _, r := range rows {
			SettleKind(&p.fields[i], r[i])
		}
		DefaultKind(&p.fields[i])
	}
	schema, err := parquetSchema(p.fields)
	if err != nil {
		return err
	}
	p.w = parquet.NewWriter(p.out, schema, parquet.Compression(&parquet.Snappy))
	return nil
}

func (p *parquetWriter) Write(rows []Row) error {
	if p.w == nil {
		if err := p.start(rows); err != nil {
			return err
		}
	}
	return p.writeColumns(len(rows), rowViews(rows, len(p.fields)))
}

// writeColumns adds n rows column by column, straight into the column
// writers; the fields' kinds must be settled.
func (p *parquetWriter) writeColumns(n int, cols []View) error {
	if p.w == nil {
		if err := p.start(nil); err != nil {
			return err
		}
	}
	if n == 0 {
		return nil
	}
	writers := p.w.ColumnWriters()
	for c, f := range p.fields {
		vals, err := appendParquetColumn(p.vals[:0], cols[c], n, f, c)
		if err != nil {
			return err
		}
		p.vals = vals
		if _, err := writers[c].WriteRowValues(vals); err != nil {
			return err
		}
		p.buffered += len(vals)
	}
	if p.buffered >= rowGroupValues {
		p.buffered = 0
		return p.w.Flush()
	}
	return nil
}

// appendParquetColumn appends the Parquet values of n rows of v, column c
// of field f, to vals. Typed columns of the field's kind go straight from
// their slices, without making cells.
func appendParquetColumn(vals []parquet.Value, v View, n int, f Field, c int) ([]parquet.Value, error) {
	col := v.Col
	want := f.Kind
	if col.width > 0 {
		want = f.Elem
	}
	if col.typed() && col.kind == want && (col.width == 0 || f.Kind == KindList) {
		switch col.kind {
		case KindBool:
			return appendTyped(vals, col.ints, v, n, boolValue, c), nil
		case KindInt:
			return appendTyped(vals, col.ints, v, n, parquet.Int64Value, c), nil
		case KindFloat32:
			return appendTyped(vals, col.nums, v, n, floatValue, c), nil
		case KindFloat64:
			return appendTyped(vals, col.nums, v, n, parquet.DoubleValue, c), nil
		case KindString:
			return appendTyped(vals, col.strs, v, n, stringValue, c), nil
		}
	}
	for i := range n {
		cell := v.Value(i)
		var err error
		if vals, err = appendParquetCell(vals, &cell, f, c); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// appendTyped appends the values of n rows of v, a typed column whose
// values are src, converted by conv, as column c.
func appendTyped[T any](vals []parquet.Value, src []T, v View, n int, conv func(T) parquet.Value, c int) []parquet.Value {
	col := v.Col
	if w := col.width; w > 0 {
		for i := range n {
			for k, x := range src[v.row(i)*w : (v.row(i)+1)*w] {
				vals = append(vals, conv(x).Level(min(k, 1), 2, c))
			}
		}
		return vals
	}
	for i := range n {
		r := v.row(i)
		if col.null != nil && col.null[r] {
			vals = append(vals, parquet.NullValue().Level(0, 0, c))
			continue
		}
		vals = append(vals, conv(src[r]).Level(0, 1, c))
	}
	return vals
}

// appendParquetCell appends the Parquet values of cell v of column c (one,
// or one per list element) to vals.
func appendParquetCell(vals []parquet.Value, v *Value, f Field, c int) ([]parquet.Value, error) {
	switch {
	case v.Kind == KindNull:
		return append(vals, parquet.NullValue().Level(0, 0, c)), nil
	case f.Kind == KindList:
		if v.Kind != KindList {
			return nil, fmt.Errorf("column %q holds a list, but this row has a %s", f.Name, v.Kind)
		}
		if len(v.List) == 0 {
			return append(vals, parquet.NullValue().Level(0, 1, c)), nil
		}
		for i := range v.List {
			pv, err := parquetScalar(&v.List[i], f.Elem)
			if err != nil {
				return nil, fmt.Errorf("column %q element %d: %w", f.Name, i, err)
			}
			vals = append(vals, pv.Level(min(i, 1), 2, c))
		}
		return vals, nil
	}
	pv, err := parquetScalar(v, f.Kind)
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", f.Name, err)
	}
	return append(vals, pv.Level(0, 1, c)), nil
}

// parquetScalar converts a cell to the Parquet type of kind, refusing
// conversions that would change the value.
func parquetScalar(v *Value, kind Kind) (parquet.Value, error) {
	switch {
	case v.Kind == kind || (kind == KindFloat64 && v.Kind == KindFloat32):
		return parquetValue(v, kind), nil
	case v.Kind == KindInt && kind == KindFloat64 && v.Int == int64(float64(v.Int)):
		return parquet.DoubleValue(float64(v.Int)), nil
	case v.IsNull():
		return parquet.Value{}, errors.New("null list elements cannot be written to Parquet")
	}
	return parquet.Value{}, fmt.Errorf("a %s value in a %s column (kinds come from the first rows; use CSV or JSONL output for mixed columns)", v.Kind, kind)
}

// parquetValue converts a cell of kind, or a float32 cell to KindFloat64,
// to its Parquet value.
func parquetValue(v *Value, kind Kind) parquet.Value {
	switch kind {
	case KindBool:
		return boolValue(v.Int)
	case KindInt:
		return parquet.Int64Value(v.Int)
	case KindFloat32:
		return floatValue(v.Float)
	case KindFloat64:
		return parquet.DoubleValue(v.Float)
	}
	return stringValue(v.Str)
}

func boolValue(i int64) parquet.Value { return parquet.BooleanValue(i != 0) }

func floatValue(f float64) parquet.Value { return parquet.FloatValue(float32(f)) }

// stringValue makes a byte array value that aliases s: the writer copies
// the bytes.
func stringValue(s string) parquet.Value {
	return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func (p *parquetWriter) Close() error {
	if p.w == nil {
		if err := p.start(nil); err != nil {
			return err
		}
	}
	return p.w.Close()
}

// reset makes a closed writer write a new file with the same fields.
func (p *parquetWriter) reset() {
	p.buffered = 0
	if p.w != nil {
		p.w.Reset(p.out)
	}
}
