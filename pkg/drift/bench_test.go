package drift

import (
	"testing"
)

// benchMonitor is a monitor over the synthetic table's profile (1000
// reference rows: KS for x and y, chi-square for c and the label).
func benchMonitor(b *testing.B, cfg Config) *Monitor {
	bl := NewProfileBuilder(ProfileOptions{})
	in, out := synth(1, 1000, 0, baseProbs).columns(0, 1000)
	if err := bl.Add(in, out); err != nil {
		b.Fatal(err)
	}
	p, err := bl.Build()
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewMonitor(p, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkObserve measures adding a batch of 100 rows (x, y numeric, c
// categorical, label output) to an open window.
func BenchmarkObserve(b *testing.B) {
	m := benchMonitor(b, Config{WindowRows: 1 << 40, SampleSize: 1 << 20})
	in, out := synth(2, 100, 0, baseProbs).columns(0, 100)
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(t0, in, out)
	}
}

// BenchmarkFlush measures closing a window of 1000 rows: two exact KS
// tests on 1000 x 1000 values and two chi-square tests.
func BenchmarkFlush(b *testing.B) {
	m := benchMonitor(b, Config{WindowRows: 1000})
	in, out := synth(2, 1000, 0, baseProbs).columns(0, 1000)
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(t0, in, out)
		if _, ok := m.Flush(t0); !ok {
			b.Fatal("window did not close")
		}
	}
}
