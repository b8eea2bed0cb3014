package validate_test

import (
	"strings"
	"testing"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/validate"
)

func ptr(f float64) *float64 { return &f }

// gate returns the named gate of r, failing the test when it is missing.
func gate(t *testing.T, r validate.Report, name string) validate.GateResult {
	t.Helper()
	for _, g := range r.Gates {
		if g.Gate == name {
			return g
		}
	}
	t.Fatalf("no gate %q in %+v", name, r.Gates)
	return validate.GateResult{}
}

func candidate(version int, metrics map[string]float64) validate.Candidate {
	return validate.Candidate{
		Name: "churn", Version: version, SizeBytes: 2048, Metrics: metrics,
		Inputs:  []oip.TensorMetadata{{Name: "x", Datatype: oip.FP32, Shape: []int64{-1, 4}}},
		Outputs: []oip.TensorMetadata{{Name: "y", Datatype: oip.FP32, Shape: []int64{-1, 1}}},
	}
}

func TestMetricGates(t *testing.T) {
	p := validate.Policy{Metrics: map[string]validate.Threshold{
		"accuracy": {Min: ptr(0.9)},
		"rmse":     {Max: ptr(3.5)},
		"f1":       {Min: ptr(0.5), Max: ptr(0.99)},
	}}
	good := validate.Static(p, candidate(1, map[string]float64{"accuracy": 0.93, "rmse": 3.5, "f1": 0.7}), nil)
	if !good.Passed || len(good.Gates) != 3 {
		t.Fatalf("good version: %+v", good)
	}
	if g := gate(t, good, "metric:accuracy"); g.Measured != "0.93" || g.Threshold != ">= 0.9" {
		t.Errorf("accuracy gate reports %+v", g)
	}

	bad := validate.Static(p, candidate(2, map[string]float64{"accuracy": 0.85, "rmse": 4, "f1": 1}), nil)
	if bad.Passed || len(bad.Failed()) != 3 {
		t.Fatalf("bad version: %+v", bad)
	}
	if g := gate(t, bad, "metric:accuracy"); g.Passed || g.Measured != "0.85" || !strings.Contains(g.Detail, "below the minimum by 0.05") {
		t.Errorf("accuracy gate: %+v", g)
	}
	if g := gate(t, bad, "metric:rmse"); g.Passed || g.Threshold != "<= 3.5" || !strings.Contains(g.Detail, "above the maximum") {
		t.Errorf("rmse gate: %+v", g)
	}

	missing := validate.Static(p, candidate(3, map[string]float64{"accuracy": 0.95, "f1": 0.6}), nil)
	if g := gate(t, missing, "metric:rmse"); g.Passed || !strings.Contains(g.Detail, "records no rmse") {
		t.Errorf("a missing metric must fail: %+v", g)
	}
}

func TestSizeGate(t *testing.T) {
	c := candidate(1, nil)
	if r := validate.Static(validate.Policy{MaxSizeBytes: 2048}, c, nil); !r.Passed || gate(t, r, "size").Measured != "2.0 KiB (2048 B)" {
		t.Errorf("size at the limit: %+v", r)
	}
	if r := validate.Static(validate.Policy{MaxSizeBytes: 2047}, c, nil); r.Passed || gate(t, r, "size").Threshold != "<= 2.0 KiB (2047 B)" {
		t.Errorf("size over the limit: %+v", r)
	}
}

