package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/table"
)

// chunk is a run of consecutive input rows, scored together.
type chunk struct {
	seq        int64
	first, end int64        // the input rows [first, end) this chunk covers
	in         *table.Table // the rows of this shard
	index      []int64      // the input row number of each row
	errs       []error      // why a row failed (reading or scoring), else nil
	// out holds the model output columns, a row for each good row in order.
	out      []*table.Column
	piece    []byte  // the good rows encoded for the output (see chunkEncoder)
	fraction float64 // how much of the input was read with this chunk
}

// failed counts the chunk's bad rows.
func (c *chunk) failed() int64 {
	var n int64
	for _, e := range c.errs {
		if e != nil {
			n++
		}
	}
	return n
}

// scorer turns rows into model output cells.
type scorer struct {
	pred    Predictor
	inputs  []*inputBinding
	outputs []outputColumn
	// perRow models take one row per run (see inputBinding.perRow): each
	// output, whatever its shape, is that row's value.
	perRow bool
}

// ScoreOptions say how columns map onto the model.
type ScoreOptions struct {
	// Features are the columns of a single-input model, in order; empty
	// means the model's feature_names metadata or a column named like the input.
	Features []string
	// Mapping maps each model input to its columns.
	Mapping map[string][]string
	// Expand writes one column per element of vector outputs instead of a list.
	Expand bool
}

func newScorer(pred Predictor, fields []table.Field, opts ScoreOptions) (*scorer, error) {
	inputs, outputs := pred.Signature()
	bindings, err := bindInputs(inputs, pred.Metadata(), fields, opts.Features, opts.Mapping)
	if err != nil {
		return nil, err
	}
	perRow := false
	for _, b := range bindings {
		if _, err := newTensorBuilder(b.meta.Datatype, 0); err != nil {
			return nil, fmt.Errorf("model input %q: %w", b.meta.Name, err)
		}
		perRow = perRow || b.perRow()
	}
	if perRow {
		outputs = slices.Clone(outputs)
		for i, o := range outputs {
			outputs[i].Shape = oneRow(o.Shape)
		}
	}
	cols, err := outputColumns(outputs, opts.Expand)
	if err != nil {
		return nil, err
	}
	return &scorer{pred: pred, inputs: bindings, outputs: cols, perRow: perRow}, nil
}

// fields lists the output columns.
func (s *scorer) fields() []table.Field {
	out := make([]table.Field, len(s.outputs))
	for i, c := range s.outputs {
		out[i] = c.field
	}
	return out
}

// prepare runs before chunks are scored in parallel.
func (s *scorer) prepare(c *chunk) error {
	for _, b := range s.inputs {
		if err := b.learnWidth(c.in, c.errs); err != nil {
			return err
		}
	}
	return nil
}

// score fills c.out for good rows and c.errs for bad ones, running the
// model on batches of up to batchSize rows.
func (s *scorer) score(ctx context.Context, c *chunk, batchSize int) error {
	if s.perRow {
		batchSize = 1
	}
	parts := make([][]*table.Column, len(s.outputs))
	good := make([]int, 0, min(batchSize, c.in.Len()))
	for lo := 0; lo < c.in.Len(); lo += batchSize {
		good = good[:0]
		for i := lo; i < min(lo+batchSize, c.in.Len()); i++ {
			if c.errs[i] == nil {
				good = append(good, i)
			}
		}
		if err := s.run(ctx, c, good, parts); err != nil {
			return err
		}
	}
	c.out = make([]*table.Column, len(s.outputs))
	for k, p := range parts {
		if len(p) > 0 {
			c.out[k] = table.ConcatColumns(p)
		}
	}
	return nil
}

// run scores the rows at idx and appends each output column's part to
// parts; when the model rejects the batch it splits it to find the rows to
// blame. Rows are scored in order, so the parts come in row order.
func (s *scorer) run(ctx context.Context, c *chunk, idx []int, parts [][]*table.Column) error {
	tensors, idx := s.tensors(c, idx)
	if len(idx) == 0 {
		return nil
	}
	outs, err := s.pred.Predict(ctx, tensors)
	if errors.Is(err, ErrBadInput) {
		if len(idx) == 1 {
			c.errs[idx[0]] = err
			return nil
		}
		half := len(idx) / 2
		if err := s.run(ctx, c, idx[:half], parts); err != nil {
			return err
		}
		return s.run(ctx, c, idx[half:], parts)
	}
	if err != nil {
		return fmt.Errorf("rows %d-%d: %w", c.index[idx[0]], c.index[idx[len(idx)-1]], err)
	}
	if s.perRow {
		outs = asOneRow(outs)
	}
	cols, err := outputTable(s.outputs, outs, len(idx))
	if err != nil {
		return fmt.Errorf("rows %d-%d: %w", c.index[idx[0]], c.index[idx[len(idx)-1]], err)
	}
	for k, col := range cols {
		parts[k] = append(parts[k], col)
	}
	return nil
}

// tensors builds the input tensors from the rows at idx, marking the rows
// whose values do not convert; it returns the rows it kept.
func (s *scorer) tensors(c *chunk, idx []int) ([]*oip.Tensor, []int) {
	builders := make([]tensorBuilder, len(s.inputs))
	for i, b := range s.inputs {
		builders[i], _ = newTensorBuilder(b.meta.Datatype, len(idx)*b.width)
		b.fill(builders[i], c.in, idx, c.errs)
	}
	rows := idx
	if bad := slices.ContainsFunc(idx, func(r int) bool { return c.errs[r] != nil }); bad {
		var kept []int
		rows = nil
		for j, r := range idx {
			if c.errs[r] == nil {
				kept, rows = append(kept, j), append(rows, r)
			}
		}
		for i, b := range s.inputs {
			builders[i].keep(kept, b.width)
		}
	}
	tensors := make([]*oip.Tensor, len(s.inputs))
	for i, b := range s.inputs {
		shape := append([]int64{int64(len(rows))}, b.rowShape...)
		if b.scalar {
			shape = []int64{}
		}
		tensors[i] = builders[i].tensor(b.meta.Name, shape)
	}
	return tensors, rows
}

// oneRow is the shape of the one row a whole output of the given shape
// makes: [1] (one value) when it always holds one element, else [1, -1] (a list).
func oneRow(shape []int64) []int64 {
	for _, d := range shape {
		if d != 1 {
			return []int64{1, -1}
		}
	}
	return []int64{1}
}

// asOneRow views each output as one row holding all its elements: [1, n].
func asOneRow(outs []*oip.Tensor) []*oip.Tensor {
	rows := make([]*oip.Tensor, len(outs))
	for i, t := range outs {
		n, _ := t.NumElements()
		row := *t
		row.Shape = []int64{1, n}
		rows[i] = &row
	}
	return rows
}
