package eval

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// classificationMetricOrder and regressionMetricOrder fix the table rows.
var (
	classificationMetricOrder = []string{"accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "precision_weighted", "recall_weighted", "f1_weighted", "roc_auc", "log_loss"}
	regressionMetricOrder     = []string{"mae", "rmse", "r2", "mape"}
)

// WriteText writes the report as tables readable in a terminal.
func WriteText(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows := 0
	if r.Classification != nil {
		rows = r.Classification.Rows
	} else {
		rows = r.Regression.Rows
	}
	fmt.Fprintf(tw, "model %s on %s: %d rows (%d skipped), %s\n\n", r.Model, r.Data, rows, r.Skipped, r.Task)
	order := regressionMetricOrder
	if r.Classification != nil {
		order = classificationMetricOrder
	}
	header := []string{"metric", "model"}
	for _, b := range r.Baselines {
		header = append(header, b.Name)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	model := r.Metrics()
	for _, name := range order {
		line := []string{name, num(model, name)}
		for i := range r.Baselines {
			line = append(line, num(r.Baselines[i].metrics(), name))
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	fmt.Fprintln(tw)
	if c := r.Classification; c != nil {
		writeClasses(tw, c)
	} else {
		fmt.Fprintln(tw, "residual quantile\tprediction - label")
		for _, q := range r.Regression.Residuals {
			fmt.Fprintf(tw, "%g\t%s\n", q.Q, format(q.Value))
		}
		fmt.Fprintln(tw)
	}
	if len(r.Worst) > 0 {
		score := "p(true class)"
		if r.Regression != nil {
			score = "abs error"
		}
		fmt.Fprintf(tw, "worst predictions\nrow\tlabel\tpredicted\t%s\n", score)
		for _, c := range r.Worst {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", c.Index, c.Label, c.Predicted, format(float64(c.Score)))
		}
	}
	return tw.Flush()
}

// writeClasses writes the per-class table and the confusion matrix.
func writeClasses(w io.Writer, c *Classification) {
	fmt.Fprintln(w, "class\tprecision\trecall\tf1\tsupport\troc_auc")
	for _, pc := range c.PerClass {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", pc.Class, format(pc.Precision), format(pc.Recall), format(pc.F1), pc.Support, format(float64(pc.ROCAUC)))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "confusion matrix (rows: true class, columns: predicted)")
	fmt.Fprintln(w, "\t"+strings.Join(c.Classes, "\t"))
	for i, row := range c.Confusion {
		cells := make([]string, len(row))
		for j, n := range row {
			cells[j] = strconv.Itoa(n)
		}
		fmt.Fprintf(w, "%s\t%s\n", c.Classes[i], strings.Join(cells, "\t"))
	}
	fmt.Fprintln(w)
}

func num(m map[string]float64, name string) string {
	v, ok := m[name]
	if !ok {
		return "-"
	}
	return format(v)
}

func format(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
