package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kilnml/kiln/pkg/table"
)

// Config describes a batch scoring job.
type Config struct {
	// Input is a file, a folder, or an s3:// object or prefix.
	Input string
	// Output is a file or an s3:// object.
	Output string
	// Errors receives the bad rows when SkipBadRows is set; empty means
	// Output + ".errors.jsonl".
	Errors string
	// InputFormat and OutputFormat default to what the names' extensions say.
	InputFormat, OutputFormat table.Format
	Predictor                 Predictor
	Score                     ScoreOptions
	// Keep lists the input columns copied to the output; nil means all.
	Keep []string
	// BatchSize is the number of rows per model run (default 1024).
	BatchSize int
	// Workers is the number of batches scored at once (default 1).
	Workers int
	// SkipBadRows writes bad rows to Errors and goes on; otherwise the first
	// bad row stops the job with a *RowError.
	SkipBadRows bool
	// Shard picks the part of the input this job scores.
	Shard Shard
	// PartRows is how many input rows one checkpointed part covers
	// (default 64 batches).
	PartRows int64
	// Overwrite replaces an existing output and discards a checkpoint left
	// by a different job.
	Overwrite bool
	Storage   *table.Storage
	// Progress, when set, is called after every chunk (up to 8 batches) written.
	Progress func(Progress)
}

// Progress is the state of a running job.
type Progress struct {
	// Rows is the number of rows of the shard done, Failed the bad ones.
	Rows, Failed int64
	// Fraction is how much of the input has been read, 0 to 1.
	Fraction float64
	// Resumed is the number of rows done by earlier runs.
	Resumed int64
	Elapsed time.Duration
}

// Summary reports a finished job.
type Summary struct {
	Output string `json:"output"`
	// Errors is the bad rows file, empty when no row failed.
	Errors string `json:"errors,omitempty"`
	// Rows counts the shard's rows, Written those in the output and Failed the bad ones.
	Rows    int64 `json:"rows"`
	Written int64 `json:"written"`
	Failed  int64 `json:"failed"`
	// Resumed is the number of rows done by earlier runs of the job.
	Resumed int64 `json:"resumed"`
	// Seconds is this run's time; RowsPerSecond counts this run's rows.
	Seconds       float64 `json:"seconds"`
	RowsPerSecond float64 `json:"rows_per_second"`
}

// ErrOutputExists is returned when the output exists and the job has no
// checkpoint to resume from; Config.Overwrite replaces it.
var ErrOutputExists = errors.New("output already exists")

// ErrOtherJob is returned when the output's work folder holds the
// checkpoint of a job with another input, model or options;
// Config.Overwrite discards it.
var ErrOtherJob = errors.New("holds the checkpoint of a different job")

// ErrInputChanged is returned when the input has fewer rows than the
// checkpoint has done; Config.Overwrite starts over.
var ErrInputChanged = errors.New("the input changed")

// KeepError is a Config.Keep entry that names no input column.
type KeepError struct {
	// Column is the entry; Columns are the input's columns.
	Column  string
	Columns []string
}

func (e *KeepError) Error() string {
	return fmt.Sprintf("kept column %q is not an input column (columns: %s)", e.Column, strings.Join(e.Columns, ", "))
}

// DuplicateColumnError is an output that would have two columns of one
// name, a kept input column and a model output: Config.Keep can leave the
// input column out.
type DuplicateColumnError struct {
	Name string
}

func (e *DuplicateColumnError) Error() string {
	return fmt.Sprintf("the output would have two columns named %q (an input column and a model output)", e.Name)
}

// Run scores the input and writes the output. A job stopped at any point
// (even by SIGKILL) and run again with the same Config resumes from its
// checkpoint in Output + ".kiln-batch"; the output then holds every input
// row of the shard exactly once, in input order.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	start := time.Now()
	cfg = withDefaults(cfg)
	st := cfg.Storage
	outLoc, err := table.ParseLocation(cfg.Output)
	if err != nil {
		return nil, err
	}
	errLoc, err := table.ParseLocation(cfg.Errors)
	if err != nil {
		return nil, err
	}
	if cfg.OutputFormat == "" {
		if cfg.OutputFormat, err = table.DetectFormat(cfg.Output); err != nil {
			return nil, err
		}
	}
	src, err := table.Open(ctx, st, cfg.Input, cfg.InputFormat)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	sc, err := newScorer(cfg.Predictor, src.Fields(), cfg.Score)
	if err != nil {
		return nil, err
	}
	keep, err := keepColumns(src.Fields(), cfg.Keep)
	if err != nil {
		return nil, err
	}
	fields := make([]table.Field, 0, len(keep)+len(sc.outputs))
	for _, k := range keep {
		fields = append(fields, src.Fields()[k])
	}
	fields = append(fields, sc.fields()...)
	if err := uniqueNames(fields); err != nil {
		return nil, err
	}

	dir := outLoc.WithSuffix(".kiln-batch")
	fp := fingerprint(map[string]any{
		"files": src.Files(), "model": cfg.Predictor.ID(), "input_format": src.Format(), "output": outLoc.String(),
		"output_format": cfg.OutputFormat, "keep": cfg.Keep, "score": cfg.Score, "skip": cfg.SkipBadRows, "shard": cfg.Shard,
	})
	cp, err := prepareCheckpoint(ctx, st, dir, outLoc, fp, cfg.Overwrite)
	if err != nil {
		return nil, err
	}
	resumed := cp.Rows
	if !cp.Done {
		if err := score(ctx, cfg, src, sc, dir, cp, fields, keep, start); err != nil {
			return nil, err
		}
	}
	if err := assemble(ctx, st, cfg.OutputFormat, dir, cp.Parts, fields, outLoc); err != nil {
		return nil, err
	}
	sum := &Summary{Output: outLoc.String(), Rows: cp.Rows, Failed: cp.Failed, Written: cp.Rows - cp.Failed, Resumed: resumed}
	if cp.Failed > 0 {
		var names []string
		for _, p := range cp.Parts {
			if p.Errors != "" {
				names = append(names, p.Errors)
			}
		}
		if err := joinInto(ctx, st, table.JSONL, dir, names, nil, errLoc); err != nil {
			return nil, err
		}
		sum.Errors = errLoc.String()
	}
	if err := st.RemoveAll(ctx, dir); err != nil {
		return nil, fmt.Errorf("remove the work folder %s: %w", dir, err)
	}
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.RowsPerSecond = float64(sum.Rows-resumed) / sum.Seconds
	}
	return sum, nil
}

