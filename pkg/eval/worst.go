package eval

import (
	"math"
	"sort"
)

// Case is one example singled out as among the worst predicted.
type Case struct {
	// Index is the example's position in the slices given.
	Index     int    `json:"index"`
	Label     string `json:"label"`
	Predicted string `json:"predicted"`
	// Score is the probability given to the true class (classification,
	// lower is worse) or the absolute error (regression, higher is worse).
	Score Number `json:"score"`
}

// WorstClassified returns the k examples that gave their true class the
// lowest probability; without probabilities, the first k misclassified.
func WorstClassified(labels, predicted []string, probs [][]float64, classes []string, k int) []Case {
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	var cases []Case
	for i := range labels {
		c := Case{Index: i, Label: labels[i], Predicted: predicted[i], Score: Number(math.NaN())}
		if probs != nil {
			if t, ok := index[labels[i]]; ok && t < len(probs[i]) {
				c.Score = Number(probs[i][t])
			}
		} else if labels[i] == predicted[i] {
			continue
		}
		cases = append(cases, c)
	}
	if probs != nil {
		sort.SliceStable(cases, func(a, b int) bool { return cases[a].Score < cases[b].Score })
	}
	return cases[:min(k, len(cases))]
}

// WorstRegressed returns the k examples with the largest absolute error.
func WorstRegressed(labels, predicted []float64, k int, format func(float64) string) []Case {
	cases := make([]Case, len(labels))
	for i := range labels {
		cases[i] = Case{Index: i, Label: format(labels[i]), Predicted: format(predicted[i]), Score: Number(math.Abs(predicted[i] - labels[i]))}
	}
	sort.SliceStable(cases, func(a, b int) bool { return cases[a].Score > cases[b].Score })
	return cases[:min(k, len(cases))]
}
