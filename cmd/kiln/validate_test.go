package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

const cliPolicy = `
metrics:
  accuracy: {min: 0.9}
regression: {accuracy: 0.1}
smoke:
  expected:
    outputs: [{name: y, datatype: FP32, shape: [1, 2], data: [2, 3]}]
latency: {p99: 10s, runs: 5, warmup: 1}
`

// pushVersions pushes y = x + seed models with an input example x = [1, 2]
// and the given accuracy, one per seed, and returns the folder of files.
func pushVersions(t *testing.T, reg string, seeds []float32, accuracies []string) string {
	t.Helper()
	dir := t.TempDir()
	example := filepath.Join(dir, "example.json")
	os.WriteFile(example, []byte(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`), 0o644)
	for i, seed := range seeds {
		model := writeModel(t, t.TempDir(), seed)
		if code, _, stderr := kiln(t, reg, "push", "churn", model, "--metric", "accuracy="+accuracies[i], "--input-example", example); code != 0 {
			t.Fatalf("push: %s", stderr)
		}
	}
	return dir
}

func TestPolicyGatesFromTheCLI(t *testing.T) {
	reg, _ := startRegistry(t)
	dir := pushVersions(t, reg, []float32{1, 1, 2}, []string{"0.95", "0.8", "0.97"})
	file := filepath.Join(dir, "policy.yaml")
	os.WriteFile(file, []byte(cliPolicy), 0o644)

	if code, out, stderr := kiln(t, reg, "policy", "set", "churn", "-f", file); code != 0 || !strings.Contains(out, "protected aliases: [production]") {
		t.Fatalf("policy set: exit %d, %q %q", code, out, stderr)
	}
	code, out, _ := kiln(t, reg, "policy", "show", "churn")
	if code != 0 || !strings.Contains(out, "protected_aliases:\n    - production") || !strings.Contains(out, "p99: 10s") {
		t.Fatalf("policy show: %d %q", code, out)
	}
	// What show prints, set reads back.
	shown := filepath.Join(dir, "shown.yaml")
	os.WriteFile(shown, []byte(out), 0o644)
	if code, _, stderr := kiln(t, reg, "policy", "set", "churn", "-f", shown); code != 0 {
		t.Fatalf("policy set from show's output: %s", stderr)
	}

	if code, _, _ := kiln(t, reg, "alias", "set", "churn", "production", "1"); code != 0 {
		t.Fatal("production -> 1 failed")
	}
	// Version 2 misses the accuracy threshold: the table on stdout, one line on stderr, exit 1.
	code, out, stderr := kiln(t, reg, "alias", "set", "churn", "production", "2")
	if code != 1 || !strings.Contains(out, "metric:accuracy") || !strings.Contains(out, "FAIL") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "refused") {
		t.Fatalf("refused move: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	code, out, _ = kiln(t, reg, "alias", "set", "churn", "production", "2", "--json")
	var report validate.Report
	if code != 1 || json.Unmarshal([]byte(out), &report) != nil || report.Passed || report.Version != 2 {
		t.Fatalf("refused move --json: exit %d %q", code, out)
	}
	// Without authentication the caller is an admin, so --force goes through.
	if code, out, _ = kiln(t, reg, "alias", "set", "churn", "production", "2", "--force"); code != 0 || !strings.Contains(out, "forced past failed gates") {
		t.Fatalf("forced move: exit %d %q", code, out)
	}
	if code, _, _ = kiln(t, reg, "alias", "set", "churn", "production", "1"); code != 0 {
		t.Fatal("rollback to 1 failed")
	}

	code, out, _ = kiln(t, reg, "alias", "history", "churn", "production")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 6 || !strings.Contains(lines[2], "refused") || !strings.Contains(lines[4], "yes") || !strings.Contains(lines[4], "0/2 passed") {
		t.Fatalf("history: %d\n%s", code, out)
	}
	code, out, _ = kiln(t, reg, "alias", "history", "churn", "production", "--json")
	var history struct{ Moves []aliasMove }
	if code != 0 || json.Unmarshal([]byte(out), &history) != nil || len(history.Moves) != 5 {
		t.Fatalf("history --json: %s", out)
	}
	want := []struct {
		event    string
		from, to int
		forced   bool
	}{{"moved", 0, 1, false}, {"refused", 1, 2, false}, {"refused", 1, 2, false}, {"moved", 1, 2, true}, {"moved", 2, 1, false}}
	for i, w := range want {
		m := history.Moves[i]
		if m.Event != w.event || m.From != w.from || m.To != w.to || m.Forced != w.forced {
			t.Errorf("move %d: %+v, want %+v", i, m, w)
		}
	}
}

func TestValidateRunsRuntimeGates(t *testing.T) {
	reg, _ := startRegistry(t)
	dir := pushVersions(t, reg, []float32{1, 2}, []string{"0.95", "0.97"})
	file := filepath.Join(dir, "policy.yaml")
	os.WriteFile(file, []byte(cliPolicy), 0o644)
	if code, _, stderr := kiln(t, reg, "policy", "set", "churn", "-f", file); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, _ := kiln(t, reg, "alias", "set", "churn", "production", "1"); code != 0 {
		t.Fatal("production -> 1 failed")
	}
	ort := testenv.ORTLibrary(t)

	code, out, stderr := kiln(t, reg, "validate", "churn@production", "--ort-lib", ort, "--record")
	if code != 0 || !strings.Contains(out, "churn@1: passed 4 of 4 gates") || !strings.Contains(out, "latency:p99@1") {
		t.Fatalf("validate churn@production: exit %d\n%s\n%s", code, out, stderr)
	}
	// Version 2 passes the registry's gates (its metrics are fine) but its
	// outputs are off by one: the smoke test fails here.
	code, out, stderr = kiln(t, reg, "validate", "churn@2", "--ort-lib", ort, "--record", "--json")
	var report validate.Report
	if code != 1 || json.Unmarshal([]byte(out), &report) != nil || report.Passed || report.Against != 1 || !strings.HasPrefix(report.Where, "cli ") {
		t.Fatalf("validate churn@2: exit %d\n%s\n%s", code, out, stderr)
	}
	if f := report.Failed(); len(f) != 1 || f[0].Gate != "smoke" || !strings.Contains(f[0].Detail, "differs by 1") {
		t.Errorf("failed gates: %+v", f)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "FAILED 1 of 4 gates (smoke)") {
		t.Errorf("stderr: %q", stderr)
	}
	// Both reports were recorded on their versions.
	for n, passed := range map[string]bool{"1": true, "2": false} {
		code, out, _ = kiln(t, reg, "show", "churn@"+n, "--json")
		var v registry.Version
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil || len(v.Validations) != 1 || v.Validations[0].Passed != passed {
			t.Errorf("churn@%s validations: %s", n, out)
		}
	}
	// The registry still lets version 2 through: it runs no runtime gates.
	if code, _, stderr = kiln(t, reg, "alias", "set", "churn", "production", "2"); code != 0 {
		t.Errorf("production -> 2: %s", stderr)
	}
}

func TestPolicyUsageAndFileErrors(t *testing.T) {
	reg, _ := startRegistry(t)
	pushVersions(t, reg, []float32{1}, []string{"0.9"})
	for _, args := range [][]string{
		{"policy", "set", "churn"},
		{"policy", "show"},
		{"validate", "churn"},
		{"validate", "churn@1", "--against", "42"},
		{"alias", "history", "churn"},
	} {
		if code, _, stderr := kiln(t, reg, args...); code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("metrics: {accuracy: {minimum: 0.9}}\n"), 0o644)
	code, _, stderr := kiln(t, reg, "policy", "set", "churn", "-f", bad)
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `unknown field "minimum"`) {
		t.Errorf("bad policy file: exit %d, %q", code, stderr)
	}
	if code, _, stderr = kiln(t, reg, "policy", "show", "nope"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("policy of a missing model: exit %d, %q", code, stderr)
	}
}
