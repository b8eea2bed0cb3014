package batch

import (
	"context"

	"github.com/kilnml/kiln/pkg/table"
)

// Scored is one batch of scored rows, in input order.
type Scored struct {
	// Fields are the input columns and OutputFields the model output columns.
	Fields, OutputFields []table.Field
	// Rows are the input rows, Index their input row numbers.
	Rows  []table.Row
	Index []int64
	// Outputs holds the output cells of each row; nil where Errs says why
	// the row failed.
	Outputs []table.Row
	Errs    []error
}

// ScanOptions say what Scan reads and how.
type ScanOptions struct {
	Input       string
	InputFormat table.Format
	Predictor   Predictor
	Score       ScoreOptions
	BatchSize   int
	Workers     int
	Storage     *table.Storage
}

// Scan scores the whole input with the same readers, mapping and pipeline
// as Run, and calls fn with every batch in input order, without writing
// anything (evaluation uses it).
func Scan(ctx context.Context, opts ScanOptions, fn func(*Scored) error) error {
	cfg := withDefaults(Config{Storage: opts.Storage, BatchSize: opts.BatchSize, Workers: opts.Workers})
	src, err := table.Open(ctx, cfg.Storage, opts.Input, opts.InputFormat)
	if err != nil {
		return err
	}
	defer src.Close()
	sc, err := newScorer(opts.Predictor, src.Fields(), opts.Score)
	if err != nil {
		return err
	}
	outFields := sc.fields()
	p := &pipeline{src: src, sc: sc, batchSize: cfg.BatchSize, workers: cfg.Workers, shard: cfg.Shard}
	return p.run(ctx, func(c *chunk) error {
		outputs := make([]table.Row, c.in.Len())
		scored := table.NewTable(c.out, c.in.Len()-int(c.failed())).Rows()
		for i, e := range c.errs {
			if e == nil {
				outputs[i], scored = scored[0], scored[1:]
			}
		}
		return fn(&Scored{Fields: src.Fields(), OutputFields: outFields, Rows: c.in.Rows(), Index: c.index, Outputs: outputs, Errs: c.errs})
	})
}
