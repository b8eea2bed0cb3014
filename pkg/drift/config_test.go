package drift

import (
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestConfigYAML: the serving node's settings file decodes into Config
// with the keys docs/drift.md lists, durations included.
func TestConfigYAML(t *testing.T) {
	var cfg Config
	err := yaml.Unmarshal([]byte(`
window_rows: 500
window_time: 10m
min_rows: 50
drift_share: 0.3
numeric_method: psi
methods: {c: jensenshannon}
thresholds: {psi: 0.2}
`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WindowRows != 500 || cfg.WindowTime != 10*time.Minute || cfg.MinRows != 50 || cfg.DriftShare != 0.3 ||
		cfg.NumericMethod != MethodPSI || cfg.Methods["c"] != MethodJensenShannon || cfg.Thresholds[MethodPSI] != 0.2 {
		t.Errorf("decoded %+v", cfg)
	}
	full, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if full.Thresholds[MethodKS] != 0.05 || full.Thresholds[MethodPSI] != 0.2 || full.SampleSize != DefaultWindowSampleSize {
		t.Errorf("defaults: %+v", full)
	}
}
