package quantile

import (
	"testing"
	"time"
)

// TestNearestRank checks the rank picked, including 1,060 samples where
// rounding and the ceiling disagree.
func TestNearestRank(t *testing.T) {
	samples := make([]time.Duration, 1060)
	for i := range samples {
		samples[i] = time.Duration(i + 1)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 530}, {0.99, 1050}, {0.999, 1059}, {1, 1060}, {0.0001, 1}} {
		if got := NearestRank(samples, c.q); got != c.want {
			t.Errorf("q %v: %v, want %v", c.q, got, c.want)
		}
	}
	if got := Of([]time.Duration{3, 1, 2}, 0.5); got != 2 {
		t.Errorf("unsorted median %v, want 2", got)
	}
	if NearestRank(nil, 0.99) != 0 {
		t.Error("no samples is not 0")
	}
}
