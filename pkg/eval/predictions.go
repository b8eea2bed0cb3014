package eval

import "strconv"

// Tasks: what a model predicts.
const (
	TaskClassification = "classification"
	TaskRegression     = "regression"
)

// Predictions are a model's predictions on labelled rows, gathered one row
// at a time (AddClass or AddValue, as Task says), for Report and Baseline.
type Predictions struct {
	// Task is TaskClassification or TaskRegression.
	Task string
	// Classes name the class probabilities, in order (a model's
	// class_names). Without probabilities they are not used; when nil, or
	// of another length than the probabilities, the classes are "0", "1", ...
	Classes []string
	// Skipped counts the rows left out: failed, or without a label.
	Skipped int64

	index             []int64
	labels, predicted []string
	probs             [][]float64
	y, yhat           []float64
}

// AddClass records a classified row: its number in the data, its true
// class, the predicted class and the class probabilities (nil when the
// model gives none; then nil for every row).
func (p *Predictions) AddClass(index int64, label, predicted string, probs []float64) {
	p.index = append(p.index, index)
	p.labels = append(p.labels, label)
	p.predicted = append(p.predicted, predicted)
	if probs != nil {
		p.probs = append(p.probs, probs)
	}
}

// AddValue records a regressed row: its number in the data, its true value
// and the predicted one.
func (p *Predictions) AddValue(index int64, y, yhat float64) {
	p.index = append(p.index, index)
	p.y, p.yhat = append(p.y, y), append(p.yhat, yhat)
}

// MostProbable names the class of the highest probability (the first on a
// tie): the prediction of a model that gives only probabilities. The name
// is the class's in classes (a model's class_names) when they name every
// probability, else its index, "0", "1", ..., as Predictions.Classes says.
func MostProbable(probs []float64, classes []string) string {
	best := 0
	for i, x := range probs {
		if x > probs[best] {
			best = i
		}
	}
	if len(classes) == len(probs) && len(probs) > 0 {
		return classes[best]
	}
	return strconv.Itoa(best)
}

// Report evaluates the predictions of model on data: the metrics, the
// worst predictions (at most worst; Case.Index is the row number given to
// AddClass or AddValue) and the majority-class or mean baseline.
func (p *Predictions) Report(model, data string, worst int) (*Report, error) {
	rep := &Report{Model: model, Data: data, Task: p.Task, Skipped: p.Skipped}
	var err error
	if rep.Classification, rep.Regression, err = p.metrics(); err != nil {
		return nil, err
	}
	if p.Task == TaskRegression {
		rep.Worst = WorstRegressed(p.y, p.yhat, worst, func(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) })
		b, err := MeanBaseline(p.y)
		if err != nil {
			return nil, err
		}
		rep.Baselines = append(rep.Baselines, Baseline{Name: "mean", Regression: b})
	} else {
		rep.Worst = WorstClassified(p.labels, p.predicted, p.probs, rep.Classification.Classes, worst)
		b, err := MajorityBaseline(p.labels, rep.Classification.Classes)
		if err != nil {
			return nil, err
		}
		rep.Baselines = append(rep.Baselines, Baseline{Name: "majority", Classification: b})
	}
	for i := range rep.Worst {
		rep.Worst[i].Index = int(p.index[rep.Worst[i].Index])
	}
	return rep, nil
}

// Baseline scores the predictions as a baseline named name, for the report
// of another model on the same rows.
func (p *Predictions) Baseline(name string) (Baseline, error) {
	c, r, err := p.metrics()
	if err != nil {
		return Baseline{}, err
	}
	return Baseline{Name: name, Classification: c, Regression: r}, nil
}

// metrics computes the classification or the regression metrics.
func (p *Predictions) metrics() (*Classification, *Regression, error) {
	if p.Task == TaskRegression {
		r, err := Regress(p.y, p.yhat)
		return nil, r, err
	}
	c, err := Classify(p.labels, p.predicted, p.probs, p.classes())
	return c, nil, err
}

// classes names the probabilities: Classes, or their indexes; nil without
// probabilities (Classify then takes the classes seen).
func (p *Predictions) classes() []string {
	switch {
	case len(p.probs) == 0:
		return nil
	case len(p.Classes) == len(p.probs[0]):
		return p.Classes
	}
	var numbered []string
	for i := range p.probs[0] {
		numbered = append(numbered, strconv.Itoa(i))
	}
	return numbered
}
