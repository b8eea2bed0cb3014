package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kilnml/kiln/internal/flagenv"
	"github.com/kilnml/kiln/pkg/batch"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/table"
)

// modelFlags are the flags that say which model scores the rows of a table.
type modelFlags struct {
	tableFlags
	model     string
	server    string
	batchSize int
	workers   int
}

// register adds the flags to c; formatFlag and what are those of tableFlags.register.
func (m *modelFlags) register(c *cobra.Command, formatFlag, what string) {
	c.Flags().StringVar(&m.model, "model", "", "NAME@REF in the registry, a FILE.onnx, or with --server the served model NAME")
	c.Flags().StringVar(&m.server, "server", "", "score through a running OIP server at URL instead of in-process")
	c.Flags().IntVar(&m.batchSize, "batch-size", 1024, "rows per model run")
	c.Flags().IntVar(&m.workers, "workers", 2, "batches scored at once")
	m.tableFlags.register(c, formatFlag, what)
}

// loadedModel is a predictor with what --record needs.
type loadedModel struct {
	pred batch.Predictor
	// version is set for registry models.
	version *registry.Version
	close   func()
}

// loadModel opens ref: a served model with --server, else a local .onnx
// file, else NAME@REF downloaded from the registry (sha256 verified).
func (g *globals) loadModel(ctx context.Context, m *modelFlags, ref string) (*loadedModel, error) {
	if m.server != "" {
		name, version, _ := strings.Cut(ref, "@")
		p, err := batch.NewServerPredictor(ctx, oip.NewClient(m.server), name, version)
		if err != nil {
			return nil, err
		}
		return &loadedModel{pred: p, close: func() {}}, nil
	}
	model, version, digest, err := openRuntimeModel(ctx, g.client(), ref, m.ortLib)
	if err != nil {
		return nil, err
	}
	return &loadedModel{pred: &batch.RuntimePredictor{Model: model, Digest: digest}, version: version, close: func() { model.Close() }}, nil
}

// openRuntimeModel loads a local .onnx file, or NAME@REF downloaded from the
// registry into a temporary folder (size and sha256 verified), into ONNX
// Runtime; version is nil for a local file.
func openRuntimeModel(ctx context.Context, client *registry.Client, ref, ortLib string) (model *runtime.Model, version *registry.Version, digest string, err error) {
	path := ref
	if _, err := os.Stat(ref); err == nil {
		if digest, err = registry.FileDigest(ref); err != nil {
			return nil, nil, "", err
		}
	} else {
		r, perr := registry.ParseRef(ref)
		if perr != nil {
			return nil, nil, "", fmt.Errorf("--model %q is neither a file nor NAME@REF: %w", ref, perr)
		}
		dir, err := os.MkdirTemp("", "kiln-model-")
		if err != nil {
			return nil, nil, "", err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "model.onnx")
		if version, err = client.DownloadFile(ctx, r, path); err != nil {
			return nil, nil, "", err
		}
		digest = version.Digest
	}
	if err := runtime.Init(runtime.FindLibrary(ortLib)); err != nil {
		return nil, nil, "", err
	}
	if model, err = runtime.Load(path, runtime.Options{}); err != nil {
		if version != nil {
			err = fmt.Errorf("load %s: %w", version.Ref(), err)
		}
		return nil, nil, "", err
	}
	return model, version, digest, nil
}

