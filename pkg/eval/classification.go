package eval

import (
	"fmt"
	"math"
	"sort"
)

// ClassMetrics are the scores of one class.
type ClassMetrics struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// Support is the number of examples whose label is the class.
	Support int `json:"support"`
	// ROCAUC is the one-vs-rest AUC of the class's probability (NaN without probabilities).
	ROCAUC Number `json:"roc_auc"`
}

// Classification holds the metrics of a classifier on labelled examples.
type Classification struct {
	Classes          []string       `json:"classes"`
	Rows             int            `json:"rows"`
	Accuracy         float64        `json:"accuracy"`
	BalancedAccuracy float64        `json:"balanced_accuracy"`
	Precision        Average        `json:"precision"`
	Recall           Average        `json:"recall"`
	F1               Average        `json:"f1"`
	PerClass         []ClassMetrics `json:"per_class"`
	// ROCAUC is the positive class's AUC for two classes, else the macro
	// average of the one-vs-rest AUCs; NaN without probabilities.
	ROCAUC Number `json:"roc_auc"`
	// LogLoss is the mean negative log probability of the true class
	// (probabilities clipped to [1e-15, 1-1e-15]); NaN without probabilities.
	LogLoss Number `json:"log_loss"`
	// Confusion counts examples by true class (row) and predicted class (column).
	Confusion [][]int `json:"confusion"`
}

// Average is a metric averaged over classes: plain (macro) and weighted by support.
type Average struct {
	Macro    float64 `json:"macro"`
	Weighted float64 `json:"weighted"`
}

// logLossEps bounds probabilities away from 0 and 1 in the log loss.
const logLossEps = 1e-15

// Classify computes the metrics of predicted against labels. probs, when
// not nil, holds one probability per class (in the order of classes) for
// every example. classes lists the classes; nil means every label and
// prediction seen, sorted. A label or prediction outside classes is an error.
func Classify(labels, predicted []string, probs [][]float64, classes []string) (*Classification, error) {
	if len(labels) != len(predicted) || (probs != nil && len(probs) != len(labels)) {
		return nil, fmt.Errorf("%d labels, %d predictions and %d probability rows: they must match", len(labels), len(predicted), len(probs))
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("no examples to evaluate")
	}
	if classes == nil {
		classes = distinct(labels, predicted)
	}
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	k := len(classes)
	m := &Classification{Classes: classes, Rows: len(labels), Confusion: make([][]int, k), ROCAUC: Number(math.NaN()), LogLoss: Number(math.NaN())}
	for i := range m.Confusion {
		m.Confusion[i] = make([]int, k)
	}
	truth := make([]int, len(labels))
	for i := range labels {
		t, ok1 := index[labels[i]]
		p, ok2 := index[predicted[i]]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("example %d: label %q or prediction %q is not one of the classes %v", i, labels[i], predicted[i], classes)
		}
		if probs != nil && len(probs[i]) != k {
			return nil, fmt.Errorf("example %d has %d probabilities for %d classes", i, len(probs[i]), k)
		}
		truth[i] = t
		m.Confusion[t][p]++
	}
	m.perClass()
	if probs != nil {
		m.probabilityMetrics(truth, probs)
	}
	return m, nil
}

func distinct(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// perClass fills the confusion-matrix metrics. A ratio with a zero
// denominator counts as 0, as scikit-learn's zero_division=0 does.
func (m *Classification) perClass() {
	k := len(m.Classes)
	correct := 0
	var recallSum float64
	present := 0
	for c := range k {
		tp := m.Confusion[c][c]
		correct += tp
		support, predictedAs := 0, 0
		for j := range k {
			support += m.Confusion[c][j]
			predictedAs += m.Confusion[j][c]
		}
		cm := ClassMetrics{Class: m.Classes[c], Support: support, Precision: ratio(tp, predictedAs), Recall: ratio(tp, support), ROCAUC: Number(math.NaN())}
		if cm.Precision+cm.Recall > 0 {
			cm.F1 = 2 * cm.Precision * cm.Recall / (cm.Precision + cm.Recall)
		}
		if support > 0 {
			recallSum += cm.Recall
			present++
		}
		m.PerClass = append(m.PerClass, cm)
		w := float64(support) / float64(m.Rows)
		m.Precision.Macro += cm.Precision / float64(k)
		m.Recall.Macro += cm.Recall / float64(k)
		m.F1.Macro += cm.F1 / float64(k)
		m.Precision.Weighted += cm.Precision * w
		m.Recall.Weighted += cm.Recall * w
		m.F1.Weighted += cm.F1 * w
	}
	m.Accuracy = float64(correct) / float64(m.Rows)
	m.BalancedAccuracy = recallSum / float64(max(present, 1))
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// probabilityMetrics fills ROC AUC and log loss.
func (m *Classification) probabilityMetrics(truth []int, probs [][]float64) {
	var loss float64
	for i, t := range truth {
		p := min(max(probs[i][t], logLossEps), 1-logLossEps)
		loss -= math.Log(p)
	}
	m.LogLoss = Number(loss / float64(len(truth)))
	scores := make([]float64, len(truth))
	positive := make([]bool, len(truth))
	var sum float64
	counted := 0
	for c := range m.Classes {
		for i, t := range truth {
			scores[i] = probs[i][c]
			positive[i] = t == c
		}
		m.PerClass[c].ROCAUC = Number(ROCAUC(scores, positive))
		if auc := float64(m.PerClass[c].ROCAUC); !math.IsNaN(auc) {
			sum += auc
			counted++
		}
	}
	switch {
	case len(m.Classes) == 2:
		m.ROCAUC = m.PerClass[1].ROCAUC
	case counted > 0:
		m.ROCAUC = Number(sum / float64(counted))
	}
}

// Metrics flattens the headline numbers for a registry version, leaving
// out the ones that are not defined (NaN).
func (m *Classification) Metrics() map[string]float64 {
	return finite(map[string]float64{
		"accuracy": m.Accuracy, "balanced_accuracy": m.BalancedAccuracy,
		"precision_macro": m.Precision.Macro, "recall_macro": m.Recall.Macro, "f1_macro": m.F1.Macro,
		"precision_weighted": m.Precision.Weighted, "recall_weighted": m.Recall.Weighted, "f1_weighted": m.F1.Weighted,
		"roc_auc": float64(m.ROCAUC), "log_loss": float64(m.LogLoss),
	})
}

func finite(in map[string]float64) map[string]float64 {
	for k, v := range in {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(in, k)
		}
	}
	return in
}