// maxChunkBatches and maxChunkValues bound the rows of one chunk, the
// unit a worker scores and encodes (a Parquet row group of the output).
const (
	maxChunkBatches = 8
	maxChunkValues  = 256 << 10
)

// batchesPerChunk is how many batches one chunk holds: at most
// maxChunkBatches and maxChunkValues cells of columns columns, at least one,
// and a part's batches split evenly so that parts end where asked.
func batchesPerChunk(cfg Config, columns int) int {
	per := int64(cfg.BatchSize) * int64(cfg.Shard.Count)
	limit := max(min(maxChunkValues/(per*int64(max(columns, 1))), maxChunkBatches), 1)
	partBatches := max(cfg.PartRows/per, 1)
	chunks := (partBatches + limit - 1) / limit
	return int((partBatches + chunks - 1) / chunks)
}

func withDefaults(cfg Config) Config {
	if cfg.Storage == nil {
		cfg.Storage = table.NewStorage(table.S3OptionsFromEnv())
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1024
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Shard.Count <= 0 {
		cfg.Shard = Shard{Index: 0, Count: 1}
	}
	if cfg.PartRows <= 0 {
		cfg.PartRows = 64 * int64(cfg.BatchSize) * int64(cfg.Shard.Count)
	}
	if cfg.Errors == "" {
		cfg.Errors = strings.TrimSuffix(cfg.Output, "/") + ".errors.jsonl"
	}
	return cfg
}

func keepColumns(fields []table.Field, keep []string) ([]int, error) {
	if keep == nil {
		idx := make([]int, len(fields))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	idx := []int{}
	for _, name := range keep {
		i := indexOfField(fields, name)
		if i < 0 {
			return nil, &KeepError{Column: name, Columns: table.FieldNames(fields)}
		}
		idx = append(idx, i)
	}
	return idx, nil
}

func indexOfField(fields []table.Field, name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func uniqueNames(fields []table.Field) error {
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.Name] {
			return &DuplicateColumnError{Name: f.Name}
		}
		seen[f.Name] = true
	}
	return nil
}

// prepareCheckpoint loads the job's checkpoint or starts a new one.
func prepareCheckpoint(ctx context.Context, st *table.Storage, dir, out table.Location, fp string, overwrite bool) (*checkpoint, error) {
	cp, err := loadCheckpoint(ctx, st, dir)
	if err != nil {
		return nil, err
	}
	if cp != nil && cp.Fingerprint == fp {
		return cp, nil
	}
	if cp != nil && !overwrite {
		return nil, fmt.Errorf("%s %w (the input, model or options changed)", dir, ErrOtherJob)
	}
	if cp == nil && !overwrite {
		exists, err := st.Exists(ctx, out)
		if err != nil {
			return nil, err
		}
		if exists {
			return nil, fmt.Errorf("%s: %w", out, ErrOutputExists)
		}
	}
	if err := st.RemoveAll(ctx, dir); err != nil {
		return nil, err
	}
	return &checkpoint{Fingerprint: fp}, nil
}

// score runs the pipeline from the checkpoint's next row to the end.
func score(ctx context.Context, cfg Config, src *table.Source, sc *scorer, dir table.Location, cp *checkpoint, fields []table.Field, keep []int, start time.Time) error {
	if cp.NextRow > 0 {
		n, err := src.Skip(cp.NextRow)
		if err != nil {
			return err
		}
		if n != cp.NextRow {
			return fmt.Errorf("the checkpoint is at row %d but the input has only %d rows: %w", cp.NextRow, n, ErrInputChanged)
		}
	}
	enc := &chunkEncoder{format: cfg.OutputFormat, fields: slices.Clone(fields), keep: keep}
	pw := &partWriter{
		ctx: ctx, st: cfg.Storage, dir: dir, format: cfg.OutputFormat, in: src.Fields(), enc: enc,
		skip: cfg.SkipBadRows, partRows: cfg.PartRows, cp: cp,
	}
	if cfg.Progress != nil {
		resumed := cp.Rows
		pw.progress = func(rows, failed int64, fraction float64) {
			cfg.Progress(Progress{Rows: rows, Failed: failed, Fraction: fraction, Resumed: resumed, Elapsed: time.Since(start)})
		}
	}
	p := &pipeline{
		src: src, sc: sc, batchSize: cfg.BatchSize, workers: cfg.Workers, shard: cfg.Shard, next: cp.NextRow, enc: enc,
		batches: batchesPerChunk(cfg, len(src.Fields())+len(fields)),
	}
	if err := p.run(ctx, pw.add); err != nil {
		pw.abort()
		return err
	}
	return pw.finish()
}
