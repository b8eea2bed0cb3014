package drift

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// accumulator summarizes one column for a ProfileBuilder.
type accumulator struct {
	name           string
	output, text   bool
	discrete       bool
	count, missing int64
	// Welford's running mean and sum of squared deviations, min and max.
	mean, m2, min, max float64
	// sample is a uniform reservoir sample of the numbers, seen of which
	// were offered to it.
	sample []float64
	seen   int64
	// freq counts text categories and nums distinct numbers, up to the
	// options' MaxCategories; other counts the rest.
	freq  map[string]int64
	nums  map[float64]int64
	other int64
}

func (a *accumulator) add(c Column, b *ProfileBuilder) error {
	if (c.Labels != nil) != a.text {
		return fmt.Errorf("profile: column %q holds text in some batches and numbers in others", a.name)
	}
	limit := b.opts.MaxCategories
	if a.text {
		if a.freq == nil {
			a.freq = map[string]int64{}
		}
		for _, l := range c.Labels {
			a.count++
			a.other += countCategory(a.freq, l, limit)
		}
		return nil
	}
	if a.nums == nil {
		a.nums = map[float64]int64{}
	}
	a.discrete = a.discrete || c.Discrete
	for _, v := range c.Values {
		if isMissing(v) {
			a.missing++
			continue
		}
		a.count++
		d := v - a.mean
		a.mean += d / float64(a.count)
		a.m2 += d * (v - a.mean)
		a.min, a.max = math.Min(a.min, v), math.Max(a.max, v)
		a.other += countCategory(a.nums, v, limit)
		a.seen++
		if len(a.sample) < histogramSample {
			a.sample = append(a.sample, v)
		} else if j := b.rng.Int64N(a.seen); j < histogramSample {
			a.sample[j] = v
		}
	}
	return nil
}

// countCategory counts key in freq unless freq is full and lacks it; it
// returns 1 when the key was left for OtherCategory.
func countCategory[K comparable](freq map[K]int64, key K, limit int) int64 {
	if _, ok := freq[key]; ok || len(freq) < limit {
		freq[key]++
		return 0
	}
	return 1
}

// categorical decides the column's kind: text, a categorical option, a
// discrete output (class ids), or few distinct numbers.
func (a *accumulator) categorical(b *ProfileBuilder) bool {
	return a.text || b.categorical[a.name] || (a.output && a.discrete) ||
		(a.other == 0 && len(a.nums) <= maxDistinctNumeric)
}

func (a *accumulator) profile(b *ProfileBuilder) FeatureProfile {
	f := FeatureProfile{Name: a.name, Kind: Numeric, Count: a.count, Missing: a.missing}
	if !a.text && a.count > 0 {
		f.Mean, f.Std, f.Min, f.Max = a.mean, math.Sqrt(a.m2/float64(a.count)), a.min, a.max
	}
	if a.categorical(b) {
		f.Kind = Categorical
		f.Frequencies = a.freq
		if !a.text {
			f.Frequencies = make(map[string]int64, len(a.nums))
			for v, n := range a.nums {
				f.Frequencies[categoryKey(v)] += n
			}
		}
		if a.other > 0 {
			f.Frequencies[OtherCategory] += a.other
		}
		return f
	}
	if a.count == 0 {
		return f
	}
	slices.Sort(a.sample)
	f.Edges = quantileEdges(a.sample, b.opts.Bins, a.min, a.max)
	f.Counts = make([]int64, len(f.Edges)-1)
	for _, v := range a.sample {
		f.Counts[binOf(f.Edges, v)]++
	}
	f.Sample = subsample(a.sample, b.opts.SampleSize, b)
	return f
}

// quantileEdges returns up to bins+1 distinct edges at the quantiles of a
// sorted sample, the first and last being the exact min and max.
func quantileEdges(sorted []float64, bins int, lo, hi float64) []float64 {
	edges := []float64{lo}
	for i := 1; i < bins; i++ {
		q := sorted[i*(len(sorted)-1)/bins]
		if q > edges[len(edges)-1] && q < hi {
			edges = append(edges, q)
		}
	}
	return append(edges, hi)
}

// binOf is the bin of v given edges: the number of inner edges at or below
// v, so values below the first edge fall in the first bin and values at or
// above the last in the last.
func binOf(edges []float64, v float64) int {
	inner := edges[1 : len(edges)-1]
	return sort.Search(len(inner), func(i int) bool { return inner[i] > v })
}

// subsample returns a sorted uniform random sample of n values of a sorted
// slice (all of them when it has no more than n).
func subsample(sorted []float64, n int, b *ProfileBuilder) []float64 {
	if len(sorted) <= n {
		return slices.Clone(sorted)
	}
	s := slices.Clone(sorted)
	for i := range n {
		j := i + b.rng.IntN(len(s)-i)
		s[i], s[j] = s[j], s[i]
	}
	s = s[:n]
	slices.Sort(s)
	return s
}
