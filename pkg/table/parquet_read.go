package table

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// parquetReader reads a Parquet file column by column: each column's pages
// are decoded straight into the columns of the rows being read, without
// assembling Parquet rows first. Top-level columns may be scalars or lists
// of scalars; other nested columns are refused.
type parquetReader struct {
	file    *parquet.File
	fields  []Field
	columns []*parquetColumn
	total   int64
	done    int64
	// groupEnd is the row where the row group being read ends (0 before
	// the first).
	groupEnd int64
}

// parquetColumn says how one top-level Parquet field maps onto a column,
// and reads its values in order across the pages of a row group: a list
// column as Values, a scalar column page by page, its numbers and strings
// taken straight from the decoded page where the page allows.
type parquetColumn struct {
	leaf    int  // leaf column index
	kind    Kind // the kind of the values (of a list's elements)
	list    bool // a LIST (or repeated leaf) rather than a scalar
	listDef int  // definition level at which the list exists but is empty
	maxDef  int  // definition level of a present element

	// A list column's values, nil before the first row group.
	values parquet.ColumnChunkValueReader
	buf    []parquet.Value // values read, buf[pos:] still unused
	pos    int

	// A scalar column's pages, nil before the first row group, and the page
	// being read: at rows of it are read, the first next of its present
	// values. pageValues reads a page that is not read typed.
	pages      parquet.Pages
	page       parquet.Page
	at         int64
	next       int
	pageValues parquet.ValueReader
}

// parquetReadAhead is how many values a list column decodes at a time,
// and parquetMaxRead the most rows one read returns (a chunk's worth).
const (
	parquetReadAhead = 1024
	parquetMaxRead   = 16384
)

func newParquetReader(r io.ReaderAt, size int64) (*parquetReader, error) {
	pf, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true), parquet.ReadBufferSize(1<<20))
	if err != nil {
		return nil, fmt.Errorf("open Parquet: %w", err)
	}
	p := &parquetReader{file: pf, total: pf.NumRows()}
	schema := pf.Schema()
	for _, f := range schema.Fields() {
		field, col, err := parquetField(schema, f)
		if err != nil {
			return nil, err
		}
		p.fields = append(p.fields, field)
		p.columns = append(p.columns, col)
	}
	return p, nil
}

