package table

// Column holds one column of a run of rows. Scalar Parquet columns and the
// columns made from model outputs keep their values in a typed slice (8
// bytes a number, no pointers for the garbage collector to follow); any
// other column keeps a Value per row.
type Column struct {
	// kind is the kind of the typed values (of the elements, for a list);
	// KindNull for a column of Values.
	kind Kind
	// width is the number of elements per row of a typed list column, 0
	// for a scalar.
	width int
	n     int       // rows
	null  []bool    // the null rows of a typed scalar column; nil when none
	nums  []float64 // KindFloat32, KindFloat64
	ints  []int64   // KindInt, KindBool
	strs  []string  // KindString
	cells []Value   // a column of Values
}

// NewColumn makes a typed column of n rows of kind (see Set for the
// values it takes).
func NewColumn(kind Kind, n int) *Column {
	c := &Column{kind: kind, n: n}
	switch kind {
	case KindFloat32, KindFloat64:
		c.nums = make([]float64, n)
	case KindString:
		c.strs = make([]string, n)
	default:
		c.ints = make([]int64, n)
	}
	return c
}

// Set sets row r of a typed scalar column to v, a null or a cell of the
// column's kind.
func (c *Column) Set(r int, v Value) {
	switch v.Kind {
	case KindNull:
		if c.null == nil {
			c.null = make([]bool, c.n)
		}
		c.null[r] = true
	case KindFloat32, KindFloat64:
		c.nums[r] = v.Float
	case KindString:
		c.strs[r] = v.Str
	default:
		c.ints[r] = v.Int
	}
}

// NewListColumn makes a typed column of n rows, each a list of width
// elements of kind elem; Set sets element i (row i/width).
func NewListColumn(elem Kind, n, width int) *Column {
	c := NewColumn(elem, n*width)
	c.n, c.width = n, width
	return c
}

// ValueColumn makes a column of Values.
func ValueColumn(cells []Value) *Column { return &Column{cells: cells, n: len(cells)} }

// Numbers returns the values of a scalar column of floats and its null
// mask (nil when no row is null); nums is nil for any other column.
func (c *Column) Numbers() (nums []float64, null []bool) {
	if c.nums == nil || c.width != 0 {
		return nil, nil
	}
	return c.nums, c.null
}

// typed reports whether the column keeps typed values.
func (c *Column) typed() bool { return c.kind != KindNull }

// Value returns row r's cell. A typed list's elements are allocated anew.
func (c *Column) Value(r int) Value {
	switch {
	case !c.typed():
		return c.cells[r]
	case c.width > 0:
		list := make([]Value, c.width)
		for e := range list {
			list[e] = c.element(r*c.width + e)
		}
		return List(list)
	case c.null != nil && c.null[r]:
		return Value{}
	}
	return c.element(r)
}

// element returns typed value i.
func (c *Column) element(i int) Value {
	switch c.kind {
	case KindFloat32, KindFloat64:
		return Value{Kind: c.kind, Float: c.nums[i]}
	case KindString:
		return Value{Kind: KindString, Str: c.strs[i]}
	}
	return Value{Kind: c.kind, Int: c.ints[i]}
}

// pick returns the column of the rows at idx, in that order.
func (c *Column) pick(idx []int) *Column {
	w := max(c.width, 1)
	return &Column{
		kind: c.kind, width: c.width, n: len(idx),
		null: pickRows(c.null, idx, 1), cells: pickRows(c.cells, idx, 1),
		nums: pickRows(c.nums, idx, w), ints: pickRows(c.ints, idx, w), strs: pickRows(c.strs, idx, w),
	}
}

// pickRows returns the rows at idx of width elements each; nil for nil.
func pickRows[T any](s []T, idx []int, width int) []T {
	if s == nil {
		return nil
	}
	out := make([]T, 0, len(idx)*width)
	for _, r := range idx {
		out = append(out, s[r*width:(r+1)*width]...)
	}
	return out
}

