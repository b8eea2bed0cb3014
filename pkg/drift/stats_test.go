package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.6g, want %.6g (±%g)", what, got, want, tol)
	}
}

// normal draws n values from N(mean, 1) with a fixed seed.
func normal(seed uint64, n int, mean float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]float64, n)
	for i := range out {
		out[i] = mean + r.NormFloat64()
	}
	return out
}

// TestKolmogorovTable checks the Kolmogorov distribution against the
// classic table of critical values: P(K > 1.2238) = 0.10, P(K > 1.3581) =
// 0.05, P(K > 1.6276) = 0.01.
func TestKolmogorovTable(t *testing.T) {
	near(t, "Q(1.2238)", kolmogorovQ(1.2238), 0.10, 2e-4)
	near(t, "Q(1.3581)", kolmogorovQ(1.3581), 0.05, 2e-4)
	near(t, "Q(1.6276)", kolmogorovQ(1.6276), 0.01, 1e-4)
	near(t, "Q(0.1)", kolmogorovQ(0.1), 1, 0)
	// Samples too large for the exact p-value (n*m > 1e6) use Q with
	// Stephens' correction: n = m = 20000, en = 100, λ = 100.1211 * D.
	d := 1.3581 / (100 + 0.12 + 0.0011)
	near(t, "asymptotic p", ksPValue(d, 20000, 20000), 0.05, 2e-4)
	// The exact and asymptotic p-values agree for samples near the limit.
	d = 0.06
	near(t, "exact vs asymptotic", ksExactPValue(d, 1000, 1000), kolmogorovQ((math.Sqrt(500)+0.12+0.11/math.Sqrt(500))*d), 4e-3)
	// Far in the tail the asymptotic value is used; the exact one agrees to
	// the digits it keeps.
	d = 0.2
	tail := ksPValue(d, 1000, 1000)
	near(t, "tail", tail, kolmogorovQ((math.Sqrt(500)+0.12+0.11/math.Sqrt(500))*d), 0)
	near(t, "tail vs exact", tail, ksExactPValue(d, 1000, 1000), 1e-12)
}

// TestKSHandComputed checks D on small samples worked by hand and the
// p-value through the formula with Stephens' correction.
func TestKSHandComputed(t *testing.T) {
	// Disjoint samples: the distribution functions are 1 apart at 5.
	d, p := KS([]float64{5, 1, 3, 2, 4}, []float64{6, 7, 8, 9, 10})
	near(t, "disjoint D", d, 1, 0)
	// Exact: of the C(10,5) = 252 orderings of the pooled sample, only
	// "all of a first" and "all of b first" reach D = 1.
	near(t, "disjoint p", p, 2.0/252, 1e-12)

	// a = {1,2,3,4}, b = {3,4,5,6}: after 2, F_a = 0.5 and F_b = 0; after
	// 4, F_a = 1 and F_b = 0.5; D = 0.5.
	d, p = KS([]float64{1, 2, 3, 4}, []float64{3, 4, 5, 6})
	near(t, "overlapping D", d, 0.5, 0)
	// Of the C(8,4) = 70 orderings, those with D < 0.5 keep |i - j| < 2
	// at every step of the path from (0,0) to (4,4): 1, 2, 4, 8, 16 paths
	// reach the diagonal points in turn (2 ways per step between them), so
	// p = 1 - 16/70.
	near(t, "overlapping p", p, 1-16.0/70, 1e-12)

	// Ties across samples move both functions at once: identical samples
	// with repeated values have D = 0.
	d, p = KS([]float64{1, 1, 2, 2, 3}, []float64{3, 2, 2, 1, 1})
	near(t, "tied D", d, 0, 0)
	near(t, "tied p", p, 1, 0)
}

// TestKSKnownDistributions: two samples of one normal distribution do not
// reject; a mean shift of half a standard deviation does.
func TestKSKnownDistributions(t *testing.T) {
	_, p := KS(normal(1, 800, 0), normal(2, 800, 0))
	if p < 0.05 {
		t.Errorf("same distribution: p = %.4f, want >= 0.05", p)
	}
	_, p = KS(normal(1, 800, 0), normal(3, 800, 0.5))
	if p > 1e-6 {
		t.Errorf("mean shifted by 0.5: p = %.3g, want < 1e-6", p)
	}
}

