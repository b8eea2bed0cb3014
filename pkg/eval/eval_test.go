package eval

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	// Written so that a NaN fails unless NaN is wanted (NaN compares false).
	if !(math.Abs(got-want) <= 1e-9) && !(math.IsNaN(got) && math.IsNaN(want)) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

// A 3-class example computed by hand:
//
//	true\pred  a  b  c
//	a          3  1  0   (support 4)
//	b          1  2  1   (support 4)
//	c          0  0  2   (support 2)
func handExample() (labels, predicted []string) {
	add := func(t, p string, n int) {
		for range n {
			labels = append(labels, t)
			predicted = append(predicted, p)
		}
	}
	add("a", "a", 3)
	add("a", "b", 1)
	add("b", "a", 1)
	add("b", "b", 2)
	add("b", "c", 1)
	add("c", "c", 2)
	return
}

func TestClassifyMatchesHandComputedMetrics(t *testing.T) {
	labels, predicted := handExample()
	m, err := Classify(labels, predicted, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{3, 1, 0}, {1, 2, 1}, {0, 0, 2}}
	for i := range want {
		for j := range want[i] {
			if m.Confusion[i][j] != want[i][j] {
				t.Fatalf("confusion = %v, want %v", m.Confusion, want)
			}
		}
	}
	near(t, "accuracy", m.Accuracy, 7.0/10)
	// precision a=3/4 b=2/3 c=2/3; recall a=3/4 b=2/4 c=2/2
	near(t, "precision a", m.PerClass[0].Precision, 0.75)
	near(t, "precision b", m.PerClass[1].Precision, 2.0/3)
	near(t, "recall b", m.PerClass[1].Recall, 0.5)
	near(t, "f1 c", m.PerClass[2].F1, 2*(2.0/3)*1/(2.0/3+1))
	near(t, "balanced accuracy", m.BalancedAccuracy, (0.75+0.5+1)/3)
	near(t, "precision macro", m.Precision.Macro, (0.75+2.0/3+2.0/3)/3)
	near(t, "recall weighted", m.Recall.Weighted, 0.75*0.4+0.5*0.4+1*0.2)
	f1b := 2 * (2.0 / 3) * 0.5 / (2.0/3 + 0.5)
	f1c := 0.8
	near(t, "f1 macro", m.F1.Macro, (0.75+f1b+f1c)/3)
	if !math.IsNaN(float64(m.ROCAUC)) || !math.IsNaN(float64(m.LogLoss)) {
		t.Errorf("AUC %v and log loss %v without probabilities, want NaN", m.ROCAUC, m.LogLoss)
	}
	if _, ok := m.Metrics()["roc_auc"]; ok {
		t.Error("undefined AUC recorded as a metric")
	}
}

func TestPerfectAndConstantPredictors(t *testing.T) {
	labels := []string{"x", "y", "y", "x", "y"}
	perfect := [][]float64{{1, 0}, {0, 1}, {0, 1}, {1, 0}, {0, 1}}
	m, err := Classify(labels, labels, perfect, []string{"x", "y"})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "accuracy", m.Accuracy, 1)
	near(t, "f1 macro", m.F1.Macro, 1)
	near(t, "auc", float64(m.ROCAUC), 1)
	near(t, "log loss", float64(m.LogLoss), -math.Log(1-1e-15))

	base, err := MajorityBaseline(labels, []string{"x", "y"})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "majority accuracy", base.Accuracy, 0.6)
	near(t, "majority balanced accuracy", base.BalancedAccuracy, 0.5)
	near(t, "majority precision x", base.PerClass[0].Precision, 0) // never predicted: 0, not NaN
	near(t, "constant-score AUC", float64(base.ROCAUC), 0.5)
	near(t, "majority log loss", float64(base.LogLoss), -(2*math.Log(0.4)+3*math.Log(0.6))/5)
}

func TestROCAUCCountsTiesAsHalf(t *testing.T) {
	// positives 0.8, 0.5; negatives 0.5, 0.2: pairs (0.8>0.5) (0.8>0.2)
	// (0.5=0.5 -> 1/2) (0.5>0.2) = 3.5 of 4.
	near(t, "auc", ROCAUC([]float64{0.8, 0.5, 0.5, 0.2}, []bool{true, true, false, false}), 3.5/4)
	near(t, "all tied", ROCAUC([]float64{1, 1, 1}, []bool{true, false, false}), 0.5)
	near(t, "one class only", ROCAUC([]float64{0.1, 0.2}, []bool{true, true}), math.NaN())
	near(t, "reversed", ROCAUC([]float64{0.1, 0.9}, []bool{true, false}), 0)
}

