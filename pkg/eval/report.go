package eval

// Report is the evaluation of one model on one data set, with baselines.
type Report struct {
	Model string `json:"model"`
	Data  string `json:"data"`
	Task  string `json:"task"`
	// Exactly one of Classification and Regression is set.
	Classification *Classification `json:"classification,omitempty"`
	Regression     *Regression     `json:"regression,omitempty"`
	Baselines      []Baseline      `json:"baselines"`
	Worst          []Case          `json:"worst"`
	// Skipped counts the rows left out (unreadable, unlabelled or failed).
	Skipped int64 `json:"skipped"`
}

// Baseline is a reference predictor scored on the same data.
type Baseline struct {
	Name           string          `json:"name"`
	Classification *Classification `json:"classification,omitempty"`
	Regression     *Regression     `json:"regression,omitempty"`
}

// Metrics returns the model's headline metrics.
func (r *Report) Metrics() map[string]float64 {
	if r.Classification != nil {
		return r.Classification.Metrics()
	}
	return r.Regression.Metrics()
}

// baselineMetrics returns a baseline's headline metrics.
func (b *Baseline) metrics() map[string]float64 {
	if b.Classification != nil {
		return b.Classification.Metrics()
	}
	return b.Regression.Metrics()
}
