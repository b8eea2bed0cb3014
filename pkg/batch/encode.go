package batch

import (
	"fmt"
	"sync"

	"github.com/kilnml/kiln/pkg/table"
)

// chunkEncoder turns each scored chunk into a piece of an output part (see
// table.PartFile) on the worker that scored it, so that the ordered writer only
// appends bytes.
type chunkEncoder struct {
	format table.Format
	// fields are the output columns: the kept input columns, then the
	// model's. The first chunk settles the kinds the input left unknown.
	fields  []table.Field
	keep    []int
	settled bool
	pool    sync.Pool // of *table.Encoder
}

// settle fixes, on the first chunk, the kinds of kept columns that the
// input left unknown, from the first values of the rows read without error
// (Parquet needs them before the parallel encoders start). It runs on the
// reading goroutine, before the chunk is handed to a worker.
func (e *chunkEncoder) settle(c *chunk) {
	if e.settled || e.format != table.Parquet {
		return
	}
	e.settled = true
	for j, k := range e.keep {
		for i := range c.in.Len() {
			if c.errs[i] == nil {
				table.SettleKind(&e.fields[j], c.in.Column(k).Value(i))
			}
		}
	}
	for j := range e.fields {
		table.DefaultKind(&e.fields[j])
	}
}

// encode writes the chunk's good rows, kept input columns then outputs,
// into c.piece.
func (e *chunkEncoder) encode(c *chunk) error {
	good := make([]int, 0, c.in.Len())
	for i, err := range c.errs {
		if err == nil {
			good = append(good, i)
		}
	}
	if len(good) == 0 {
		c.piece = nil
		return nil
	}
	cols := make([]table.View, 0, len(e.fields))
	for _, k := range e.keep {
		cols = append(cols, table.View{Col: c.in.Column(k), Rows: good})
	}
	for _, o := range c.out {
		cols = append(cols, table.View{Col: o})
	}
	pe, _ := e.pool.Get().(*table.Encoder)
	if pe == nil {
		pe = table.NewEncoder(e.format, e.fields)
	}
	defer e.pool.Put(pe)
	piece, err := pe.Encode(len(good), cols)
	if err != nil {
		return fmt.Errorf("rows %d-%d: %w", c.first, c.end-1, err)
	}
	c.piece = piece
	return nil
}
