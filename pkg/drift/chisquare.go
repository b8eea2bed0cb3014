package drift

import "gonum.org/v1/gonum/stat/distuv"

// ChiSquare runs Pearson's chi-square test of homogeneity on the counts of
// the same categories in a reference and a current sample (a 2 x k table,
// no continuity correction): are both drawn from one distribution? It
// returns the statistic, its p-value, and the degrees of freedom: the
// number of categories seen in either sample, less one. With fewer than two
// such categories, or an empty sample, it returns 0, 1, 0.
func ChiSquare(ref, cur []float64) (statistic, pValue float64, df int) {
	var nRef, nCur float64
	for i := range ref {
		nRef += ref[i]
		nCur += cur[i]
	}
	if nRef <= 0 || nCur <= 0 {
		return 0, 1, 0
	}
	total := nRef + nCur
	k := 0
	for i := range ref {
		col := ref[i] + cur[i]
		if col == 0 {
			continue
		}
		k++
		for _, cell := range [2][2]float64{{ref[i], nRef}, {cur[i], nCur}} {
			expected := col * cell[1] / total
			diff := cell[0] - expected
			statistic += diff * diff / expected
		}
	}
	if k < 2 {
		return 0, 1, 0
	}
	df = k - 1
	return statistic, distuv.ChiSquared{K: float64(df)}.Survival(statistic), df
}

// chiSquareScore is the chi-square test of a window's counts against the
// reference's, over the bins or categories of either.
func chiSquareScore(w *window) (statistic, pValue float64) {
	statistic, pValue, _ = ChiSquare(w.distributions())
	return statistic, pValue
}
