package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// promtoolTests are the promtool unit tests of the alert rules, written
// against the chart's default thresholds.
const promtoolTests = "testdata/alerts.promtool.yaml"

// TestAlertRulesPromtool renders the PrometheusRule with the chart's
// default values, writes its group as a Prometheus rule file, and runs
// `promtool check rules` and `promtool test rules` (pinned promtool from
// scripts/setup-promtool.sh, or KILN_PROMTOOL): every alert must fire on the
// series that should fire it, stay quiet on the others, and render its
// annotations.
func TestAlertRulesPromtool(t *testing.T) {
	out := render(t, ciValues("minimal-values.yaml"), "--set", "monitoring.prometheusRule.enabled=true")
	m, err := decodeAll(out)
	if err != nil {
		t.Fatal(err)
	}
	rule := m.PrometheusRules["kiln"]
	if rule == nil {
		t.Fatal("no PrometheusRule kiln in the render")
	}
	rules, err := yaml.Marshal(map[string]any{"groups": rule.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "alerts.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	cases, err := os.ReadFile(promtoolTests)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts_test.yaml"), cases, 0o644); err != nil {
		t.Fatal(err)
	}
	promtool := installPromtool(t)
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			t.Errorf("promtool %s: %v\n%s\nrules:\n%s", strings.Join(args, " "), err, buf.String(), rules)
		}
	}
}

// installPromtool returns the pinned promtool, building it on first use
// (cached by version).
func installPromtool(t *testing.T) string {
	t.Helper()
	script := filepath.Join(chartDir, "..", "..", "scripts", "setup-promtool.sh")
	cmd := exec.Command("bash", script)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("install promtool: %s: %v", script, err)
	}
	return strings.TrimSpace(string(out))
}
