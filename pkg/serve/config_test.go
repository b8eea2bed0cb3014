package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigMergesModelOverDefaults(t *testing.T) {
	c, err := LoadConfig(writeConfig(t, `
defaults:
  request_timeout: 30s
  batching: {max_batch_size: 64, max_queue_delay: 500us, instances: 2}
models:
  iris:
    batching: {enabled: false, instances: 4}
`))
	if err != nil {
		t.Fatal(err)
	}
	iris := c.For("iris").Batching.BatchOptions()
	if !iris.Disabled || iris.Instances != 4 || iris.MaxBatchSize != 64 || iris.MaxQueueDelay != 500*time.Microsecond {
		t.Errorf("iris batching %+v", iris)
	}
	other := c.For("other")
	if other.Batching.BatchOptions().Disabled || other.Batching.Instances != 2 || time.Duration(other.RequestTimeout) != 30*time.Second {
		t.Errorf("other %+v", other)
	}
	if err := c.Validate(func(n string) bool { return n == "iris" }); err != nil {
		t.Error(err)
	}
	if err := c.Validate(func(string) bool { return false }); err == nil || !strings.Contains(err.Error(), `"iris"`) {
		t.Errorf("config for an unserved model: %v", err)
	}
}

func TestConfigRejectsUnknownKeysAndBadDurations(t *testing.T) {
	for text, want := range map[string]string{
		"models:\n  iris:\n    batching: {max_batch_sise: 8}\n": "max_batch_sise",
		"defaults:\n  request_timeout: soon\n":                  "soon",
	} {
		if _, err := LoadConfig(writeConfig(t, text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want it to name %q", text, err, want)
		}
	}
}

func TestConfigRejectsNegativeThreadCounts(t *testing.T) {
	for text, want := range map[string]string{
		"defaults:\n  intra_op_threads: -1\n":          "defaults: intra_op_threads -1",
		"models:\n  iris:\n    inter_op_threads: -2\n": `model "iris": inter_op_threads -2`,
	} {
		c, err := LoadConfig(writeConfig(t, text))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(func(string) bool { return true }); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want it to say %q", text, err, want)
		}
	}
}