// parquetField maps a top-level field onto a column.
func parquetField(schema *parquet.Schema, f parquet.Field) (Field, *parquetColumn, error) {
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
		return Field{}, nil, fmt.Errorf("Parquet column %q is a nested %s; only scalars and lists of scalars are supported", f.Name(), f.Type())
	}
	leaf, ok := schema.Lookup(path...)
	if !ok {
		return Field{}, nil, fmt.Errorf("Parquet column %q: leaf %s not found", f.Name(), strings.Join(path, "."))
	}
	kind := parquetKind(node)
	col := &parquetColumn{leaf: leaf.ColumnIndex, kind: kind, list: list, maxDef: leaf.MaxDefinitionLevel}
	field := Field{Name: f.Name(), Kind: kind}
	if list {
		field = Field{Name: f.Name(), Kind: KindList, Elem: kind}
		if f.Optional() {
			col.listDef = 1
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

// ReadTable reads up to n rows (at most parquetMaxRead at a time) as
// columns.
func (p *parquetReader) ReadTable(n int) (*Table, error) {
	var parts []*Table
	for n = min(n, parquetMaxRead); n > 0 && p.done < p.total; {
		if p.done >= p.groupEnd {
			if err := p.seek(p.done); err != nil {
				return concatTables(parts), err
			}
		}
		rows := int(min(int64(n), p.groupEnd-p.done))
		part := &Table{cols: make([]*Column, len(p.columns)), errs: make([]error, rows), n: rows}
		for fi, col := range p.columns {
			var err error
			if part.cols[fi], err = col.read(rows); err != nil {
				return concatTables(parts), fmt.Errorf("read Parquet column %q: %w", p.fields[fi].Name, err)
			}
		}
		parts = append(parts, part)
		p.done += int64(rows)
		n -= rows
	}
	t := concatTables(parts)
	if p.done >= p.total {
		return t, io.EOF
	}
	return t, nil
}

// seek positions every column at row, which must be below total.
func (p *parquetReader) seek(row int64) error {
	var start int64
	for _, rg := range p.file.RowGroups() {
		end := start + rg.NumRows()
		if row >= end {
			start = end
			continue
		}
		chunks := rg.ColumnChunks()
		for _, col := range p.columns {
			if err := col.open(chunks[col.leaf], row-start); err != nil {
				return fmt.Errorf("seek Parquet to row %d: %w", row, err)
			}
		}
		p.groupEnd = end
		return nil
	}
	return fmt.Errorf("seek Parquet to row %d: the file has %d rows", row, p.total)
}

func (p *parquetReader) Skip(n int64) (int64, error) {
	n = min(n, p.total-p.done)
	if n <= 0 {
		return 0, nil
	}
	if p.done+n < p.total {
		if err := p.seek(p.done + n); err != nil {
			return 0, err
		}
	}
	p.done += n
	return n, nil
}

func (p *parquetReader) Fraction() float64 { return fraction(p.done, p.total) }

func (p *parquetReader) Close() error {
	var err error
	for _, col := range p.columns {
		err = errors.Join(err, col.close())
	}
	return err
}

// open starts reading chunk at row.
func (c *parquetColumn) open(chunk parquet.ColumnChunk, row int64) error {
	if err := c.close(); err != nil {
		return err
	}
	if c.list {
		c.values = parquet.NewColumnChunkValueReader(chunk)
		return c.values.SeekToRow(row)
	}
	c.pages = chunk.Pages()
	return c.pages.SeekToRow(row)
}

// close stops reading the row group.
func (c *parquetColumn) close() error {
	c.buf, c.pos = c.buf[:0], 0
	c.releasePage()
	var err error
	if c.values != nil {
		err = c.values.Close()
	}
	if c.pages != nil {
		err = errors.Join(err, c.pages.Close())
	}
	c.values, c.pages = nil, nil
	return err
}

func (c *parquetColumn) releasePage() {
	if c.page != nil {
		parquet.Release(c.page)
	}
	c.page, c.pageValues, c.at, c.next = nil, nil, 0, 0
}

// nextPage moves a scalar column to its next page.
func (c *parquetColumn) nextPage() error {
	c.releasePage()
	page, err := c.pages.ReadPage()
	if err != nil {
		return err
	}
	c.page = page
	if page.Dictionary() != nil || !typedParquet[page.Type().Kind()] {
		c.pageValues = page.Values()
	}
	return nil
}

// typedParquet lists the physical types whose decoded pages are read
// straight into typed columns.
var typedParquet = map[parquet.Kind]bool{parquet.Int32: true, parquet.Int64: true, parquet.Float: true, parquet.Double: true, parquet.ByteArray: true}

// readScalars sets the rows of out, a typed column, from the next rows.
func (c *parquetColumn) readScalars(out *Column) error {
	for r := 0; r < out.n; {
		if c.page == nil || c.at == c.page.NumRows() {
			if err := c.nextPage(); errors.Is(err, io.EOF) {
				return fmt.Errorf("the column ends at row %d of %d in its row group", r, out.n)
			} else if err != nil {
				return err
			}
		}
		k := int(min(int64(out.n-r), c.page.NumRows()-c.at))
		if err := c.copyRows(out, r, k); err != nil {
			return err
		}
		c.at += int64(k)
		r += k
	}
	return nil
}

// copyRows sets rows [r, r+k) of out from the page's next k rows.
func (c *parquetColumn) copyRows(out *Column, r, k int) error {
	if c.pageValues != nil {
		if cap(c.buf) < k {
			c.buf = make([]parquet.Value, k)
		}
		buf := c.buf[:k]
		for got := 0; got < k; {
			n, err := c.pageValues.ReadValues(buf[got:])
			got += n
			if err != nil && (got < k || !errors.Is(err, io.EOF)) {
				return err
			}
		}
		for i, v := range buf {
			out.Set(r+i, parquetCell(v))
		}
		return nil
	}
	data := c.page.Data()
	f := pageFill{defs: c.page.DefinitionLevels(), maxDef: byte(c.maxDef), at: int(c.at), r: r, k: k, next: &c.next, out: out}
	switch c.page.Type().Kind() {
	case parquet.Int32:
		v := data.Int32()
		fillPage(f, out.ints, func(i int) int64 { return int64(v[i]) })
	case parquet.Int64:
		v := data.Int64()
		fillPage(f, out.ints, func(i int) int64 { return v[i] })
	case parquet.Float:
		v := data.Float()
		fillPage(f, out.nums, func(i int) float64 { return float64(v[i]) })
	case parquet.Double:
		v := data.Double()
		fillPage(f, out.nums, func(i int) float64 { return v[i] })
	default:
		b, offsets := data.ByteArray()
		fillPage(f, out.strs, func(i int) string { return string(b[offsets[i]:offsets[i+1]]) })
	}
	return nil
}

// pageFill says which rows of a decoded page go where: rows [at, at+k) of
// the page to rows [r, r+k) of out. The page's data holds its present
// values only; *next is the index of the next one. A row whose definition
// level (when the page has them) is below maxDef is null.
type pageFill struct {
	defs     []byte
	maxDef   byte
	at, r, k int
	next     *int
	out      *Column
}

// fillPage copies the rows f names into dst, out's typed slice, taking
// present value i from get(i).
func fillPage[T any](f pageFill, dst []T, get func(int) T) {
	for i := range f.k {
		if len(f.defs) > 0 && f.defs[f.at+i] != f.maxDef {
			f.out.Set(f.r+i, Value{})
			continue
		}
		dst[f.r+i] = get(*f.next)
		*f.next++
	}
}

// peek returns the next value without consuming it; io.EOF at the end of
// the row group.
func (c *parquetColumn) peek() (*parquet.Value, error) {
	if c.pos == len(c.buf) {
		if cap(c.buf) == 0 {
			c.buf = make([]parquet.Value, parquetReadAhead)
		}
		n, err := c.values.ReadValues(c.buf[:cap(c.buf)])
		c.buf, c.pos = c.buf[:n], 0
		if n == 0 {
			return nil, err
		}
	}
	return &c.buf[c.pos], nil
}

// read reads the column's next rows rows: typed for a scalar column,
// Values for a list.
func (c *parquetColumn) read(rows int) (*Column, error) {
	if !c.list {
		out := NewColumn(c.kind, rows)
		return out, c.readScalars(out)
	}
	out := ValueColumn(make([]Value, rows))
	for r := range rows {
		v, err := c.peek()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the column ends at row %d of %d in its row group", r, rows)
		}
		if err != nil {
			return nil, err
		}
		c.pos++
		if err := c.fillList(&out.cells[r], *v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fillList sets cell to the list that starts with value first.
func (c *parquetColumn) fillList(cell *Value, first parquet.Value) error {
	def := first.DefinitionLevel()
	if def < c.listDef {
		return nil
	}
	*cell = List(nil)
	if def == c.listDef {
		return nil
	}
	cell.List = append(cell.List, c.element(first))
	for {
		next, err := c.peek()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if next.RepetitionLevel() == 0 {
			return nil
		}
		c.pos++
		cell.List = append(cell.List, c.element(*next))
	}
}

// element converts a list element, null when it is not defined down to
// the element.
func (c *parquetColumn) element(v parquet.Value) Value {
	if v.DefinitionLevel() != c.maxDef {
		return Null()
	}
	return parquetCell(v)
}

// parquetCell converts a Parquet value to a cell.
func parquetCell(v parquet.Value) Value {
	if v.IsNull() {
		return Null()
	}
	switch v.Kind() {
	case parquet.Boolean:
		return Bool(v.Boolean())
	case parquet.Int32:
		return Int(int64(v.Int32()))
	case parquet.Int64:
		return Int(v.Int64())
	case parquet.Float:
		return Float32(v.Float())
	case parquet.Double:
		return Float64(v.Double())
	case parquet.Int96:
		return String(v.Int96().String())
	}
	return String(string(v.ByteArray()))
}
