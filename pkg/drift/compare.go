package drift

import (
	"slices"
)

// compare tests the window against its reference column.
func (w *window) compare() FeatureResult {
	ref := w.ref
	r := FeatureResult{Name: ref.Name, Kind: ref.Kind, Method: w.method.name, Threshold: w.threshold,
		Reference: ref.summary(), Current: w.summary()}
	if ref.Kind == Numeric {
		r.Edges = ref.Edges
	}
	if w.count == 0 || ref.Count == 0 {
		return r
	}
	r.Tested = true
	var p float64
	r.Statistic, p = w.method.score(w)
	if w.method.pValue {
		r.Score, r.PValue = p, &p
		r.Drift = p < w.threshold
	} else {
		r.Score = r.Statistic
		r.Drift = r.Score >= w.threshold
	}
	return r
}

// distributions returns the reference and window counts over the same
// bins: the reference histogram bins of a numeric column, or the union of
// the categories seen in either for a categorical one (sorted, so that the
// result does not depend on map order).
func (w *window) distributions() (ref, cur []float64) {
	if w.ref.Kind == Numeric {
		return floats(w.ref.Counts), floats(w.bins)
	}
	cats := make([]string, 0, len(w.ref.Frequencies)+len(w.freq)+1)
	for k := range w.ref.Frequencies {
		cats = append(cats, k)
	}
	for k := range w.freq {
		if _, ok := w.ref.Frequencies[k]; !ok {
			cats = append(cats, k)
		}
	}
	if _, ok := w.ref.Frequencies[OtherCategory]; !ok && w.other > 0 {
		cats = append(cats, OtherCategory)
	}
	slices.Sort(cats)
	ref, cur = make([]float64, len(cats)), make([]float64, len(cats))
	for i, k := range cats {
		ref[i] = float64(w.ref.Frequencies[k])
		cur[i] = float64(w.freq[k])
		if k == OtherCategory {
			cur[i] += float64(w.other)
		}
	}
	return ref, cur
}

func floats(counts []int64) []float64 {
	out := make([]float64, len(counts))
	for i, c := range counts {
		out[i] = float64(c)
	}
	return out
}