func batchCommand(g *globals) *cobra.Command {
	var (
		m                         modelFlags
		input, output, errorsPath string
		outFormat, keep, onError  string
		shard                     string
		expand, overwrite         bool
		partRows                  int64
	)
	c := &cobra.Command{
		Use:   "batch --model NAME@REF|FILE.onnx --input PATH --output PATH",
		Short: "Score a CSV, JSONL or Parquet file (local or s3://) with a model, resumably",
		Long: `Score every row of a CSV, JSONL or Parquet file, a folder of them, or an
s3:// object or prefix, and write the input columns plus one column per model
output. A job that is stopped (even killed) resumes from its checkpoint when
the same command runs again. --shard i/N scores every N-th row starting at i;
"{shard}" in --output is replaced by i.`,
		Args: exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			if m.model == "" || input == "" || output == "" {
				return usage(c, errors.New("--model, --input and --output are required"))
			}
			if onError != "fail" && onError != "skip" {
				return usage(c, fmt.Errorf("--on-error %q: want fail or skip", onError))
			}
			sh, err := batch.ParseShard(shard)
			if err != nil {
				return usage(c, err)
			}
			inF, err := m.inputFormat()
			if err != nil {
				return usage(c, err)
			}
			outF, err := table.ParseFormat(outFormat)
			if err != nil {
				return usage(c, err)
			}
			score, err := m.scoreOptions()
			if err != nil {
				return usage(c, err)
			}
			score.Expand = expand
			cfg := batch.Config{
				Input: input, Output: strings.ReplaceAll(output, "{shard}", fmt.Sprint(sh.Index)), Errors: errorsPath,
				InputFormat: inF, OutputFormat: outF, Score: score, BatchSize: m.batchSize, Workers: m.workers,
				SkipBadRows: onError == "skip", Shard: sh, PartRows: partRows, Overwrite: overwrite, Storage: m.storage(),
			}
			if c.Flags().Changed("keep") {
				cfg.Keep = []string{}
				if keep != "" {
					cfg.Keep = strings.Split(keep, ",")
				}
			}
			lm, err := g.loadModel(c.Context(), &m, m.model)
			if err != nil {
				return err
			}
			defer lm.close()
			cfg.Predictor = lm.pred
			progress := batch.NewProgressPrinter(c.ErrOrStderr(), term.IsTerminal(int(os.Stderr.Fd())))
			cfg.Progress = progress.Update
			sum, err := batch.Run(c.Context(), cfg)
			progress.Done()
			var rowErr *batch.RowError
			if errors.As(err, &rowErr) {
				return fmt.Errorf("%w (fix the row, or pass --on-error skip to write bad rows to %s and go on; rerunning resumes after the rows already written)", err, cfg.Output+".errors.jsonl")
			}
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), sum)
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %s: %d rows, %d failed, %.1fs, %.0f rows/s", sum.Output, sum.Rows, sum.Failed, sum.Seconds, sum.RowsPerSecond)
			if sum.Resumed > 0 {
				fmt.Fprintf(c.OutOrStdout(), " (resumed after %d rows)", sum.Resumed)
			}
			if sum.Errors != "" {
				fmt.Fprintf(c.OutOrStdout(), "; bad rows in %s", sum.Errors)
			}
			fmt.Fprintln(c.OutOrStdout())
			return nil
		},
	}
	m.register(c, "input-format", "the input")
	f := c.Flags()
	f.StringVar(&input, "input", "", "file, folder, or s3://bucket/key or prefix to score")
	f.StringVar(&output, "output", "", "file or s3://bucket/key to write")
	f.StringVar(&errorsPath, "errors", "", "where --on-error skip writes bad rows (default OUTPUT.errors.jsonl)")
	f.StringVar(&outFormat, "output-format", "", "csv, jsonl or parquet (default: from the file name)")
	f.StringVar(&keep, "keep", "", "input columns to copy to the output, comma separated (default all; empty for none)")
	f.StringVar(&onError, "on-error", "fail", "fail: stop at the first bad row; skip: write bad rows with their reason to the errors file")
	f.StringVar(&shard, "shard", "", "score shard INDEX/COUNT of the rows")
	f.BoolVar(&expand, "expand", false, "one column per element of vector outputs (name_0, name_1, ...) instead of a list")
	f.BoolVar(&overwrite, "overwrite", false, "replace an existing output and discard another job's checkpoint")
	f.Int64Var(&partRows, "checkpoint-rows", 0, "input rows per checkpointed part (default 64 batches)")
	flagenv.Bind(f, "shard")
	return c
}