func TestSignatureGate(t *testing.T) {
	p := validate.Policy{Signature: true}
	cur := candidate(1, nil)
	meta := func(name string, dt oip.Datatype, shape ...int64) oip.TensorMetadata {
		return oip.TensorMetadata{Name: name, Datatype: dt, Shape: shape}
	}
	for _, tc := range []struct {
		name            string
		inputs, outputs []oip.TensorMetadata
		ok              bool
		detail          string
	}{
		{"same", cur.Inputs, cur.Outputs, true, ""},
		{"extra output", cur.Inputs, append([]oip.TensorMetadata{meta("p", oip.FP32, -1, 2)}, cur.Outputs...), true, ""},
		{"output shape narrower", cur.Inputs, []oip.TensorMetadata{meta("y", oip.FP32, 8, 1)}, true, ""},
		{"unknown rank", []oip.TensorMetadata{{Name: "x", Datatype: oip.FP32}}, cur.Outputs, true, ""},
		{"renamed input", []oip.TensorMetadata{meta("features", oip.FP32, -1, 4)}, cur.Outputs, false, "input x is gone"},
		{"input type", []oip.TensorMetadata{meta("x", oip.FP64, -1, 4)}, cur.Outputs, false, "input x is FP64, was FP32"},
		{"fixed batch", []oip.TensorMetadata{meta("x", oip.FP32, 1, 4)}, cur.Outputs, false, "input x takes [1,4], was [-1,4]"},
		{"input rank", []oip.TensorMetadata{meta("x", oip.FP32, -1, 4, 1)}, cur.Outputs, false, "input x takes"},
		{"extra input", append([]oip.TensorMetadata{meta("z", oip.FP32, -1)}, cur.Inputs...), cur.Outputs, false, "new input z"},
		{"missing output", cur.Inputs, []oip.TensorMetadata{meta("label", oip.Int64, -1)}, false, "output y is gone"},
		{"output type", cur.Inputs, []oip.TensorMetadata{meta("y", oip.FP16, -1, 1)}, false, "output y is FP16"},
		{"output shape wider", cur.Inputs, []oip.TensorMetadata{meta("y", oip.FP32, -1, -1)}, false, "output y has shape [-1,-1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := candidate(2, nil)
			c.Inputs, c.Outputs = tc.inputs, tc.outputs
			g := gate(t, validate.Static(p, c, &cur), "signature")
			if g.Passed != tc.ok || !strings.Contains(g.Detail, tc.detail) {
				t.Fatalf("got %+v, want passed=%v with %q", g, tc.ok, tc.detail)
			}
		})
	}
	if g := gate(t, validate.Static(p, cur, nil), "signature"); !g.Skipped || !g.Passed {
		t.Errorf("without a current version the gate is skipped: %+v", g)
	}
}

func TestRegressionGates(t *testing.T) {
	p := validate.Policy{
		Metrics:    map[string]validate.Threshold{"rmse": {Max: ptr(10)}},
		Regression: map[string]float64{"accuracy": 0.02, "rmse": 0.5, "auc": 0.01},
	}
	cur := candidate(4, map[string]float64{"accuracy": 0.95, "rmse": 2.0})
	ok := validate.Static(p, candidate(5, map[string]float64{"accuracy": 0.94, "rmse": 2.4, "auc": 0.5}), &cur)
	if !ok.Passed || ok.Against != 4 {
		t.Fatalf("small changes must pass: %s", ok.Table())
	}
	if g := gate(t, ok, "regression:auc"); !g.Skipped || !strings.Contains(g.Detail, "version 4 records no auc") {
		t.Errorf("auc without a baseline: %+v", g)
	}
	if g := gate(t, ok, "regression:accuracy"); g.Measured != "0.95 -> 0.94" || g.Threshold != "drop <= 0.02" {
		t.Errorf("accuracy regression gate: %+v", g)
	}

	bad := validate.Static(p, candidate(6, map[string]float64{"accuracy": 0.90, "rmse": 1.0}), &cur)
	if g := gate(t, bad, "regression:accuracy"); g.Passed || !strings.Contains(g.Detail, "drop by 0.05 against version 4") {
		t.Errorf("an accuracy drop of 0.05 must fail: %+v", g)
	}
	// rmse is bounded from above only: lower is better, so a fall is fine
	// and a rise is the regression.
	if g := gate(t, bad, "regression:rmse"); !g.Passed || g.Threshold != "rise <= 0.5" {
		t.Errorf("rmse improving: %+v", g)
	}
	worse := validate.Static(p, candidate(7, map[string]float64{"accuracy": 0.95, "rmse": 2.6}), &cur)
	if g := gate(t, worse, "regression:rmse"); g.Passed || !strings.Contains(g.Detail, "rise by 0.6") {
		t.Errorf("rmse rising by 0.6: %+v", g)
	}
	if r := validate.Static(p, candidate(8, map[string]float64{"accuracy": 0.99, "rmse": 1}), nil); !r.Passed || !gate(t, r, "regression:accuracy").Skipped {
		t.Errorf("no current version: %+v", r)
	}
}

func TestReportTable(t *testing.T) {
	p := validate.Policy{Metrics: map[string]validate.Threshold{"accuracy": {Min: ptr(0.9)}}, MaxSizeBytes: 1 << 20}
	r := validate.Static(p, candidate(2, map[string]float64{"accuracy": 0.8}), nil)
	r.Where = "registry"
	table := r.Table()
	for _, want := range []string{"GATE", "metric:accuracy  FAIL", "size", "pass", "churn@2: FAILED 1 of 2 gates (metric:accuracy)", "checked by registry"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	empty := validate.Static(validate.Policy{}, candidate(1, nil), nil)
	if !empty.Passed || !strings.Contains(empty.Table(), "no gates") {
		t.Errorf("empty policy: %s", empty.Table())
	}
}
