// Package quantile is the one quantile of Kiln's latency figures: the
// nearest-rank method, so that kiln bench, the validation gates and the
// rollout rules agree on what a p99 is.
package quantile

import (
	"math"
	"slices"
	"time"
)

// NearestRank returns the q-quantile (0 < q <= 1) of ascending samples:
// the smallest sample with at least q of the samples at or below it; 0
// without samples.
func NearestRank(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Of is NearestRank of samples in any order (they are not changed).
func Of(samples []time.Duration, q float64) time.Duration {
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	return NearestRank(sorted, q)
}
