package driftexample_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"strconv"
	"testing"
	"time"

	driftexample "github.com/kilnml/kiln/examples/drift"
	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// TestCommittedFilesMatchGenerator: the committed model and CSV files are
// what the seeded generator writes (run go generate after changing it).
func TestCommittedFilesMatchGenerator(t *testing.T) {
	for _, f := range driftexample.Files {
		var want bytes.Buffer
		if err := driftexample.WriteCSV(&want, driftexample.Rows(f.Seed, f.Rows, f.Dist)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s differs from the generator's output: run go generate ./examples/drift/", f.Name)
		}
	}
	m, err := driftexample.Model()
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile("model.onnx"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("model.onnx differs from driftexample.Model() (%v): run go generate ./examples/drift/", err)
	}
}

// TestDriftFoundWhereItWasPut profiles the reference data through the
// model, then checks a window of the same distribution (no drift) and one
// of the shifted distribution (a, c and the label drift; b does not).
func TestDriftFoundWhereItWasPut(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	model, err := runtime.Load("model.onnx", runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer model.Close()
	score := func(file string) (inputs, outputs []drift.Column) {
		t.Helper()
		x := readCSV(t, file)
		in := oip.NewTensor("input", []int64{int64(len(x) / 3), 3}, x)
		out, err := model.Run(context.Background(), []*oip.Tensor{in}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if inputs, outputs, err = drift.BatchColumns([]*oip.Tensor{in}, out, driftexample.FeatureNames); err != nil {
			t.Fatal(err)
		}
		return inputs, outputs
	}

	b := drift.NewProfileBuilder(drift.ProfileOptions{})
	if err := b.Add(score("reference.csv")); err != nil {
		t.Fatal(err)
	}
	profile, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if k := profile.Feature("c").Kind; k != drift.Categorical {
		t.Errorf("c is %s, want categorical (3 codes)", k)
	}

	want := map[string]map[string]bool{
		"current.csv": {"a": false, "b": false, "c": false, "label": false},
		"shifted.csv": {"a": true, "b": false, "c": true, "label": true},
	}
	for file, drifts := range want {
		m, err := drift.NewMonitor(profile, drift.Config{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		in, out := score(file)
		if err := m.Observe(start, in, out); err != nil {
			t.Fatal(err)
		}
		r, ok := m.Flush(start.Add(time.Minute))
		if !ok {
			t.Fatalf("%s: the 1000-row window did not close", file)
		}
		for _, res := range append(r.Features, r.Outputs...) {
			t.Logf("%s: %-16s %-13s score %.4g drift %v", file, res.Name, res.Method, res.Score, res.Drift)
			if d, ok := drifts[res.Name]; ok && res.Drift != d {
				t.Errorf("%s: %s drift = %v (%s score %.3g), want %v", file, res.Name, res.Drift, res.Method, res.Score, d)
			}
		}
		if r.DatasetDrift != (file == "shifted.csv") {
			t.Errorf("%s: dataset drift %v with share %.2f", file, r.DatasetDrift, r.DriftShare)
		}
	}
}

// readCSV reads the a,b,c rows of a data file, flattened.
func readCSV(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var x []float32
	for _, rec := range recs[1:] {
		for _, s := range rec {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				t.Fatal(err)
			}
			x = append(x, float32(v))
		}
	}
	return x
}