// TestChiSquareKnownValue: a 2x2 table 30/20 vs 20/30 has expected counts of
// 25, statistic 4 on 1 degree of freedom, p = 2(1 - Φ(2)) = 0.0455003.
func TestChiSquareKnownValue(t *testing.T) {
	stat, p, df := ChiSquare([]float64{30, 20}, []float64{20, 30})
	near(t, "statistic", stat, 4, 1e-12)
	near(t, "p", p, 0.0455003, 1e-6)
	if df != 1 {
		t.Errorf("df = %d, want 1", df)
	}
	// 3 categories, one seen in neither sample: df = 2. Table 10/20/0/30 vs
	// 20/10/0/30; totals 60 and 60, so expected counts are 15, 15, 30:
	// statistic = 4 * 25/15 = 6.6667, p = exp(-6.6667/2) = 0.035674.
	stat, p, df = ChiSquare([]float64{10, 20, 0, 30}, []float64{20, 10, 0, 30})
	near(t, "3-category statistic", stat, 20.0/3, 1e-12)
	near(t, "3-category p", p, math.Exp(-10.0/3), 1e-9)
	if df != 2 {
		t.Errorf("df = %d, want 2", df)
	}
	if stat, p, df = ChiSquare([]float64{5, 0}, []float64{7, 0}); stat != 0 || p != 1 || df != 0 {
		t.Errorf("one category: %v %v %v, want 0 1 0", stat, p, df)
	}
}

// TestPSIKnownBins: quartiles against 10/20/30/40 percent give
// 0.15 ln 2.5 + 0.05 ln 1.25 + 0.05 ln 1.2 + 0.15 ln 1.6 = 0.228218.
func TestPSIKnownBins(t *testing.T) {
	near(t, "PSI", PSI([]float64{25, 25, 25, 25}, []float64{10, 20, 30, 40}), 0.228218, 1e-6)
	near(t, "PSI identical", PSI([]float64{1, 2, 3}, []float64{10, 20, 30}), 0, 1e-12)
	// An empty current bin counts as 0.0001: (0.0001 - 0.5) ln(0.0001/0.5)
	// + (1 - 0.5) ln(1/0.5) = 4.2586 + 0.3466.
	near(t, "PSI empty bin", PSI([]float64{1, 1}, []float64{0, 4}), 0.4999*math.Log(5000)+0.5*math.Log(2), 1e-9)
}

// TestJensenShannonKnownValues: identical distributions are 0 apart,
// disjoint ones sqrt(ln 2), and {1,0} vs {1/2,1/2} has divergence
// (ln(4/3) + (ln(2/3) + ln 2)/2) / 2.
func TestJensenShannonKnownValues(t *testing.T) {
	near(t, "identical", JensenShannon([]float64{1, 2, 3}, []float64{2, 4, 6}), 0, 1e-12)
	near(t, "disjoint", JensenShannon([]float64{1, 0}, []float64{0, 1}), math.Sqrt(math.Ln2), 1e-12)
	div := (math.Log(4.0/3) + (0.5*math.Log(2.0/3) + 0.5*math.Log(2))) / 2
	near(t, "half", JensenShannon([]float64{1, 0}, []float64{1, 1}), math.Sqrt(div), 1e-12)
}

// TestWassersteinHandComputed: shifting a sample by c moves it c; {0,1}
// against {0,3} differs by 2 on half the mass.
func TestWassersteinHandComputed(t *testing.T) {
	near(t, "shift", Wasserstein([]float64{1, 2, 3}, []float64{3.5, 1.5, 2.5}), 0.5, 1e-12)
	near(t, "half", Wasserstein([]float64{0, 1}, []float64{0, 3}), 1, 1e-12)
	near(t, "unequal sizes", Wasserstein([]float64{0}, []float64{0, 0, 1, 1}), 0.5, 1e-12)
	near(t, "identical", Wasserstein(normal(1, 100, 0), normal(1, 100, 0)), 0, 0)
	// Normed by the reference's standard deviation: a shift of 0.5 in a
	// unit-variance feature is about 0.5.
	near(t, "normed", NormedWasserstein(normal(4, 2000, 0), normal(5, 2000, 0.5), 1), 0.5, 0.08)
	near(t, "constant reference", NormedWasserstein([]float64{2, 2}, []float64{2, 2.001}, 0), 0.5, 1e-9)
}

// TestKSExactBand pins the exact p-value on sample sizes and statistics
// where the band of lattice points that it visits is narrow and wide; the
// values are those of the full n×m lattice recursion, which the banded one
// must reproduce.
func TestKSExactBand(t *testing.T) {
	for _, c := range []struct {
		d    float64
		n, m int
		want float64
	}{
		{0.02, 150, 1000, 0.999999993783957},
		{0.05, 150, 1000, 0.883856930915418},
		{0.1, 150, 1000, 0.137708833990473},
		{0.2, 150, 1000, 4.82137018928963e-05},
		{0.05, 1000, 1000, 0.164114477564291},
		{0.1, 1000, 1000, 8.97427756719749e-05},
		{0.05, 37, 211, 0.999981702952244},
		{0.2, 37, 211, 0.13831556967278},
		{0.5, 37, 211, 9.16726469180063e-08},
		{0.1, 500, 80, 0.465060314112489},
		{0.2, 500, 80, 0.00682531842509504},
	} {
		near(t, fmt.Sprintf("p(D=%v, n=%d, m=%d)", c.d, c.n, c.m), ksExactPValue(c.d, c.n, c.m), c.want, 1e-12*max(1, c.want))
	}
}
