package drift

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/kilnml/kiln/pkg/oip"
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

// BenchmarkObserveRequest measures what a serving node does per answered
// batch-1 request of a classifier: turn its tensors (4 features in; a label
// and 3 probabilities out) into columns, in reused memory, and add them to
// the window.
func BenchmarkObserveRequest(b *testing.B) {
	features := []string{"a", "b", "c", "d"}
	request := func(r *rand.Rand, rows int) (in, out []*oip.Tensor) {
		x, probs := make([]float32, rows*4), make([]float32, rows*3)
		labels := make([][]byte, rows)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for i := range probs {
			probs[i] = r.Float32()
		}
		for i := range labels {
			labels[i] = []byte(strconv.Itoa(r.IntN(3)))
		}
		return []*oip.Tensor{oip.NewTensor("input", []int64{int64(rows), 4}, x)},
			[]*oip.Tensor{oip.NewBytesTensor("label", []int64{int64(rows)}, labels), oip.NewTensor("probabilities", []int64{int64(rows), 3}, probs)}
	}
	r := rand.New(rand.NewPCG(1, 2))
	bl := NewProfileBuilder(ProfileOptions{})
	refIn, refOut := request(r, 1000)
	in, out, err := BatchColumns(refIn, refOut, features)
	if err != nil {
		b.Fatal(err)
	}
	if err := bl.Add(in, out); err != nil {
		b.Fatal(err)
	}
	p, err := bl.Build()
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewMonitor(p, Config{WindowRows: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	reqIn, reqOut := request(r, 1)
	var cols Columns
	b.ReportAllocs()
	for b.Loop() {
		in, out, err := cols.Of(reqIn, reqOut, features)
		if err != nil {
			b.Fatal(err)
		}
		m.Observe(t0, in, out)
	}
}
