package drift

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// data is a synthetic table: x ~ N(shift, 1), y ~ N(10, 2), a category c
// with probabilities 0.6/0.3/0.1 (or shifted ones), and the model's label.
type data struct {
	x, y, label []float64
	c           []string
}

func synth(seed uint64, n int, xShift float64, cProbs [3]float64) data {
	r := rand.New(rand.NewPCG(seed, 99))
	d := data{x: make([]float64, n), y: make([]float64, n), label: make([]float64, n), c: make([]string, n)}
	for i := range n {
		d.x[i] = xShift + r.NormFloat64()
		d.y[i] = 10 + 2*r.NormFloat64()
		u := r.Float64()
		switch {
		case u < cProbs[0]:
			d.c[i] = "a"
		case u < cProbs[0]+cProbs[1]:
			d.c[i] = "b"
		default:
			d.c[i] = "c"
		}
		if d.x[i] > 0.5 {
			d.label[i] = 1
		}
	}
	return d
}

func (d data) columns(from, to int) (inputs, outputs []Column) {
	return []Column{{Name: "x", Values: d.x[from:to]}, {Name: "y", Values: d.y[from:to]}, {Name: "c", Labels: d.c[from:to]}},
		[]Column{{Name: "label", Values: d.label[from:to], Discrete: true}}
}

var baseProbs = [3]float64{0.6, 0.3, 0.1}