// ConcatColumns returns the rows of parts one after the other. Typed
// parts of one kind and layout stay typed; others become Values.
func ConcatColumns(parts []*Column) *Column {
	if len(parts) == 1 {
		return parts[0]
	}
	out := &Column{kind: parts[0].kind, width: parts[0].width}
	nulls := false
	for _, p := range parts {
		out.n += p.n
		nulls = nulls || p.null != nil
		if p.kind != out.kind || p.width != out.width {
			out.kind = KindNull
		}
	}
	if !out.typed() {
		out.cells = make([]Value, 0, out.n)
		for _, p := range parts {
			out.cells = append(out.cells, p.values()...)
		}
		return out
	}
	w := max(out.width, 1)
	for _, p := range parts {
		out.nums = appendSized(out.nums, p.nums, out.n*w)
		out.ints = appendSized(out.ints, p.ints, out.n*w)
		out.strs = appendSized(out.strs, p.strs, out.n*w)
		if nulls {
			out.null = appendSized(out.null, p.nulls(), out.n)
		}
	}
	return out
}

// appendSized appends src to dst, making dst with room for size elements
// first; nil stays nil.
func appendSized[T any](dst, src []T, size int) []T {
	if src == nil {
		return dst
	}
	if dst == nil {
		dst = make([]T, 0, size)
	}
	return append(dst, src...)
}

// nulls returns the null mask, made when the column has none.
func (c *Column) nulls() []bool {
	if c.null == nil {
		return make([]bool, c.n)
	}
	return c.null
}

// values returns every row's cell.
func (c *Column) values() []Value {
	if !c.typed() {
		return c.cells
	}
	out := make([]Value, c.n)
	for r := range out {
		out[r] = c.Value(r)
	}
	return out
}

// Table is a run of rows held as columns, one per field.
type Table struct {
	cols []*Column
	errs []error // why a row could not be read, else nil
	n    int
}

// tableOf turns rows of nf cells into a table.
func tableOf(rows []Row, errs []error, nf int) *Table {
	t := &Table{cols: make([]*Column, nf), errs: errs, n: len(rows)}
	for k := range t.cols {
		cells := make([]Value, len(rows))
		for r, row := range rows {
			cells[r] = row[k]
		}
		t.cols[k] = ValueColumn(cells)
	}
	return t
}

// NewTable makes a table of n rows from its columns, with no row errors.
func NewTable(cols []*Column, n int) *Table { return &Table{cols: cols, n: n} }

// Len is the number of rows.
func (t *Table) Len() int { return t.n }

// Column returns column k, in the order of the fields.
func (t *Table) Column(k int) *Column { return t.cols[k] }

// Errs holds, indexed like the rows, why a row could not be read (the row
// is then null), else nil.
func (t *Table) Errs() []error { return t.errs }

// Rows returns the table's rows, their cells allocated at once.
func (t *Table) Rows() []Row {
	nf := len(t.cols)
	cells := make([]Value, t.n*nf)
	rows := make([]Row, t.n)
	for r := range rows {
		rows[r] = t.fillRow(cells[r*nf:(r+1)*nf:(r+1)*nf], r)
	}
	return rows
}

// Row returns row r's cells.
func (t *Table) Row(r int) Row { return t.fillRow(make(Row, len(t.cols)), r) }

// fillRow sets the cells of row, one per column, to row r's.
func (t *Table) fillRow(row Row, r int) Row {
	for k, c := range t.cols {
		row[k] = c.Value(r)
	}
	return row
}

// concatTables returns the rows of parts, which have the same fields, one
// after the other.
func concatTables(parts []*Table) *Table {
	if len(parts) == 1 {
		return parts[0]
	}
	t := &Table{}
	for _, p := range parts {
		t.n += p.n
		t.errs = append(t.errs, p.errs...)
	}
	if len(parts) == 0 {
		return t
	}
	t.cols = make([]*Column, len(parts[0].cols))
	cols := make([]*Column, len(parts))
	for k := range t.cols {
		for i, p := range parts {
			cols[i] = p.cols[k]
		}
		t.cols[k] = ConcatColumns(cols)
	}
	return t
}

// settle sets the row count of columns filled by appending, and makes the
// bad rows null.
func (t *Table) settle(bad []int) *Table {
	for _, col := range t.cols {
		col.n = t.n
		if len(bad) > 0 {
			col.null = make([]bool, t.n)
			for _, r := range bad {
				col.null[r] = true
			}
		}
	}
	return t
}

// Pick returns the table of the rows at idx.
func (t *Table) Pick(idx []int) *Table {
	out := &Table{cols: make([]*Column, len(t.cols)), errs: make([]error, len(idx)), n: len(idx)}
	for k, c := range t.cols {
		out.cols[k] = c.pick(idx)
	}
	for i, r := range idx {
		out.errs[i] = t.errs[r]
	}
	return out
}
