package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/batch"
	"github.com/kilnml/kiln/pkg/eval"
	"github.com/kilnml/kiln/pkg/registry"
)

// evalFlags say what to evaluate against.
type evalFlags struct {
	data, label, task        string
	labelOutput, probaOutput string
	predictionOutput         string
}

func evaluateCommand(g *globals) *cobra.Command {
	var (
		m        modelFlags
		e        evalFlags
		baseline string
		report   string
		record   bool
		worst    int
	)
	c := &cobra.Command{
		Use:   "evaluate --model NAME@REF|FILE.onnx --data PATH --label COL --task classification|regression",
		Short: "Measure a model on labelled data, against baselines",
		Long: `Score labelled data (CSV, JSONL or Parquet, local or s3://) and report
classification metrics (accuracy, balanced accuracy, precision, recall, F1,
ROC AUC, log loss, confusion matrix) or regression metrics (MAE, RMSE, R²,
MAPE, residual quantiles), next to a majority-class or mean baseline and,
with --baseline, another model version. --record stores the metrics on the
registry version, where validation gates read them.`,
		Args: exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			if m.model == "" || e.data == "" || e.label == "" {
				return usage(c, errors.New("--model, --data and --label are required"))
			}
			if e.task != eval.TaskClassification && e.task != eval.TaskRegression {
				return usage(c, fmt.Errorf("--task %q: want classification or regression", e.task))
			}
			if _, err := m.inputFormat(); err != nil {
				return usage(c, err)
			}
			lm, err := g.loadModel(c.Context(), &m, m.model)
			if err != nil {
				return err
			}
			defer lm.close()
			if record && lm.version == nil {
				return usage(c, errors.New("--record needs a registry model (--model NAME@REF)"))
			}
			preds, err := e.collect(c.Context(), &m, lm.pred)
			if err != nil {
				return err
			}
			rep, err := preds.Report(m.model, e.data, worst)
			if err != nil {
				return err
			}
			if baseline != "" {
				b, err := e.baseline(c.Context(), g, &m, baseline)
				if err != nil {
					return err
				}
				rep.Baselines = append(rep.Baselines, b)
			}
			if report != "" {
				if err := writeReport(report, rep); err != nil {
					return err
				}
			}
			if record {
				if _, err := g.client().UpdateVersion(c.Context(), lm.version.Name, lm.version.Version, registry.VersionUpdate{Metrics: rep.Metrics()}); err != nil {
					return fmt.Errorf("record metrics on %s: %w", lm.version.Ref(), err)
				}
			}
			if g.json {
				return printJSON(c.OutOrStdout(), jsonReport{Report: rep, Metrics: rep.Metrics(), Recorded: record})
			}
			if err := eval.WriteText(c.OutOrStdout(), rep); err != nil {
				return err
			}
			if record {
				fmt.Fprintf(c.OutOrStdout(), "\nrecorded %d metrics on %s\n", len(rep.Metrics()), lm.version.Ref())
			}
			return nil
		},
	}
	m.register(c, "data-format", "the labelled data")
	f := c.Flags()
	f.StringVar(&e.data, "data", "", "labelled data: file, folder, or s3://bucket/key or prefix")
	f.StringVar(&e.label, "label", "", "column holding the true label or value")
	f.StringVar(&e.task, "task", eval.TaskClassification, "classification or regression")
	f.StringVar(&e.labelOutput, "label-output", "", "model output with the predicted class (default: the scalar string or integer output)")
	f.StringVar(&e.probaOutput, "proba-output", "", "model output with class probabilities (default: the vector float output)")
	f.StringVar(&e.predictionOutput, "prediction-output", "", "regression: model output with the prediction (default: the first output)")
	f.StringVar(&baseline, "baseline", "", "another model (NAME@REF or FILE.onnx) to compare with on the same data")
	f.StringVar(&report, "report", "", "write an HTML report with SVG charts to FILE.html")
	f.BoolVar(&record, "record", false, "store the metrics on the registry version")
	f.IntVar(&worst, "worst", 10, "how many of the worst predictions to list")
	return c
}

// jsonReport is what --json prints.
type jsonReport struct {
	*eval.Report
	Metrics  map[string]float64 `json:"metrics"`
	Recorded bool               `json:"recorded"`
}

func writeReport(path string, rep *eval.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := eval.WriteHTML(f, rep); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// collect scores the data and gathers the labels and predictions, with
// advice that names the flags.
func (e *evalFlags) collect(ctx context.Context, m *modelFlags, pred batch.Predictor) (*eval.Predictions, error) {
	score, err := m.scoreOptions()
	if err != nil {
		return nil, err
	}
	format, _ := m.inputFormat()
	preds, err := batch.CollectPredictions(ctx,
		batch.ScanOptions{Input: e.data, InputFormat: format, Predictor: pred, Score: score, BatchSize: m.batchSize, Workers: m.workers, Storage: m.storage()},
		batch.EvalOptions{Task: e.task, Label: e.label, LabelOutput: e.labelOutput, ProbaOutput: e.probaOutput, PredictionOutput: e.predictionOutput})
	var noLabel *batch.LabelColumnError
	switch {
	case errors.As(err, &noLabel):
		return nil, fmt.Errorf("--label %q is not a column of %s (columns: %s)", e.label, e.data, strings.Join(noLabel.Columns, ", "))
	case errors.Is(err, batch.ErrNoClassOutput):
		return nil, fmt.Errorf("%w: pass --label-output or --proba-output", err)
	}
	return preds, err
}

// baseline scores another model on the same data.
func (e *evalFlags) baseline(ctx context.Context, g *globals, m *modelFlags, other string) (eval.Baseline, error) {
	lm, err := g.loadModel(ctx, m, other)
	if err != nil {
		return eval.Baseline{}, fmt.Errorf("--baseline: %w", err)
	}
	defer lm.close()
	preds, err := e.collect(ctx, m, lm.pred)
	if err != nil {
		return eval.Baseline{}, fmt.Errorf("--baseline %s: %w", other, err)
	}
	b, err := preds.Baseline(other)
	if err != nil {
		return eval.Baseline{}, fmt.Errorf("--baseline %s: %w", other, err)
	}
	return b, nil
}
