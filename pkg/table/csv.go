package table

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// csvReader reads a CSV file with a header line; every cell is a string.
type csvReader struct {
	r      *csv.Reader
	count  *countingReader
	size   int64
	fields []Field
	line   int
}

func newCSVReader(r io.Reader, size int64) (*csvReader, error) {
	count := &countingReader{r: r}
	cr := csv.NewReader(count)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("CSV file is empty: the first line must name the columns")
	}
	if err != nil {
		return nil, fmt.Errorf("CSV header: %w", err)
	}
	fields := make([]Field, len(header))
	seen := map[string]bool{}
	for i, name := range header {
		if seen[name] {
			return nil, fmt.Errorf("CSV header names column %q twice", name)
		}
		seen[name] = true
		fields[i] = Field{Name: name, Kind: KindString}
	}
	return &csvReader{r: cr, count: count, size: size, fields: fields}, nil
}

func (c *csvReader) Fields() []Field { return c.fields }

// ReadTable reads up to n records into string columns; a record that
// does not parse is a null row with its error.
func (c *csvReader) ReadTable(n int) (*Table, error) {
	size := min(n, 4096)
	t := &Table{cols: make([]*Column, len(c.fields)), errs: make([]error, 0, size)}
	for i := range t.cols {
		t.cols[i] = &Column{kind: KindString, strs: make([]string, 0, size)}
	}
	var bad []int
	var err error
	for ; t.n < n; t.n++ {
		var rec []string
		if rec, err = c.r.Read(); errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		switch {
		case errors.Is(err, csv.ErrFieldCount):
			err = fmt.Errorf("has %d fields, the header has %d", len(rec), len(c.fields))
		case errors.As(err, &pe):
			err = fmt.Errorf("CSV: %v", pe.Err)
		case err != nil:
			return t.settle(bad), fmt.Errorf("read CSV: %w", err)
		}
		if err != nil {
			bad = append(bad, t.n)
		}
		for i, col := range t.cols {
			s := ""
			if err == nil {
				s = rec[i]
			}
			col.strs = append(col.strs, s)
		}
		t.errs = append(t.errs, err)
	}
	return t.settle(bad), err
}

func (c *csvReader) Skip(n int64) (int64, error) {
	var done int64
	for ; done < n; done++ {
		if _, err := c.r.Read(); errors.Is(err, io.EOF) {
			return done, nil
		} else if err != nil && !errors.Is(err, csv.ErrFieldCount) {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return done, fmt.Errorf("read CSV: %w", err)
			}
		}
	}
	return done, nil
}

func (c *csvReader) Fraction() float64 { return fraction(c.count.n, c.size) }

func (c *csvReader) Close() error { return nil }

// csvWriter writes a header line (newCSVWriter), then one line per row.
type csvWriter struct {
	w      *csv.Writer
	record []string
}

func newCSVWriter(w io.Writer, fields []Field) (*csvWriter, error) {
	c := newCSVRecords(w, fields)
	if err := c.w.Write(FieldNames(fields)); err != nil {
		return nil, err
	}
	return c, nil
}

// newCSVRecords writes the lines of rows without a header.
func newCSVRecords(w io.Writer, fields []Field) *csvWriter {
	return &csvWriter{w: csv.NewWriter(w), record: make([]string, len(fields))}
}

// csvHeader returns the header line of a CSV file with fields.
func csvHeader(fields []Field) ([]byte, error) {
	var b bytes.Buffer
	w, err := newCSVWriter(&b, fields)
	if err == nil {
		err = w.Close()
	}
	return b.Bytes(), err
}

func (c *csvWriter) Write(rows []Row) error {
	return c.writeColumns(len(rows), rowViews(rows, len(c.record)))
}

func (c *csvWriter) writeColumns(n int, cols []View) error {
	for r := range n {
		for i := range c.record {
			c.record[i] = cols[i].text(r)
		}
		if err := c.w.Write(c.record); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) Close() error {
	c.w.Flush()
	return c.w.Error()
}
