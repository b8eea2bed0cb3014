package validate_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kilnml/kiln/pkg/validate"
)

const fullPolicy = `
protected_aliases: [production, canary]
metrics:
  accuracy: {min: 0.9}
  rmse: {max: 3.5}
  calibration: {min: 0.1, max: 0.9}
max_size_bytes: 104857600
signature: true
regression:
  accuracy: 0.02
latency:
  p50: 5ms
  p99: 20ms
  warmup: 3
  runs: 50
  batch: {size: 8, p99: 80ms}
smoke:
  tolerance: 0.001
  input:
    inputs: [{name: x, datatype: FP32, shape: [1, 2], data: [1, 2]}]
  expected:
    outputs: [{name: y, datatype: FP32, shape: [1, 2], data: [2, 3]}]
`

func TestParsePolicyReadsEveryField(t *testing.T) {
	p, err := validate.ParsePolicy([]byte(fullPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.ProtectedAliases, []string{"production", "canary"}) || !p.Protects("canary") || p.Protects("staging") {
		t.Errorf("protected aliases: %v", p.ProtectedAliases)
	}
	if *p.Metrics["accuracy"].Min != 0.9 || p.Metrics["accuracy"].Max != nil || *p.Metrics["rmse"].Max != 3.5 || *p.Metrics["calibration"].Max != 0.9 {
		t.Errorf("metrics: %+v", p.Metrics)
	}
	if p.MaxSizeBytes != 100<<20 || !p.Signature || p.Regression["accuracy"] != 0.02 {
		t.Errorf("size/signature/regression: %+v", p)
	}
	l := p.Latency
	if l == nil || time.Duration(l.P50) != 5*time.Millisecond || time.Duration(l.P99) != 20*time.Millisecond || l.P95 != 0 ||
		l.Warmup != 3 || l.Runs != 50 || l.Batch == nil || l.Batch.Size != 8 || time.Duration(l.Batch.P99) != 80*time.Millisecond {
		t.Errorf("latency: %+v", l)
	}
	s := p.Smoke
	if s == nil || s.Tolerance != 0.001 || s.Input == nil || s.Input.Inputs[0].Name != "x" || s.Expected == nil || s.Expected.Outputs[0].Name != "y" {
		t.Fatalf("smoke: %+v", s)
	}

	// FormatYAML writes what ParsePolicy reads back unchanged.
	out, err := validate.FormatYAML(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := validate.ParsePolicy(out)
	if err != nil {
		t.Fatalf("re-read %s: %v", out, err)
	}
	again, _ := validate.FormatYAML(back)
	if string(again) != string(out) || !strings.Contains(string(out), "max_size_bytes: 104857600") {
		t.Errorf("round trip changed the policy:\n%s\n---\n%s", out, again)
	}
}

func TestProtectedAliasesDefault(t *testing.T) {
	p, err := validate.ParsePolicy([]byte(`{"metrics": {"auc": {"min": 0.7}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Protects("production") || p.Protects("staging") {
		t.Errorf("default protection: %v", p.Protected())
	}
	none, err := validate.ParsePolicy([]byte("protected_aliases: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if none.Protects("production") {
		t.Error("an empty list still protects production")
	}
	// An explicit empty list survives a round trip through YAML.
	out, _ := validate.FormatYAML(none)
	if back, err := validate.ParsePolicy(out); err != nil || back.Protects("production") {
		t.Errorf("round trip of %q: %v %v", out, back.Protected(), err)
	}
}

func TestParsePolicyRejectsMistakes(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown top-level key", "metric: {}\n", `unknown field "metric"`},
		{"unknown nested key", "metrics: {accuracy: {minimum: 0.9}}\n", `unknown field "minimum"`},
		{"unknown latency key", "latency: {p90: 5ms}\n", `unknown field "p90"`},
		{"bad duration", "latency: {p99: fast}\n", "duration"},
		{"number as duration", "latency: {p99: 20}\n", "duration"},
		{"empty", "", "empty"},
		{"not a mapping", "- a\n- b\n", "mapping"},
		{"two documents", "signature: true\n---\nsignature: false\n", "one YAML document"},
		{"duplicate key", "signature: true\nsignature: false\n", "already defined"},
		{"threshold without bounds", "metrics: {accuracy: {}}\n", "set min, max or both"},
		{"min above max", "metrics: {f1: {min: 0.9, max: 0.5}}\n", "above max"},
		{"negative drop", "regression: {auc: -0.1}\n", ">= 0"},
		{"latency without budget", "latency: {runs: 10}\n", "at least one of p50"},
		{"batch of one", "latency: {p99: 1s, batch: {size: 1, p99: 1s}}\n", "at least 2"},
		{"too many runs", "latency: {p99: 1s, runs: 1000000}\n", "between 0 and"},
		{"negative size", "max_size_bytes: -1\n", "negative"},
		{"negative tolerance", "smoke: {tolerance: -1}\n", "tolerance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate.ParsePolicy([]byte(tc.doc))
			if err == nil || !errors.Is(err, validate.ErrInvalidPolicy) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an invalid-policy error mentioning %q", err, tc.want)
			}
		})
	}
}
