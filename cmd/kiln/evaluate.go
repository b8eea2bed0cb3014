package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/batch"
	"github.com/kilnml/kiln/pkg/eval"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/table"
)

// evalFlags say what to evaluate against.
type evalFlags struct {
	data, label, task        string
	labelOutput, probaOutput string
	predictionOutput         string
}

// collected holds one model's predictions on the labelled rows.
type collected struct {
	index     []int64 // input row numbers
	labels    []string
	predicted []string
	probs     [][]float64
	y, yhat   []float64
	classes   []string
	skipped   int64
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
			if e.task != "classification" && e.task != "regression" {
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
			col, err := e.collect(c.Context(), &m, lm.pred)
			if err != nil {
				return err
			}
			rep, err := e.report(col, m.model, worst)
			if err != nil {
				return err
			}
			if err := e.addBaselines(c.Context(), g, &m, rep, col, baseline); err != nil {
				return err
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
	f.StringVar(&e.task, "task", "classification", "classification or regression")
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

// collect scores the data and gathers labels and predictions.
func (e *evalFlags) collect(ctx context.Context, m *modelFlags, pred batch.Predictor) (*collected, error) {
	score, err := m.scoreOptions()
	if err != nil {
		return nil, err
	}
	format, _ := m.inputFormat()
	col := &collected{}
	var label, labelOut, probaOut, predOut int
	first := true
	err = batch.Scan(ctx, batch.ScanOptions{Input: e.data, InputFormat: format, Predictor: pred, Score: score, BatchSize: m.batchSize, Workers: m.workers, Storage: m.storage()}, func(s *batch.Scored) error {
		if first {
			first = false
			if label = fieldIndex(s.Fields, e.label); label < 0 {
				return fmt.Errorf("--label %q is not a column of %s (columns: %s)", e.label, e.data, names(s.Fields))
			}
			var err error
			if labelOut, probaOut, predOut, err = e.pickOutputs(s.OutputFields); err != nil {
				return err
			}
			if probaOut >= 0 {
				col.classes = classNames(pred.Metadata())
			}
		}
		for i, row := range s.Rows {
			if s.Errs[i] != nil || row[label].IsNull() || row[label].Text() == "" {
				col.skipped++
				continue
			}
			if err := col.add(e.task, s.Index[i], row[label], s.Outputs[i], labelOut, probaOut, predOut); err != nil {
				return fmt.Errorf("row %d: %w", s.Index[i], err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if col.classes != nil && len(col.probs) > 0 && len(col.classes) != len(col.probs[0]) {
		col.classes = nil
	}
	if col.classes == nil && len(col.probs) > 0 {
		for i := range col.probs[0] {
			col.classes = append(col.classes, strconv.Itoa(i))
		}
	}
	return col, nil
}

// pickOutputs finds the label, probability and prediction output columns (-1: none).
func (e *evalFlags) pickOutputs(fields []table.Field) (label, proba, pred int, err error) {
	label, proba, pred = -1, -1, -1
	for i, f := range fields {
		switch {
		case e.labelOutput == "" && label < 0 && (f.Kind == table.KindString || f.Kind == table.KindInt):
			label = i
		case e.probaOutput == "" && proba < 0 && f.Kind == table.KindList:
			proba = i
		}
	}
	if e.labelOutput != "" {
		label = fieldIndex(fields, e.labelOutput)
	}
	if e.probaOutput != "" {
		proba = fieldIndex(fields, e.probaOutput)
	}
	pred = 0
	if e.predictionOutput != "" {
		pred = fieldIndex(fields, e.predictionOutput)
	}
	switch {
	case e.task == "classification" && label < 0 && proba < 0:
		return 0, 0, 0, fmt.Errorf("no model output gives a class or probabilities (outputs: %s): pass --label-output or --proba-output", names(fields))
	case pred < 0 || (e.labelOutput != "" && label < 0) || (e.probaOutput != "" && proba < 0):
		return 0, 0, 0, fmt.Errorf("the named output is not among the model's outputs: %s", names(fields))
	}
	return label, proba, pred, nil
}

// add records one labelled row.
func (col *collected) add(task string, index int64, label table.Value, out table.Row, labelOut, probaOut, predOut int) error {
	col.index = append(col.index, index)
	if task == "regression" {
		y, err := number(label)
		if err != nil {
			return fmt.Errorf("label: %w", err)
		}
		yhat, err := number(out[predOut])
		if err != nil {
			return fmt.Errorf("prediction: %w", err)
		}
		col.y, col.yhat = append(col.y, y), append(col.yhat, yhat)
		return nil
	}
	col.labels = append(col.labels, classText(label))
	var probs []float64
	if probaOut >= 0 {
		for _, v := range out[probaOut].List {
			p, err := number(v)
			if err != nil {
				return fmt.Errorf("probabilities: %w", err)
			}
			probs = append(probs, p)
		}
		col.probs = append(col.probs, probs)
	}
	if labelOut >= 0 {
		col.predicted = append(col.predicted, classText(out[labelOut]))
	} else {
		col.predicted = append(col.predicted, strconv.Itoa(argmax(probs)))
	}
	return nil
}

// report computes the model's metrics and worst cases.
func (e *evalFlags) report(col *collected, model string, worst int) (*eval.Report, error) {
	rep := &eval.Report{Model: model, Data: e.data, Task: e.task, Skipped: col.skipped}
	var err error
	if e.task == "regression" {
		if rep.Regression, err = eval.Regress(col.y, col.yhat); err != nil {
			return nil, err
		}
		rep.Worst = eval.WorstRegressed(col.y, col.yhat, worst, func(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) })
	} else {
		if rep.Classification, err = eval.Classify(col.labels, col.predicted, col.probs, col.classes); err != nil {
			return nil, err
		}
		rep.Worst = eval.WorstClassified(col.labels, col.predicted, col.probs, rep.Classification.Classes, worst)
	}
	for i := range rep.Worst {
		rep.Worst[i].Index = int(col.index[rep.Worst[i].Index])
	}
	return rep, nil
}

// addBaselines adds the majority or mean predictor and, when named, another model.
func (e *evalFlags) addBaselines(ctx context.Context, g *globals, m *modelFlags, rep *eval.Report, col *collected, other string) error {
	if e.task == "regression" {
		b, err := eval.MeanBaseline(col.y)
		if err != nil {
			return err
		}
		rep.Baselines = append(rep.Baselines, eval.Baseline{Name: "mean", Regression: b})
	} else {
		b, err := eval.MajorityBaseline(col.labels, rep.Classification.Classes)
		if err != nil {
			return err
		}
		rep.Baselines = append(rep.Baselines, eval.Baseline{Name: "majority", Classification: b})
	}
	if other == "" {
		return nil
	}
	lm, err := g.loadModel(ctx, m, other)
	if err != nil {
		return fmt.Errorf("--baseline: %w", err)
	}
	defer lm.close()
	oc, err := e.collect(ctx, m, lm.pred)
	if err != nil {
		return fmt.Errorf("--baseline %s: %w", other, err)
	}
	orep, err := e.report(oc, other, 0)
	if err != nil {
		return fmt.Errorf("--baseline %s: %w", other, err)
	}
	rep.Baselines = append(rep.Baselines, eval.Baseline{Name: other, Classification: orep.Classification, Regression: orep.Regression})
	return nil
}

func classNames(meta map[string]string) []string {
	if s := meta["class_names"]; s != "" {
		return strings.Split(s, ",")
	}
	return nil
}

// classText names a class: integral numbers as integers ("1.0" -> "1").
func classText(v table.Value) string {
	if f, err := number(v); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return v.Text()
}

// number reads a cell as a number; a one-element list counts as its element.
func number(v table.Value) (float64, error) {
	if v.Kind == table.KindList && len(v.List) == 1 {
		v = v.List[0]
	}
	switch v.Kind {
	case table.KindInt, table.KindBool:
		return float64(v.Int), nil
	case table.KindFloat32, table.KindFloat64:
		return v.Float, nil
	case table.KindString:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.Str), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", v.Str)
		}
		return f, nil
	}
	return 0, fmt.Errorf("%s is not a number", v.Text())
}

func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

func fieldIndex(fields []table.Field, name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func names(fields []table.Field) string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	return strings.Join(out, ", ")
}
