package table

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format is a tabular file format.
type Format string

// The supported formats.
const (
	CSV     Format = "csv"
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
)

// ParseFormat checks a format name ("" means unknown, to be detected).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", CSV, JSONL, Parquet:
		return f, nil
	case "ndjson", "json":
		return JSONL, nil
	}
	return "", fmt.Errorf("format %q: want csv, jsonl or parquet", s)
}

// DetectFormat returns the format a file name's extension names.
func DetectFormat(name string) (Format, error) {
	lower := strings.ToLower(strings.TrimSuffix(name, "/"))
	for f, exts := range formatExts {
		for _, e := range exts {
			if strings.HasSuffix(lower, e) {
				return f, nil
			}
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrUnknownFormat)
}

// ErrUnknownFormat is returned when a file's name does not tell its
// format: the caller has to name it.
var ErrUnknownFormat = errors.New("cannot tell the format from the name")

var formatExts = map[Format][]string{
	CSV:     {".csv"},
	JSONL:   {".jsonl", ".ndjson", ".json"},
	Parquet: {".parquet", ".pq"},
}

// Ext is the file extension written for the format.
func (f Format) Ext() string { return "." + string(f) }

// RowReader reads the rows of one tabular file in order.
type RowReader interface {
	// Fields lists the columns; a Kind may be KindNull while unknown.
	Fields() []Field
	// Read appends up to n rows to dst and returns io.EOF once no row is
	// left. A row that cannot be parsed comes back with its error in errs
	// (indexed like the appended rows), not as the returned error.
	Read(dst []Row, errs []error, n int) ([]Row, []error, error)
	// Skip discards up to n rows and returns how many it discarded.
	Skip(n int64) (int64, error)
	// Fraction is how much of the file has been read, 0 to 1.
	Fraction() float64
	Close() error
}

// RowWriter writes rows of fixed fields to one file.
type RowWriter interface {
	Write(rows []Row) error
	// Close flushes what is buffered; it does not close the underlying writer.
	Close() error
}

// columnsWriter is a RowWriter that can also take n rows from columns, so
// that no Row is built.
type columnsWriter interface {
	RowWriter
	writeColumns(n int, cols []View) error
}

// View is a column seen through a list of its rows: output row i is
// the column's row Rows[i] (row i when Rows is nil).
type View struct {
	Col  *Column
	Rows []int
}

// row returns the column's row for output row i.
func (v View) row(i int) int {
	if v.Rows == nil {
		return i
	}
	return v.Rows[i]
}

// value returns the cell of output row i.
func (v View) Value(i int) Value { return v.Col.Value(v.row(i)) }

// appendJSON appends the cell of output row i as JSON (see
// Value.AppendJSON); a typed list's elements are written without making
// cells.
func (v View) appendJSON(b []byte, i int) []byte {
	c, r := v.Col, v.row(i)
	if !c.typed() || c.width == 0 {
		return c.Value(r).AppendJSON(b)
	}
	b = append(b, '[')
	for e := range c.width {
		if e > 0 {
			b = append(b, ',')
		}
		b = c.element(r*c.width + e).AppendJSON(b)
	}
	return append(b, ']')
}

// text returns the cell of output row i as CSV writes it (see Value.Text).
func (v View) text(i int) string {
	if v.Col.typed() && v.Col.width > 0 {
		return string(v.appendJSON(nil, i))
	}
	return v.Value(i).Text()
}

// rowViews shows rows of nf cells as columns.
func rowViews(rows []Row, nf int) []View {
	views := make([]View, nf)
	for k, c := range tableOf(rows, nil, nf).cols {
		views[k] = View{Col: c}
	}
	return views
}

// Reader reads the rows of one tabular file (or of several, see Open) in
// order, as columns.
type Reader interface {
	// Fields lists the columns; a Kind may be KindNull while unknown.
	Fields() []Field
	// ReadTable reads up to n rows and returns io.EOF once no row is left.
	// A row that cannot be parsed comes back null with its error in the
	// table's Errs, not as the returned error.
	ReadTable(n int) (*Table, error)
	// Skip discards up to n rows and returns how many it discarded.
	Skip(n int64) (int64, error)
	// Fraction is how much has been read, 0 to 1.
	Fraction() float64
	Close() error
}

// rowReader serves a Reader's rows as Rows.
type rowReader struct{ Reader }

func (r rowReader) Read(dst []Row, errs []error, n int) ([]Row, []error, error) {
	t, err := r.ReadTable(n)
	return append(dst, t.Rows()...), append(errs, t.errs...), err
}

// NewRowReader reads a file of format f from r (size bytes; parquet needs
// the io.ReaderAt).
func NewRowReader(f Format, r ReadAtCloser, size int64) (RowReader, error) {
	tr, err := NewReader(f, r, size)
	if err != nil {
		return nil, err
	}
	return rowReader{tr}, nil
}

// NewReader reads a file of format f from r (size bytes; parquet needs
// the io.ReaderAt) as columns.
func NewReader(f Format, r ReadAtCloser, size int64) (Reader, error) {
	switch f {
	case CSV:
		return newCSVReader(r, size)
	case JSONL:
		return newJSONLReader(r, size)
	case Parquet:
		return newParquetReader(r, size)
	}
	return nil, fmt.Errorf("unknown format %q", f)
}

// NewRowWriter writes rows with the given fields in format f to w.
func NewRowWriter(f Format, w io.Writer, fields []Field) (RowWriter, error) {
	switch f {
	case CSV:
		return newCSVWriter(w, fields)
	case JSONL:
		return newJSONLWriter(w, fields), nil
	case Parquet:
		return newParquetWriter(w, fields), nil
	}
	return nil, fmt.Errorf("unknown format %q", f)
}
