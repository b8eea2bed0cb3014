package drift

import (
	"math"
	"slices"
)

// KS runs the two-sample Kolmogorov-Smirnov test on samples a and b (in any
// order; neither is modified). It returns the statistic D, the largest gap
// between the two empirical distribution functions, and the asymptotic
// two-sided p-value. An empty sample gives D = 0 and p = 1.
func KS(a, b []float64) (statistic, pValue float64) {
	if len(a) == 0 || len(b) == 0 {
		return 0, 1
	}
	sa, sb := sortedCopy(a), sortedCopy(b)
	d := ksStatistic(sa, sb)
	return d, ksPValue(d, len(sa), len(sb))
}

// ksStatistic is D for two sorted samples.
func ksStatistic(a, b []float64) float64 {
	na, nb := float64(len(a)), float64(len(b))
	var i, j int
	d := 0.0
	for i < len(a) && j < len(b) {
		// Step past every copy of the smaller value in both samples, so
		// ties move both distribution functions at once.
		x := min(a[i], b[j])
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		d = max(d, math.Abs(float64(i)/na-float64(j)/nb))
	}
	return d
}

// exactKSLimit bounds n*m for the exact p-value, whose cost grows with it
// (at most about 1 ms for the default 1000-value reference sample against a
// 1000-row window, less when D is small); larger samples use the asymptotic
// distribution, which is then accurate to about 0.003.
const exactKSLimit = 1_000_000

// ksPValue is the two-sided p-value of D for samples of sizes n and m:
// exact for small samples (as scipy's ks_2samp does by default, which
// Evidently calls), else, and in the far tail, the Kolmogorov distribution at
// sqrt(n*m/(n+m))*D with Stephens' small-sample correction.
func ksPValue(d float64, n, m int) float64 {
	en := math.Sqrt(float64(n) * float64(m) / float64(n+m))
	asymptotic := kolmogorovQ((en + 0.12 + 0.11/en) * d)
	if n*m > exactKSLimit || asymptotic < ksTail {
		return asymptotic
	}
	return ksExactPValue(d, n, m)
}

// ksTail is the p-value below which the exact recursion is skipped: there D
// is large, the band of lattice points it visits is nearly all n*m, and its
// answer, one minus a number close to one, keeps no more digits than the
// asymptotic one, far below any test threshold either way.
const ksTail = 1e-6

// ksExactPValue is P(D >= d) when both samples come from one continuous
// distribution. Every ordering of the pooled sample is a monotone lattice
// path from (0,0) to (n,m), all equally likely; D < d exactly when the path
// keeps |i/n - j/m| < d at every point (i,j). u[j] holds the number of such
// paths to (i,j) divided by the number of all paths to it, C(i+j, i), which
// stays within [0,1]: since C(i+j,i) = C(i+j-1,i-1)(i+j)/i = C(i+j-1,i)(i+j)/j,
// u(i,j) = u(i-1,j) i/(i+j) + u(i,j-1) j/(i+j). Only the band of points
// inside the bound is visited, so the cost is about n*m*2d, not n*m.
func ksExactPValue(d float64, n, m int) float64 {
	// In units of 1/(n*m) the gaps are integers: |i*m - j*n| < k, that is
	// (i*m-k)/n < j < (i*m+k)/n.
	k := int(math.Round(d * float64(n) * float64(m)))
	if k <= 0 {
		return 1
	}
	band := func(i int) (lo, hi int) {
		lo = max(0, floorDiv(i*m-k, n)+1)
		hi = min(m, ceilDiv(i*m+k, n)-1)
		return lo, hi
	}
	// 1/(i+j) from a table: a multiplication in the loop instead of a division.
	inv := make([]float64, n+m+1)
	for s := 1; s < len(inv); s++ {
		inv[s] = 1 / float64(s)
	}
	u := make([]float64, m+1)
	_, hi := band(0)
	for j := 0; j <= hi; j++ {
		u[j] = 1
	}
	prevLo := 0
	for i := 1; i <= n; i++ {
		lo, hi := band(i)
		if lo > hi {
			return 1 // no path stays inside
		}
		clear(u[prevLo:lo]) // points that left the band
		prevLo = lo
		for j := max(lo, 1); j <= hi; j++ {
			w := inv[i+j]
			u[j] = u[j]*(float64(i)*w) + u[j-1]*(float64(j)*w)
		}
	}
	return math.Min(1, math.Max(0, 1-u[m]))
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

// kolmogorovQ is the survival function of the Kolmogorov distribution,
// Q(λ) = 2 Σ_{k≥1} (-1)^(k-1) exp(-2 k² λ²).
func kolmogorovQ(lambda float64) float64 {
	if lambda < 0.2 {
		// The series converges slowly here and Q is 1 to 14 digits.
		return 1
	}
	sum, sign := 0.0, 1.0
	for k := 1; k <= 100; k++ {
		term := math.Exp(-2 * float64(k*k) * lambda * lambda)
		sum += sign * term
		if term < 1e-16*sum {
			break
		}
		sign = -sign
	}
	return math.Min(1, math.Max(0, 2*sum))
}

func sortedCopy(x []float64) []float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s
}

// ksScore is the KS test of a window's numbers against the reference sample.
func ksScore(w *window) (statistic, pValue float64) { return KS(w.ref.Sample, w.values) }
