package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// window accumulates one profile column's live values until the monitor's
// window closes.
type window struct {
	ref       *FeatureProfile
	method    *methodSpec
	threshold float64
	// count values were present and missing absent; mean, m2, min and max
	// are Welford's running statistics of the numbers.
	count, missing     int64
	mean, m2, min, max float64
	// values is a uniform sample of the numbers (for KS and Wasserstein),
	// seen of which were offered to it; bins counts them per reference bin.
	values []float64
	seen   int64
	bins   []int64
	// freq counts categories; other those past the limit.
	freq  map[string]int64
	other int64
}

func newWindow(ref *FeatureProfile, method *methodSpec, threshold float64) *window {
	w := &window{ref: ref, method: method, threshold: threshold}
	w.reset()
	return w
}

func (w *window) reset() {
	w.count, w.missing, w.mean, w.m2, w.seen, w.other = 0, 0, 0, 0, 0, 0
	w.min, w.max = math.Inf(1), math.Inf(-1)
	w.values = w.values[:0]
	if w.ref.Kind == Numeric && len(w.ref.Edges) > 1 {
		w.bins = make([]int64, len(w.ref.Edges)-1)
	}
	w.freq = map[string]int64{}
}

// add takes one batch of the column's values; a nil column counts n rows
// as missing.
func (w *window) add(c *Column, n int, cfg *Config, rng *rand.Rand) error {
	switch {
	case c == nil:
		w.missing += int64(n)
	case c.Labels != nil:
		if w.ref.Kind == Numeric {
			w.missing += int64(n)
			return fmt.Errorf("%q is numeric in the reference profile, but the batch holds text", c.Name)
		}
		for _, l := range c.Labels {
			w.count++
			w.other += countCategory(w.freq, l, cfg.MaxCategories)
		}
	default:
		for _, v := range c.Values {
			w.addNumber(v, cfg, rng)
		}
	}
	return nil
}

func (w *window) addNumber(v float64, cfg *Config, rng *rand.Rand) {
	if isMissing(v) {
		w.missing++
		return
	}
	w.count++
	d := v - w.mean
	w.mean += d / float64(w.count)
	w.m2 += d * (v - w.mean)
	w.min, w.max = math.Min(w.min, v), math.Max(w.max, v)
	if w.ref.Kind == Categorical {
		w.other += countCategory(w.freq, categoryKey(v), cfg.MaxCategories)
		return
	}
	if w.bins != nil {
		w.bins[binOf(w.ref.Edges, v)]++
	}
	w.seen++
	if len(w.values) < cfg.SampleSize {
		w.values = append(w.values, v)
	} else if j := rng.Int64N(w.seen); j < int64(cfg.SampleSize) {
		w.values[j] = v
	}
}

// summary describes the window's values.
func (w *window) summary() Summary {
	s := Summary{Count: w.count, Missing: w.missing}
	if w.min <= w.max { // some numbers were seen
		s.Mean, s.Std, s.Min, s.Max = w.mean, math.Sqrt(w.m2/float64(w.count)), w.min, w.max
	}
	if w.ref.Kind == Numeric {
		s.Counts = append([]int64(nil), w.bins...)
		return s
	}
	s.Frequencies = make(map[string]int64, len(w.freq)+1)
	for k, n := range w.freq {
		s.Frequencies[k] = n
	}
	if w.other > 0 {
		s.Frequencies[OtherCategory] += w.other
	}
	return s
}
