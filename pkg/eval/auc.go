package eval

import (
	"math"
	"sort"
)

// ROCAUC returns the area under the ROC curve of scores for telling
// positive from negative examples: the probability that a random positive
// scores above a random negative, ties counting one half. It is NaN when
// one of the two groups is empty.
func ROCAUC(scores []float64, positive []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg int
	var rankSum float64 // sum of the (mid)ranks of the positives, from 1
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // ranks i+1..j share their mean
		for _, k := range idx[i:j] {
			if positive[k] {
				pos++
				rankSum += mid
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg))
}
