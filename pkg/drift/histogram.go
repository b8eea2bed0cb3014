package drift

import "math"

// minProportion replaces empty bins' proportions in PSI, whose terms are
// undefined at zero (Evidently uses the same value).
const minProportion = 0.0001

// PSI returns the population stability index of current bin counts against
// reference bin counts (same bins, same order): Σ (c - r) ln(c / r) over
// the bins' proportions, with empty bins counted as a proportion of 0.0001.
// Below 0.1 is usually read as no shift, 0.1 to 0.25 as moderate, above as
// major.
func PSI(ref, cur []float64) float64 {
	r, c := proportions(ref), proportions(cur)
	if r == nil || c == nil {
		return 0
	}
	psi := 0.0
	for i := range r {
		ri, ci := math.Max(r[i], minProportion), math.Max(c[i], minProportion)
		psi += (ci - ri) * math.Log(ci/ri)
	}
	return psi
}

// psiScore is the PSI of a window's counts against the reference's.
func psiScore(w *window) (index, _ float64) { return PSI(w.distributions()), 0 }

// JensenShannon returns the Jensen-Shannon distance between two discrete
// distributions given as counts or weights over the same bins: the square
// root of the Jensen-Shannon divergence in natural logarithms, so from 0
// (identical) to sqrt(ln 2) ≈ 0.83 (disjoint).
func JensenShannon(p, q []float64) float64 {
	pp, qq := proportions(p), proportions(q)
	if pp == nil || qq == nil {
		return 0
	}
	div := 0.0
	for i := range pp {
		m := (pp[i] + qq[i]) / 2
		div += (klTerm(pp[i], m) + klTerm(qq[i], m)) / 2
	}
	return math.Sqrt(math.Max(div, 0))
}

// jensenShannonScore is the Jensen-Shannon distance of a window's counts
// from the reference's.
func jensenShannonScore(w *window) (distance, _ float64) {
	return JensenShannon(w.distributions()), 0
}

// klTerm is x ln(x/m), 0 where x is 0.
func klTerm(x, m float64) float64 {
	if x == 0 {
		return 0
	}
	return x * math.Log(x/m)
}

// proportions scales counts to sum to 1; nil when they sum to 0.
func proportions(counts []float64) []float64 {
	total := 0.0
	for _, c := range counts {
		total += c
	}
	if total <= 0 {
		return nil
	}
	out := make([]float64, len(counts))
	for i, c := range counts {
		out[i] = c / total
	}
	return out
}
