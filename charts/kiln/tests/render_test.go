package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// chartDir is the chart under test, relative to this package.
const chartDir = ".."

// valuesFiles are the CI values files every check runs over.
var valuesFiles = []string{"minimal-values.yaml", "full-values.yaml", "external-s3-values.yaml", "keda-values.yaml"}

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helm returns the pinned helm binary, installing it on first use with
// scripts/setup-helm.sh (cached by version) unless KILN_HELM names one.
func helm(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() {
		script := filepath.Join(chartDir, "..", "..", "scripts", "setup-helm.sh")
		cmd := exec.Command("bash", script)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			helmErr = fmt.Errorf("%s: %w", script, err)
			return
		}
		helmPath = strings.TrimSpace(string(out))
	})
	if helmErr != nil {
		t.Fatalf("install helm: %v", helmErr)
	}
	return helmPath
}

// runHelm runs helm with args in the chart folder and returns its stdout;
// when helm fails, the error carries its stdout (helm lint reports there)
// and its stderr.
func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	cmd.Dir = chartDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w: %s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// render runs helm template over one values file (a path relative to the
// chart) as release "kiln" in namespace "ml" and fails the test if it fails.
func render(t *testing.T, values string, extra ...string) string {
	t.Helper()
	args := append([]string{"template", "kiln", ".", "--namespace", "ml", "-f", values}, extra...)
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// renderDefaults runs helm template with the chart's own values only (plus
// extra flags), as `helm install kiln charts/kiln` does.
func renderDefaults(t *testing.T, extra ...string) string {
	t.Helper()
	out, err := runHelm(t, append([]string{"template", "kiln", ".", "--namespace", "ml"}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ciValues is the path of a CI values file relative to the chart.
func ciValues(name string) string { return filepath.Join("ci", name) }
