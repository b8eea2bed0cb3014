package eval

import (
	"fmt"
	"math"
	"sort"
)

// Regression holds the metrics of a regressor on labelled examples.
type Regression struct {
	Rows int     `json:"rows"`
	MAE  float64 `json:"mae"`
	RMSE float64 `json:"rmse"`
	// R2 is 1 - SSres/SStot; NaN when every label is the same.
	R2 Number `json:"r2"`
	// MAPE is the mean of |error/label| over the examples whose label is
	// not 0 (NaN when all are 0); MAPEExcluded counts the ones left out.
	MAPE         Number `json:"mape"`
	MAPEExcluded int    `json:"mape_excluded"`
	// Residuals are quantiles of prediction - label.
	Residuals []Quantile `json:"residual_quantiles"`
	// Sample holds up to maxSample evenly spaced examples, for plots.
	Sample []Point `json:"-"`
}

// Point is one example of a regression: its prediction and residual.
type Point struct{ Predicted, Residual float64 }

// maxSample bounds the points a regression keeps for plots.
const maxSample = 1000

// Quantile is the value below which a fraction Q of the values fall.
type Quantile struct {
	Q     float64 `json:"q"`
	Value float64 `json:"value"`
}

// residualQuantiles are the quantiles Regress reports.
var residualQuantiles = []float64{0, 0.05, 0.25, 0.5, 0.75, 0.95, 1}

// Regress computes the metrics of predicted against labels.
func Regress(labels, predicted []float64) (*Regression, error) {
	if len(labels) != len(predicted) {
		return nil, fmt.Errorf("%d labels and %d predictions: they must match", len(labels), len(predicted))
	}
	n := len(labels)
	if n == 0 {
		return nil, fmt.Errorf("no examples to evaluate")
	}
	var mean float64
	for _, y := range labels {
		mean += y / float64(n)
	}
	m := &Regression{Rows: n}
	var abs, sq, tot, pct float64
	residuals := make([]float64, n)
	for i, y := range labels {
		r := predicted[i] - y
		residuals[i] = r
		abs += math.Abs(r)
		sq += r * r
		tot += (y - mean) * (y - mean)
		if y == 0 {
			m.MAPEExcluded++
		} else {
			pct += math.Abs(r / y)
		}
	}
	m.MAE = abs / float64(n)
	m.RMSE = math.Sqrt(sq / float64(n))
	m.R2 = Number(math.NaN())
	if tot > 0 {
		m.R2 = Number(1 - sq/tot)
	}
	m.MAPE = Number(math.NaN())
	if kept := n - m.MAPEExcluded; kept > 0 {
		m.MAPE = Number(pct / float64(kept))
	}
	step := max(1, n/maxSample)
	for i := 0; i < n; i += step {
		m.Sample = append(m.Sample, Point{Predicted: predicted[i], Residual: residuals[i]})
	}
	sort.Float64s(residuals)
	for _, q := range residualQuantiles {
		m.Residuals = append(m.Residuals, Quantile{Q: q, Value: quantile(residuals, q)})
	}
	return m, nil
}

// quantile interpolates linearly between the closest ranks of sorted values.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}

// Metrics flattens the headline numbers for a registry version, leaving
// out the ones that are not defined.
func (m *Regression) Metrics() map[string]float64 {
	return finite(map[string]float64{"mae": m.MAE, "rmse": m.RMSE, "r2": float64(m.R2), "mape": float64(m.MAPE)})
}
