package drift

import "math"

// Wasserstein returns the first Wasserstein (earth mover's) distance between
// the empirical distributions of samples a and b: the area between their
// distribution functions, in the samples' unit. Neither sample is modified;
// an empty sample gives 0.
func Wasserstein(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	sa, sb := sortedCopy(a), sortedCopy(b)
	na, nb := float64(len(sa)), float64(len(sb))
	var i, j int
	dist := 0.0
	prev := math.Min(sa[0], sb[0])
	for i < len(sa) || j < len(sb) {
		var x float64
		switch {
		case j >= len(sb) || (i < len(sa) && sa[i] <= sb[j]):
			x = sa[i]
		default:
			x = sb[j]
		}
		// Between prev and x both distribution functions are flat.
		dist += math.Abs(float64(i)/na-float64(j)/nb) * (x - prev)
		for i < len(sa) && sa[i] == x {
			i++
		}
		for j < len(sb) && sb[j] == x {
			j++
		}
		prev = x
	}
	return dist
}

// minWassersteinNorm keeps the normalized distance finite when the
// reference is constant (Evidently uses the same floor).
const minWassersteinNorm = 0.001

// NormedWasserstein is Wasserstein(ref, cur) divided by the population
// standard deviation of the reference (at least 0.001), so that one
// threshold fits features of any scale.
func NormedWasserstein(ref, cur []float64, refStd float64) float64 {
	return Wasserstein(ref, cur) / math.Max(refStd, minWassersteinNorm)
}

// wassersteinScore is the normalized Wasserstein distance of a window's
// numbers from the reference sample.
func wassersteinScore(w *window) (distance, _ float64) {
	return NormedWasserstein(w.ref.Sample, w.values, w.ref.Std), 0
}
