package drift

import "time"

// Report is the drift of one closed window against the reference profile.
type Report struct {
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// Rows is the number of rows in the window.
	Rows int `json:"rows"`
	// Features and Outputs hold one result per profile feature and output,
	// in profile order.
	Features []FeatureResult `json:"features"`
	Outputs  []FeatureResult `json:"outputs,omitempty"`
	// DriftedFeatures counts the features (not outputs) that drifted, and
	// DriftShare is their share of the features tested.
	DriftedFeatures int     `json:"drifted_features"`
	DriftShare      float64 `json:"drift_share"`
	// DatasetDrift is DriftShare >= the configured share.
	DatasetDrift bool `json:"dataset_drift"`
}

// FeatureResult is the outcome of one feature's or output's test.
type FeatureResult struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Method Method `json:"method"`
	// Score is the p-value for KS and chi-square (drift below Threshold),
	// else the distance (drift at or above Threshold).
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	// Statistic is the test statistic (KS D, chi-square) or the distance.
	Statistic float64 `json:"statistic"`
	// PValue is set for KS and chi-square.
	PValue *float64 `json:"p_value,omitempty"`
	Drift  bool     `json:"drift"`
	// Tested is false when the window or the reference had no values of
	// this column; Score is then 0 and Drift false.
	Tested bool `json:"tested"`
	// Edges are the reference histogram edges a numeric column's Counts
	// refer to.
	Edges     []float64 `json:"edges,omitempty"`
	Reference Summary   `json:"reference"`
	Current   Summary   `json:"current"`
}

// Summary describes one column of the reference or of a window.
type Summary struct {
	Count   int64 `json:"count"`
	Missing int64 `json:"missing,omitempty"`
	// Mean, Std, Min and Max of the numbers (0 for text).
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	// Counts per bin of the result's Edges (numeric columns).
	Counts []int64 `json:"counts,omitempty"`
	// Frequencies of each category (categorical columns).
	Frequencies map[string]int64 `json:"frequencies,omitempty"`
}

// summary describes the reference column.
func (f *FeatureProfile) summary() Summary {
	return Summary{Count: f.Count, Missing: f.Missing, Mean: f.Mean, Std: f.Std, Min: f.Min, Max: f.Max, Counts: f.Counts, Frequencies: f.Frequencies}
}
