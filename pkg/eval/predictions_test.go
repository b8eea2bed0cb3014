package eval

import (
	"slices"
	"testing"
)

// TestPredictionsReportClassification: the classes come from Classes when
// they name every probability, the worst cases carry the row numbers given
// to AddClass, and the majority baseline comes with the report.
func TestPredictionsReportClassification(t *testing.T) {
	p := &Predictions{Task: TaskClassification, Classes: []string{"no", "yes"}, Skipped: 2}
	p.AddClass(10, "yes", "yes", []float64{0.1, 0.9})
	p.AddClass(11, "no", "yes", []float64{0.3, 0.7})
	p.AddClass(13, "yes", "yes", []float64{0.4, 0.6})
	rep, err := p.Report("m", "d.csv", 1)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Classification
	if rep.Task != TaskClassification || rep.Skipped != 2 || !slices.Equal(c.Classes, []string{"no", "yes"}) || c.Accuracy != 2.0/3 {
		t.Fatalf("report %+v, classification %+v", rep, c)
	}
	if len(rep.Worst) != 1 || rep.Worst[0].Index != 11 {
		t.Errorf("worst %+v, want row 11", rep.Worst)
	}
	if len(rep.Baselines) != 1 || rep.Baselines[0].Name != "majority" || rep.Baselines[0].Classification.Accuracy != 2.0/3 {
		t.Errorf("baselines %+v", rep.Baselines)
	}
	b, err := p.Baseline("other@2")
	if err != nil || b.Name != "other@2" || b.Classification.Accuracy != 2.0/3 || b.Regression != nil {
		t.Errorf("Baseline: %+v, %v", b, err)
	}
}

// TestPredictionsClasses: probabilities without class names, or with names
// of another length, name the classes by index; without probabilities
// Classes is not used and the classes are those seen.
func TestPredictionsClasses(t *testing.T) {
	p := &Predictions{Task: TaskClassification, Classes: []string{"a", "b", "c"}}
	p.AddClass(0, "1", MostProbable([]float64{0.2, 0.8}, nil), []float64{0.2, 0.8})
	p.AddClass(1, "0", MostProbable([]float64{0.5, 0.5}, nil), []float64{0.5, 0.5})
	rep, err := p.Report("m", "d", 0)
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Classification; !slices.Equal(c.Classes, []string{"0", "1"}) || c.Accuracy != 1 {
		t.Errorf("classes %v, accuracy %v; want 0, 1 and 1 (a tie goes to the first)", c.Classes, c.Accuracy)
	}
	p = &Predictions{Task: TaskClassification, Classes: []string{"a", "b", "c"}}
	p.AddClass(0, "y", "x", nil)
	rep, err = p.Report("m", "d", 5)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Classification.Classes, []string{"x", "y"}) || len(rep.Worst) != 1 {
		t.Errorf("classes %v, worst %+v", rep.Classification.Classes, rep.Worst)
	}
}

// TestPredictionsReportRegression: metrics, the worst case by row number
// and the mean baseline; no rows is an error.
func TestPredictionsReportRegression(t *testing.T) {
	p := &Predictions{Task: TaskRegression}
	p.AddValue(4, 2, 2)
	p.AddValue(7, 3, 3)
	p.AddValue(9, 5, 4)
	rep, err := p.Report("m", "d", 1)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Regression == nil || rep.Classification != nil || rep.Regression.MAE != 1.0/3 {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Worst) != 1 || rep.Worst[0].Index != 9 || rep.Worst[0].Label != "5" {
		t.Errorf("worst %+v, want row 9", rep.Worst)
	}
	if len(rep.Baselines) != 1 || rep.Baselines[0].Name != "mean" || rep.Baselines[0].Regression == nil {
		t.Errorf("baselines %+v", rep.Baselines)
	}
	if _, err := (&Predictions{Task: TaskRegression}).Report("m", "d", 1); err == nil {
		t.Error("no rows: no error")
	}
}
