package batch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kilnml/kiln/pkg/eval"
	"github.com/kilnml/kiln/pkg/table"
)

// EvalOptions say what CollectPredictions reads: the input column with
// the truth and the model outputs with the predictions. An empty output
// name picks the default.
type EvalOptions struct {
	// Task is eval.TaskClassification or eval.TaskRegression.
	Task string
	// Label is the input column with the true class or value.
	Label string
	// LabelOutput is the output with the predicted class (default: the
	// first string or integer output), ProbaOutput the one with the class
	// probabilities (default: the first list output) and PredictionOutput
	// the regression's prediction (default: the first output).
	LabelOutput, ProbaOutput, PredictionOutput string
}

// ErrNoClassOutput is a classification by a model without an output that
// gives a class or probabilities: EvalOptions.LabelOutput or ProbaOutput
// can name one.
var ErrNoClassOutput = errors.New("no model output gives a class or probabilities")

// LabelColumnError is an EvalOptions.Label that names no input column.
type LabelColumnError struct {
	// Column is the label; Columns are the input's columns.
	Column  string
	Columns []string
}

func (e *LabelColumnError) Error() string {
	return fmt.Sprintf("label column %q is not an input column (columns: %s)", e.Column, strings.Join(e.Columns, ", "))
}

// CollectPredictions scores the labelled input with scan.Predictor and
// gathers the model's predictions on it for pkg/eval; rows that fail or
// have an empty label are counted as skipped. Classes are compared as
// text, integral numbers as integers (label 1.0 is class "1"); a model's
// class_names metadata names its probabilities.
func CollectPredictions(ctx context.Context, scan ScanOptions, opts EvalOptions) (*eval.Predictions, error) {
	preds := &eval.Predictions{Task: opts.Task, Classes: classNames(scan.Predictor.Metadata())}
	label := -1
	var out evalOutputs
	err := Scan(ctx, scan, func(s *Scored) error {
		if label < 0 {
			if label = fieldIndex(s.Fields, opts.Label); label < 0 {
				return &LabelColumnError{Column: opts.Label, Columns: table.FieldNames(s.Fields)}
			}
			var err error
			if out, err = opts.pickOutputs(s.OutputFields); err != nil {
				return err
			}
		}
		for i, row := range s.Rows {
			if s.Errs[i] != nil || row[label].IsNull() || row[label].Text() == "" {
				preds.Skipped++
				continue
			}
			if err := out.add(preds, s.Index[i], row[label], s.Outputs[i]); err != nil {
				return fmt.Errorf("row %d: %w", s.Index[i], err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return preds, nil
}

// evalOutputs are the output columns of the predicted class, the
// probabilities (-1: none) and the regression's prediction.
type evalOutputs struct {
	task               string
	label, proba, pred int
}

// pickOutputs finds the output columns that opts name or, where they name
// none, the default ones.
func (opts EvalOptions) pickOutputs(fields []table.Field) (evalOutputs, error) {
	out := evalOutputs{task: opts.Task, label: -1, proba: -1}
	for i, f := range fields {
		switch {
		case opts.LabelOutput == "" && out.label < 0 && (f.Kind == table.KindString || f.Kind == table.KindInt):
			out.label = i
		case opts.ProbaOutput == "" && out.proba < 0 && f.Kind == table.KindList:
			out.proba = i
		}
	}
	if opts.LabelOutput != "" {
		out.label = fieldIndex(fields, opts.LabelOutput)
	}
	if opts.ProbaOutput != "" {
		out.proba = fieldIndex(fields, opts.ProbaOutput)
	}
	if opts.PredictionOutput != "" {
		out.pred = fieldIndex(fields, opts.PredictionOutput)
	}
	names := strings.Join(table.FieldNames(fields), ", ")
	switch {
	case opts.Task != eval.TaskRegression && out.label < 0 && out.proba < 0:
		return out, fmt.Errorf("%w (outputs: %s)", ErrNoClassOutput, names)
	case out.pred < 0 || (opts.LabelOutput != "" && out.label < 0) || (opts.ProbaOutput != "" && out.proba < 0):
		return out, fmt.Errorf("the named output is not among the model's outputs: %s", names)
	}
	return out, nil
}

// add records one labelled row and the model's outputs on it.
func (o evalOutputs) add(preds *eval.Predictions, index int64, label table.Value, outputs table.Row) error {
	if o.task == eval.TaskRegression {
		y, err := number(label)
		if err != nil {
			return fmt.Errorf("label: %w", err)
		}
		yhat, err := number(outputs[o.pred])
		if err != nil {
			return fmt.Errorf("prediction: %w", err)
		}
		preds.AddValue(index, y, yhat)
		return nil
	}
	var probs []float64
	if o.proba >= 0 {
		list := outputs[o.proba].List
		probs = make([]float64, 0, len(list)) // not nil, even when empty: the model gives probabilities
		for _, v := range list {
			p, err := number(v)
			if err != nil {
				return fmt.Errorf("probabilities: %w", err)
			}
			probs = append(probs, p)
		}
	}
	var predicted string
	if o.label >= 0 {
		predicted = classText(outputs[o.label])
	} else {
		predicted = eval.MostProbable(probs, preds.Classes)
	}
	preds.AddClass(index, classText(label), predicted, probs)
	return nil
}

// classNames reads a model's class_names metadata.
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

func fieldIndex(fields []table.Field, name string) int {
	return slices.IndexFunc(fields, func(f table.Field) bool { return f.Name == name })
}