func TestMulticlassAUCIsMacroOneVsRest(t *testing.T) {
	labels := []string{"a", "b", "c", "a"}
	probs := [][]float64{{0.6, 0.3, 0.1}, {0.2, 0.7, 0.1}, {0.3, 0.3, 0.4}, {0.5, 0.1, 0.4}}
	m, err := Classify(labels, []string{"a", "b", "c", "a"}, probs, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	// a: positives 0.6, 0.5 vs 0.2, 0.3 -> 1; b: 0.7 vs 0.3,0.3,0.1 -> 1;
	// c: 0.4 vs 0.1, 0.1, 0.4 -> (1+1+0.5)/3.
	near(t, "auc c", float64(m.PerClass[2].ROCAUC), 2.5/3)
	near(t, "macro auc", float64(m.ROCAUC), (1+1+2.5/3)/3)
}

func TestClassifyRejectsUnknownLabels(t *testing.T) {
	if _, err := Classify([]string{"a", "z"}, []string{"a", "a"}, nil, []string{"a", "b"}); err == nil || !strings.Contains(err.Error(), `"z"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestRegressMatchesHandComputedMetrics(t *testing.T) {
	y := []float64{1, 2, 3, 4}
	p := []float64{1.5, 2, 2, 5} // residuals 0.5, 0, -1, 1
	m, err := Regress(y, p)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "mae", m.MAE, 2.5/4)
	near(t, "rmse", m.RMSE, math.Sqrt(2.25/4))
	near(t, "r2", float64(m.R2), 1-2.25/5) // SStot: 2.25+0.25+0.25+2.25
	near(t, "mape", float64(m.MAPE), (0.5+0+1.0/3+0.25)/4)
	near(t, "median residual", m.Residuals[3].Value, 0.25)
	near(t, "min residual", m.Residuals[0].Value, -1)

	perfect, _ := Regress(y, y)
	near(t, "perfect r2", float64(perfect.R2), 1)
	near(t, "perfect rmse", perfect.RMSE, 0)
	mean, _ := MeanBaseline(y)
	near(t, "mean predictor r2", float64(mean.R2), 0)
	near(t, "mean predictor mae", mean.MAE, 1)
	zeros, _ := Regress([]float64{0, 0}, []float64{1, 1})
	if !math.IsNaN(float64(zeros.MAPE)) || zeros.MAPEExcluded != 2 || !math.IsNaN(float64(zeros.R2)) {
		t.Errorf("all-zero labels: %+v", zeros)
	}
}

func TestWorstCases(t *testing.T) {
	probs := [][]float64{{0.9, 0.1}, {0.2, 0.8}, {0.6, 0.4}}
	w := WorstClassified([]string{"a", "a", "b"}, []string{"a", "b", "a"}, probs, []string{"a", "b"}, 2)
	if len(w) != 2 || w[0].Index != 1 || w[1].Index != 2 {
		t.Fatalf("worst = %+v", w)
	}
	r := WorstRegressed([]float64{1, 2, 3}, []float64{1, 5, 2}, 1, func(f float64) string { return format(f) })
	if len(r) != 1 || r[0].Index != 1 || r[0].Score != 3 {
		t.Fatalf("worst regressed = %+v", r)
	}
}

func TestReportsRenderTablesAndSVG(t *testing.T) {
	labels, predicted := handExample()
	m, _ := Classify(labels, predicted, nil, nil)
	base, _ := MajorityBaseline(labels, m.Classes)
	rep := &Report{Model: "iris@1", Data: "test.csv", Task: "classification", Classification: m, Baselines: []Baseline{{Name: "majority", Classification: base}}}
	var text, html bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"accuracy", "0.7000", "majority", "confusion matrix", "a  3  1  0"} {
		if !strings.Contains(strings.Join(strings.Fields(text.String()), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if data, err := json.Marshal(rep); err != nil || !strings.Contains(string(data), `"roc_auc":null`) {
		t.Errorf("JSON of undefined AUC: %s, %v", data, err)
	}
	if err := WriteHTML(&html, rep); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(html.String(), "<svg"); n != 2 || !strings.Contains(html.String(), ">3</text>") {
		t.Errorf("HTML has %d SVGs or lacks the matrix counts", n)
	}
	reg, _ := Regress([]float64{1, 2, 3}, []float64{1, 2, 4})
	html.Reset()
	if err := WriteHTML(&html, &Report{Model: "m", Data: "d", Task: "regression", Regression: reg}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(html.String(), "<circle") != 3 {
		t.Errorf("residual plot does not have 3 points")
	}
}
