package batch

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// parquetColumn says how one top-level Parquet field maps onto a column.
type parquetColumn struct {
	leaf    int  // leaf column index
	list    bool // a LIST (or repeated leaf) rather than a scalar
	listDef int  // definition level at which the list exists but is empty
	maxDef  int  // definition level of a present element
}

// parquetReader reads a Parquet file row by row. Top-level columns may be
// scalars or lists of scalars; other nested columns are refused.
type parquetReader struct {
	r       *parquet.Reader
	fields  []Field
	columns []parquetColumn
	byLeaf  []int // leaf column index -> field index
	total   int64
	done    int64
	buf     []parquet.Row
}

func newParquetReader(r io.ReaderAt, size int64) (*parquetReader, error) {
	pf, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true), parquet.ReadBufferSize(1<<20))
	if err != nil {
		return nil, fmt.Errorf("open Parquet: %w", err)
	}
	p := &parquetReader{total: pf.NumRows()}
	schema := pf.Schema()
	p.byLeaf = make([]int, len(schema.Columns()))
	for i := range p.byLeaf {
		p.byLeaf[i] = -1
	}
	for i, f := range schema.Fields() {
		field, col, err := parquetField(schema, f)
		if err != nil {
			return nil, err
		}
		p.fields = append(p.fields, field)
		p.columns = append(p.columns, col)
		p.byLeaf[col.leaf] = i
	}
	p.r = parquet.NewReader(pf)
	return p, nil
}

// parquetField maps a top-level field onto a column.
func parquetField(schema *parquet.Schema, f parquet.Field) (Field, parquetColumn, error) {
	path := []string{f.Name()}
	node := parquet.Node(f)
	list := false
	switch {
	case f.Leaf() && f.Repeated():
		list = true
	case !f.Leaf() && isParquetList(f):
		inner := f.Fields()
		if len(inner) == 1 && inner[0].Repeated() && !inner[0].Leaf() && len(inner[0].Fields()) == 1 && inner[0].Fields()[0].Leaf() {
			elem := inner[0].Fields()[0]
			path = append(path, inner[0].Name(), elem.Name())
			node, list = elem, true
		} else if len(inner) == 1 && inner[0].Repeated() && inner[0].Leaf() {
			path = append(path, inner[0].Name())
			node, list = inner[0], true
		}
	}
	if !node.Leaf() {
		return Field{}, parquetColumn{}, fmt.Errorf("Parquet column %q is a nested %s; only scalars and lists of scalars are supported", f.Name(), f.Type())
	}
	leaf, ok := schema.Lookup(path...)
	if !ok {
		return Field{}, parquetColumn{}, fmt.Errorf("Parquet column %q: leaf %s not found", f.Name(), strings.Join(path, "."))
	}
	kind := parquetKind(node)
	col := parquetColumn{leaf: leaf.ColumnIndex, list: list, maxDef: leaf.MaxDefinitionLevel}
	field := Field{Name: f.Name(), Kind: kind}
	if list {
		field = Field{Name: f.Name(), Kind: KindList, Elem: kind}
		col.listDef = 0
		if f.Optional() {
			col.listDef = 1
		}
		if node.Optional() {
			col.maxDef = leaf.MaxDefinitionLevel
		}
	}
	return field, col, nil
}

// isParquetList reports whether a group node carries the LIST annotation.
func isParquetList(n parquet.Node) bool {
	lt := n.Type().LogicalType()
	if lt == nil {
		return false
	}
	_, ok := lt.Value.(*format.ListType)
	return ok
}

func parquetKind(node parquet.Node) Kind {
	switch node.Type().Kind() {
	case parquet.Boolean:
		return KindBool
	case parquet.Int32, parquet.Int64:
		return KindInt
	case parquet.Float:
		return KindFloat32
	case parquet.Double:
		return KindFloat64
	}
	return KindString
}

func (p *parquetReader) Fields() []Field { return p.fields }

func (p *parquetReader) Read(dst []Row, errs []error, n int) ([]Row, []error, error) {
	n = min(n, 4096)
	if cap(p.buf) < n {
		p.buf = make([]parquet.Row, n)
	}
	buf := p.buf[:n]
	got, err := p.r.ReadRows(buf)
	p.done += int64(got)
	cells := make([]Value, got*len(p.fields))
	for i, pr := range buf[:got] {
		dst = append(dst, p.convert(cells[i*len(p.fields):(i+1)*len(p.fields):(i+1)*len(p.fields)], pr))
		errs = append(errs, nil)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return dst, errs, fmt.Errorf("read Parquet: %w", err)
	}
	if errors.Is(err, io.EOF) || (got == 0 && n > 0) {
		return dst, errs, io.EOF
	}
	return dst, errs, nil
}

