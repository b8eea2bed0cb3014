package batch

import (
	"bytes"
	"fmt"
	"sync"
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
	pool    sync.Pool // of *pieceEncoder
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
		for i := range c.in.n {
			if c.errs[i] == nil {
				settleKind(&e.fields[j], c.in.cols[k].value(i))
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
	good := make([]int, 0, c.in.n)
	for i, err := range c.errs {
		if err == nil {
			good = append(good, i)
		}
	}
	if len(good) == 0 {
		c.piece = nil
		return nil
	}
	cols := make([]colView, 0, len(e.fields))
	for _, k := range e.keep {
		cols = append(cols, colView{col: c.in.cols[k], rows: good})
	}
	for _, o := range c.out {
		cols = append(cols, colView{col: o})
	}
	pe, _ := e.pool.Get().(*pieceEncoder)
	if pe == nil {
		pe = newPieceEncoder(e.format, e.fields)
	}
	defer e.pool.Put(pe)
	piece, err := pe.encode(len(good), cols)
	if err != nil {
		return fmt.Errorf("rows %d-%d: %w", c.first, c.end-1, err)
	}
	c.piece = piece
	return nil
}

// pieceEncoder encodes rows into a buffer it reuses.
type pieceEncoder struct {
	buf bytes.Buffer
	w   columnsWriter
}

func newPieceEncoder(f Format, fields []Field) *pieceEncoder {
	pe := &pieceEncoder{}
	switch f {
	case CSV:
		pe.w = newCSVRecords(&pe.buf, fields)
	case JSONL:
		pe.w = newJSONLWriter(&pe.buf, fields)
	default:
		pe.w = newParquetWriter(&pe.buf, fields)
	}
	return pe
}

// encode returns n rows encoded as a piece that a part file of the
// encoder's format appends: CSV lines without the header, JSONL lines, or a
// whole Parquet file whose row groups the part splices in.
func (pe *pieceEncoder) encode(n int, cols []colView) ([]byte, error) {
	pe.buf.Reset()
	if pq, ok := pe.w.(*parquetWriter); ok {
		defer pq.reset()
	}
	if err := pe.w.writeColumns(n, cols); err != nil {
		return nil, err
	}
	if err := pe.w.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(pe.buf.Bytes()), nil
}