func profileOf(t *testing.T, d data) *Profile {
	t.Helper()
	b := NewProfileBuilder(ProfileOptions{})
	in, out := d.columns(0, len(d.x))
	if err := b.Add(in, out); err != nil {
		t.Fatal(err)
	}
	p, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runWindow feeds d to a new monitor in batches of 50 and returns the one
// report its window gives.
func runWindow(t *testing.T, p *Profile, cfg Config, d data) *Report {
	t.Helper()
	m, err := NewMonitor(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	for i := 0; i < len(d.x); i += 50 {
		in, out := d.columns(i, min(i+50, len(d.x)))
		if err := m.Observe(now, in, out); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	r, ok := m.Flush(now)
	if !ok {
		t.Fatalf("window of %d rows did not close", m.Rows())
	}
	return r
}

func result(t *testing.T, rs []FeatureResult, name string) FeatureResult {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no result for %q", name)
	return FeatureResult{}
}

// TestMonitorSmallReference: on a reference of 1000 rows, numbers get KS
// and categories chi-square; the same distribution shows no drift, a mean
// shift of x and a new mix of c do, and the label output follows x.
func TestMonitorSmallReference(t *testing.T) {
	p := profileOf(t, synth(1, 1000, 0, baseProbs))

	same := runWindow(t, p, Config{}, synth(2, 1000, 0, baseProbs))
	for _, f := range append(same.Features, same.Outputs...) {
		if f.Drift || !f.Tested {
			t.Errorf("same distribution: %s drift=%v tested=%v score %.4f", f.Name, f.Drift, f.Tested, f.Score)
		}
	}
	if same.DatasetDrift || same.DriftShare != 0 || same.Rows != 1000 {
		t.Errorf("same distribution: report %+v", same)
	}
	if x := result(t, same.Features, "x"); x.Method != MethodKS || x.PValue == nil || x.Threshold != 0.05 {
		t.Errorf("x: method %s p %v threshold %v, want ks with a p-value at 0.05", x.Method, x.PValue, x.Threshold)
	}
	if c := result(t, same.Features, "c"); c.Method != MethodChiSquare || c.Current.Frequencies["a"] == 0 {
		t.Errorf("c: method %s, current %v, want chisquare", c.Method, c.Current.Frequencies)
	}

	shifted := runWindow(t, p, Config{}, synth(3, 1000, 0.7, [3]float64{0.2, 0.3, 0.5}))
	for name, drift := range map[string]bool{"x": true, "y": false, "c": true} {
		if f := result(t, shifted.Features, name); f.Drift != drift {
			t.Errorf("shifted: %s drift = %v (score %.3g), want %v", name, f.Drift, f.Score, drift)
		}
	}
	if shifted.DriftedFeatures != 2 || math.Abs(shifted.DriftShare-2.0/3) > 1e-12 || !shifted.DatasetDrift {
		t.Errorf("shifted: %d drifted, share %v, dataset drift %v; want 2, 2/3, true", shifted.DriftedFeatures, shifted.DriftShare, shifted.DatasetDrift)
	}
	if l := result(t, shifted.Outputs, "label"); !l.Drift || l.Kind != Categorical {
		t.Errorf("label output: %+v, want categorical drift", l)
	}
}

// TestMonitorLargeReference: past 1000 reference rows, numbers get the
// normalized Wasserstein distance and categories the Jensen-Shannon
// distance, both against 0.1.
func TestMonitorLargeReference(t *testing.T) {
	p := profileOf(t, synth(1, 5000, 0, baseProbs))
	same := runWindow(t, p, Config{}, synth(2, 1000, 0, baseProbs))
	shifted := runWindow(t, p, Config{}, synth(3, 1000, 0.5, [3]float64{0.2, 0.3, 0.5}))
	for _, c := range []struct {
		name   string
		method Method
	}{{"x", MethodWasserstein}, {"c", MethodJensenShannon}} {
		s, d := result(t, same.Features, c.name), result(t, shifted.Features, c.name)
		if s.Method != c.method || s.PValue != nil || s.Threshold != 0.1 {
			t.Errorf("%s: method %s p %v threshold %v, want %s at 0.1", c.name, s.Method, s.PValue, s.Threshold, c.method)
		}
		if s.Drift || !d.Drift {
			t.Errorf("%s: same %.3f (drift %v), shifted %.3f (drift %v)", c.name, s.Score, s.Drift, d.Score, d.Drift)
		}
	}
	// A shift of half a standard deviation moves x about 0.5 std.
	near(t, "x Wasserstein", result(t, shifted.Features, "x").Score, 0.5, 0.1)
}

// TestMonitorPSIByConfig: PSI replaces the automatic choice on request,
// with a threshold from the config, over the reference histogram bins.
func TestMonitorPSIByConfig(t *testing.T) {
	p := profileOf(t, synth(1, 1000, 0, baseProbs))
	cfg := Config{NumericMethod: MethodPSI, Methods: map[string]Method{"c": MethodPSI}, Thresholds: map[Method]float64{MethodPSI: 0.2}}
	r := runWindow(t, p, cfg, synth(3, 1000, 0.7, baseProbs))
	x := result(t, r.Features, "x")
	if x.Method != MethodPSI || x.Threshold != 0.2 || !x.Drift || len(x.Current.Counts) != len(x.Edges)-1 {
		t.Errorf("x: %+v, want PSI drift over the reference bins", x)
	}
	want := PSI(floats(x.Reference.Counts), floats(x.Current.Counts))
	near(t, "x PSI", x.Score, want, 1e-12)
	if c := result(t, r.Features, "c"); c.Method != MethodPSI || c.Drift {
		t.Errorf("c: %+v, want PSI without drift", c)
	}
}

// TestMonitorWindows: a count window closes at WindowRows; a time window
// closes after WindowTime once it holds MinRows; the next window starts
// empty.
func TestMonitorWindows(t *testing.T) {
	p := profileOf(t, synth(1, 500, 0, baseProbs))
	d := synth(2, 400, 0, baseProbs)
	m, err := NewMonitor(p, Config{WindowRows: 300, WindowTime: time.Minute, MinRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	feed := func(at time.Time, from, to int) {
		in, out := d.columns(from, to)
		if err := m.Observe(at, in, out); err != nil {
			t.Fatal(err)
		}
	}
	feed(t0, 0, 50)
	if _, ok := m.Flush(t0.Add(2 * time.Minute)); ok {
		t.Error("a time window of 50 rows closed below MinRows")
	}
	feed(t0.Add(2*time.Minute), 50, 120)
	if _, ok := m.Flush(t0.Add(50 * time.Second)); ok {
		t.Error("window closed before its time")
	}
	r, ok := m.Flush(t0.Add(3 * time.Minute))
	if !ok || r.Rows != 120 || !r.WindowStart.Equal(t0) || !r.WindowEnd.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("time window: ok=%v report %+v", ok, r)
	}
	if m.Rows() != 0 {
		t.Errorf("after flush the window holds %d rows", m.Rows())
	}
	if x := result(t, r.Features, "x"); x.Current.Count != 120 {
		t.Errorf("x counted %d values, want 120", x.Current.Count)
	}
	later := t0.Add(time.Hour)
	feed(later, 100, 400)
	r, ok = m.Flush(later)
	if !ok || r.Rows != 300 || !r.WindowStart.Equal(later) {
		t.Errorf("count window: ok=%v rows %d start %v", ok, r.Rows, r.WindowStart)
	}
}

// TestMonitorMissingAndBadColumns: absent profile columns count as
// missing, extra columns are ignored, mismatched lengths are rejected,
// text for a numeric feature is reported.
func TestMonitorMissingAndBadColumns(t *testing.T) {
	p := profileOf(t, synth(1, 200, 0, baseProbs))
	m, err := NewMonitor(p, Config{WindowRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	in := []Column{{Name: "x", Values: []float64{0.1, math.NaN(), 0.3}}, {Name: "extra", Values: []float64{1, 2, 3}}}
	if err := m.Observe(t0, in, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Observe(t0, []Column{{Name: "x", Values: []float64{1}}, {Name: "y", Values: []float64{1, 2}}}, nil); err == nil {
		t.Error("columns of different lengths accepted")
	}
	err = m.Observe(t0, []Column{{Name: "y", Labels: []string{"oops"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), `"y" is numeric`) {
		t.Errorf("text for a numeric feature: %v", err)
	}
	r, ok := m.Flush(t0)
	if !ok {
		t.Fatal("window did not close")
	}
	// x: one NaN, and one row of the batch that lacked it.
	if x := result(t, r.Features, "x"); x.Current.Count != 2 || x.Current.Missing != 2 {
		t.Errorf("x: %+v", x.Current)
	}
	c := result(t, r.Features, "c")
	if c.Tested || c.Drift || c.Current.Missing != 4 {
		t.Errorf("c (never sent): %+v", c)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("report does not encode: %v", err)
	}
}

// TestMonitorConfigErrors: unknown methods, numeric-only methods on
// categories and out-of-range shares are refused.
func TestMonitorConfigErrors(t *testing.T) {
	p := profileOf(t, synth(1, 200, 0, baseProbs))
	for _, cfg := range []Config{
		{NumericMethod: "t-test"},
		{CategoricalMethod: MethodKS},
		{Methods: map[string]Method{"c": MethodWasserstein}},
		{DriftShare: 1.5},
		{Thresholds: map[Method]float64{MethodPSI: -1}},
	} {
		if _, err := NewMonitor(p, cfg); err == nil {
			t.Errorf("NewMonitor accepted %+v", cfg)
		}
	}
}

// TestMonitorConcurrentUse: Observe, Rows and Flush from several goroutines
// lose no row (run with -race to check the locking).
func TestMonitorConcurrentUse(t *testing.T) {
	p := profileOf(t, synth(1, 300, 0, baseProbs))
	m, err := NewMonitor(p, Config{WindowRows: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	d := synth(2, 400, 0, baseProbs)
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := g * 100; i < (g+1)*100; i += 10 {
				in, out := d.columns(i, i+10)
				if err := m.Observe(t0, in, out); err != nil {
					t.Error(err)
				}
				m.Rows()
				m.Flush(t0)
			}
		}()
	}
	for range 4 {
		<-done
	}
	m.cfg.WindowRows = 1
	r, ok := m.Flush(t0)
	if !ok || r.Rows != 400 || result(t, r.Features, "x").Current.Count != 400 {
		t.Errorf("after concurrent Observe: ok=%v rows %d", ok, r.Rows)
	}
}