// convert turns one Parquet row into row, which has a cell per field.
func (p *parquetReader) convert(row Row, pr parquet.Row) Row {
	for _, v := range pr {
		fi := p.byLeaf[v.Column()]
		if fi < 0 {
			continue
		}
		col := &p.columns[fi]
		if !col.list {
			setParquetValue(&row[fi], v)
			continue
		}
		def := v.DefinitionLevel()
		if v.RepetitionLevel() == 0 {
			switch {
			case def < col.listDef:
				row[fi] = Null()
				continue
			default:
				row[fi] = List(nil)
			}
			if def == col.listDef {
				continue
			}
		}
		list := append(row[fi].List, Value{})
		if def == col.maxDef {
			setParquetValue(&list[len(list)-1], v)
		}
		row[fi].List = list
	}
	return row
}

// setParquetValue sets dst, a null cell, to v (see Value's set methods).
func setParquetValue(dst *Value, v parquet.Value) {
	if v.IsNull() {
		return
	}
	switch v.Kind() {
	case parquet.Boolean:
		dst.setBool(v.Boolean())
	case parquet.Int32:
		dst.setInt(int64(v.Int32()))
	case parquet.Int64:
		dst.setInt(v.Int64())
	case parquet.Float:
		dst.setFloat(KindFloat32, float64(v.Float()))
	case parquet.Double:
		dst.setFloat(KindFloat64, v.Double())
	case parquet.Int96:
		dst.setString(v.Int96().String())
	default:
		dst.setString(string(v.ByteArray()))
	}
}

func (p *parquetReader) Skip(n int64) (int64, error) {
	n = min(n, p.total-p.done)
	if n <= 0 {
		return 0, nil
	}
	if err := p.r.SeekToRow(p.done + n); err != nil {
		return 0, fmt.Errorf("seek Parquet to row %d: %w", p.done+n, err)
	}
	p.done += n
	return n, nil
}

func (p *parquetReader) Fraction() float64 { return fraction(p.done, p.total) }

func (p *parquetReader) Close() error { return p.r.Close() }

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
			settleKind(&p.fields[i], r[i])
		}
		defaultKind(&p.fields[i])
	}
	schema, err := parquetSchema(p.fields)
	if err != nil {
		return err
	}
	p.w = parquet.NewWriter(p.out, schema, parquet.Compression(&parquet.Snappy))
	return nil
}

// settleKind gives a column of unknown kind (or list element kind) the
// kind of v.
func settleKind(f *Field, v Value) {
	if f.Kind == KindNull {
		f.Kind = v.Kind
	}
	if f.Kind == KindList && f.Elem == KindNull && v.Kind == KindList && len(v.List) > 0 {
		f.Elem = v.List[0].Kind
	}
}

// defaultKind makes a column still of unknown kind a string column.
func defaultKind(f *Field) {
	if f.Kind == KindNull {
		f.Kind = KindString
	}
	if f.Kind == KindList && f.Elem == KindNull {
		f.Elem = KindString
	}
}

func (p *parquetWriter) Write(rows []Row) error {
	if p.w == nil {
		if err := p.start(rows); err != nil {
			return err
		}
	}
	return p.writeCells(len(rows), rowCells(rows))
}

// writeCells adds n rows column by column, straight into the column
// writers; the fields' kinds must be settled.
func (p *parquetWriter) writeCells(n int, cell func(r, c int) *Value) error {
	if p.w == nil {
		if err := p.start(nil); err != nil {
			return err
		}
	}
	cols := p.w.ColumnWriters()
	for c, f := range p.fields {
		vals := p.vals[:0]
		for r := range n {
			var err error
			if vals, err = appendParquetCell(vals, cell(r, c), f, c); err != nil {
				return err
			}
		}
		p.vals = vals
		if _, err := cols[c].WriteRowValues(vals); err != nil {
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
		switch kind {
		case KindBool:
			return parquet.BooleanValue(v.Int != 0), nil
		case KindInt:
			return parquet.Int64Value(v.Int), nil
		case KindFloat32:
			return parquet.FloatValue(float32(v.Float)), nil
		case KindFloat64:
			return parquet.DoubleValue(v.Float), nil
		case KindString:
			// The writer copies the bytes, which therefore may alias the string.
			return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(v.Str), len(v.Str))), nil
		}
	case v.Kind == KindInt && kind == KindFloat64 && v.Int == int64(float64(v.Int)):
		return parquet.DoubleValue(float64(v.Int)), nil
	case v.IsNull():
		return parquet.Value{}, errors.New("null list elements cannot be written to Parquet")
	}
	return parquet.Value{}, fmt.Errorf("a %s value in a %s column (kinds come from the first rows; use CSV or JSONL output for mixed columns)", v.Kind, kind)
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
