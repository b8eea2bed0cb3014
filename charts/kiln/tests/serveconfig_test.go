package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeAcceptsRenderedSettings renders every CI values file and runs
// `kiln-serve --check-config` on each serving ConfigMap's settings file, so
// the chart and kiln-serve cannot drift apart (kiln-serve refuses unknown keys).
func TestServeAcceptsRenderedSettings(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "kiln-serve")
	build := exec.Command("go", "build", "-o", bin, "./cmd/serve")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build kiln-serve: %v\n%s", err, out)
	}
	checked := 0
	for _, values := range valuesFiles {
		m := renderDecoded(t, values)
		for name, cm := range m.ConfigMaps {
			settings, ok := cm.Data["config.yaml"]
			if !ok || !strings.Contains(name, "serve-") {
				continue
			}
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(settings), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, "--check-config", "--config", path).CombinedOutput(); err != nil {
				t.Errorf("%s: ConfigMap %s: kiln-serve refuses its settings: %v\n%s\n%s", values, name, err, out, settings)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no serving settings file was rendered")
	}
}
