package batch

import (
	"bytes"
	"fmt"
)

// chunkEncoder turns each scored chunk into a piece of an output part (see
// partFile) on the worker that scored it, so that the ordered writer only
// appends bytes.
type chunkEncoder struct {
	format Format
	// fields are the output columns: the kept input columns, then the
	// model's. The first chunk settles the kinds the input left unknown.
	fields  []Field
	keep    []int
	settled bool
}

// settle fixes, on the first chunk, the kinds of kept columns that the
// input left unknown, from the first values of the rows read without error
// (Parquet needs them before the parallel encoders start). It runs on the
// reading goroutine, before the chunk is handed to a worker.
func (e *chunkEncoder) settle(c *chunk) {
	if e.settled || e.format != Parquet {
		return
	}
	e.settled = true
	for j, k := range e.keep {
		for i, r := range c.rows {
			if c.errs[i] == nil {
				settleKind(&e.fields[j], r[k])
			}
		}
	}
	for j := range e.fields {
		defaultKind(&e.fields[j])
	}
}

// encode writes the chunk's good rows, kept input columns then outputs,
// into c.piece.
func (e *chunkEncoder) encode(c *chunk) error {
	out := make([]Row, 0, len(c.rows))
	cells := make([]Value, 0, len(c.rows)*len(e.fields))
	for i, r := range c.rows {
		if c.errs[i] != nil {
			continue
		}
		start := len(cells)
		for _, k := range e.keep {
			cells = append(cells, r[k])
		}
		cells = append(cells, c.out[i]...)
		out = append(out, cells[start:len(cells):len(cells)])
	}
	if len(out) == 0 {
		c.piece = nil
		return nil
	}
	piece, err := encodeRows(e.format, e.fields, out)
	if err != nil {
		return fmt.Errorf("rows %d-%d: %w", c.first, c.end-1, err)
	}
	c.piece = piece
	return nil
}

// encodeRows encodes rows as a piece that a part file of format f appends:
// CSV lines without the header, JSONL lines, or a whole Parquet file whose
// row groups the part splices in.
func encodeRows(f Format, fields []Field, rows []Row) ([]byte, error) {
	var buf bytes.Buffer
	var w RowWriter
	switch f {
	case CSV:
		w = newCSVRecords(&buf, fields)
	case JSONL:
		w = newJSONLWriter(&buf, fields)
	case Parquet:
		w = newParquetWriter(&buf, fields)
	default:
		return nil, fmt.Errorf("unknown format %q", f)
	}
	if err := w.Write(rows); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
