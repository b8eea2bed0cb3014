package eval

// MajorityBaseline scores the predictor that always answers the most
// frequent label (the first of classes on a tie), with the labels'
// frequencies as its probabilities.
func MajorityBaseline(labels []string, classes []string) (*Classification, error) {
	if classes == nil {
		classes = distinct(labels)
	}
	counts := make([]float64, len(classes))
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	for _, l := range labels {
		if i, ok := index[l]; ok {
			counts[i]++
		}
	}
	best := 0
	for i, c := range counts {
		if c > counts[best] {
			best = i
		}
	}
	for i := range counts {
		counts[i] /= float64(max(len(labels), 1))
	}
	predicted := make([]string, len(labels))
	probs := make([][]float64, len(labels))
	for i := range labels {
		predicted[i] = classes[best]
		probs[i] = counts
	}
	return Classify(labels, predicted, probs, classes)
}

// MeanBaseline scores the predictor that always answers the labels' mean.
func MeanBaseline(labels []float64) (*Regression, error) {
	var mean float64
	for _, y := range labels {
		mean += y / float64(len(labels))
	}
	predicted := make([]float64, len(labels))
	for i := range predicted {
		predicted[i] = mean
	}
	return Regress(labels, predicted)
}
