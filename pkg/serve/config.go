package serve

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/validate"
)

// Config is the serving node's per-model settings file (--config FILE.yaml):
//
//	defaults:                 # every model, unless it says otherwise
//	  request_timeout: 30s
//	  batching: {max_batch_size: 64, max_queue_delay: 500us}
//	models:
//	  iris:
//	    batching: {enabled: false, instances: 2}
//
// Unknown keys are errors.
type Config struct {
	Defaults ModelConfig            `yaml:"defaults"`
	Models   map[string]ModelConfig `yaml:"models"`
}

// ModelConfig holds one model's settings; zero values inherit the defaults.
type ModelConfig struct {
	Batching       BatchingConfig `yaml:"batching"`
	RequestTimeout Duration       `yaml:"request_timeout"`
	// Drift is taken whole from the model when it sets any drift key, else from the defaults.
	Drift DriftConfig `yaml:"drift"`
	Gates GatesConfig `yaml:"gates"`
	// IntraOpThreads is how many threads one ONNX Runtime Run may use; 0
	// keeps the node's default (runtime.DefaultThreads): one thread per Run,
	// and every core for a costly model's Run that finds no other in flight.
	IntraOpThreads int `yaml:"intra_op_threads"`
	// InterOpThreads, above 1, runs independent branches of the model's
	// graph in parallel on that many threads; 0 keeps them sequential.
	InterOpThreads int `yaml:"inter_op_threads"`
	// Canary sends a share of the model's requests to another version.
	Canary *TrafficSplit `yaml:"canary"`
	// Shadow mirrors a share of the model's requests to another version,
	// whose answers are compared with the real ones and discarded.
	Shadow *TrafficSplit `yaml:"shadow"`
	// Sticky keeps a client on one side of the canary split.
	Sticky *StickyConfig `yaml:"sticky"`
	// Rollback stops the canary or the shadow when they misbehave.
	Rollback RollbackRules `yaml:"rollback"`
}

// TrafficSplit names a registry reference (NAME@ALIAS or NAME@N) that
// takes Percent percent of a model's traffic.
type TrafficSplit struct {
	Ref     string  `yaml:"ref"`
	Percent float64 `yaml:"percent"`
}

// StickyConfig hashes the value of a request header (X-User-Id, ...), so
// that one key always meets the same version.
type StickyConfig struct {
	Header string `yaml:"header"`
}

// RollbackRules stop a canary (traffic back to the primary) or a shadow at
// once when one of them is broken; zero fields take the defaults.
type RollbackRules struct {
	// Enabled turns the rules off with false; default on.
	Enabled *bool `yaml:"enabled"`
	// Window is how many recent requests the rules judge; default 200.
	Window int `yaml:"window"`
	// MaxErrorRate: the canary's share of failed requests over the window; default 0.01.
	MaxErrorRate float64 `yaml:"max_error_rate"`
	// MaxP99Ratio: the canary's p99 over the primary's, each over the window; default 1.5.
	MaxP99Ratio float64 `yaml:"max_p99_ratio"`
	// MinAgreement: the share of shadow answers that agree with the primary's; default 0.95.
	MinAgreement float64 `yaml:"min_agreement"`
	// AbsTolerance and RelTolerance: numbers agree when |a-b| <= abs + rel*|b|;
	// defaults 1e-5 and 1e-3. Classes and integers must be equal.
	AbsTolerance float64 `yaml:"abs_tolerance"`
	RelTolerance float64 `yaml:"rel_tolerance"`
}

// GatesConfig tunes the validation gates a node runs on each new version
// from the registry (the model's policy, see pkg/validate).
type GatesConfig struct {
	// Enabled turns the node's gates off with false; default on.
	Enabled *bool `yaml:"enabled"`
	// LatencyP50, LatencyP95 and LatencyP99 replace the policy's batch-1
	// latency budget with one for this node's hardware.
	LatencyP50 Duration `yaml:"latency_p50"`
	LatencyP95 Duration `yaml:"latency_p95"`
	LatencyP99 Duration `yaml:"latency_p99"`
}

// BatchingConfig sets up a model's dynamic batcher (see runtime.BatchOptions).
type BatchingConfig struct {
	Enabled       *bool    `yaml:"enabled"`
	MaxBatchSize  int      `yaml:"max_batch_size"`
	MaxQueueDelay Duration `yaml:"max_queue_delay"`
	MaxQueueSize  int      `yaml:"max_queue_size"`
	Instances     int      `yaml:"instances"`
}

// Duration is a time.Duration written as "500us", "2ms", "30s" in YAML
// (the validation policy's type: one duration type for every settings file).
type Duration = validate.Duration

// LoadConfig reads a settings file strictly: unknown keys and bad values are errors.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &c, nil
}

// For returns a model's settings, its own over the defaults.
func (c *Config) For(model string) ModelConfig { return c.ForLayered(model, nil) }

// ForLayered returns a model's settings with a middle layer (a Triton
// config.pbtxt): the model's own settings win over it, and it wins over
// the defaults. middle may be nil.
func (c *Config) ForLayered(model string, middle *ModelConfig) ModelConfig {
	var own, defaults ModelConfig
	if c != nil {
		own, defaults = c.Models[model], c.Defaults
	}
	if middle != nil {
		defaults = merge(*middle, defaults)
	}
	return merge(own, defaults)
}

// merge returns own's settings, d's where own leaves them unset.
func merge(own, d ModelConfig) ModelConfig {
	merged := ModelConfig{
		RequestTimeout: pick(own.RequestTimeout, d.RequestTimeout),
		IntraOpThreads: pick(own.IntraOpThreads, d.IntraOpThreads),
		InterOpThreads: pick(own.InterOpThreads, d.InterOpThreads),
		Canary:         pick(own.Canary, d.Canary),
		Shadow:         pick(own.Shadow, d.Shadow),
		Sticky:         pick(own.Sticky, d.Sticky),
		Rollback: RollbackRules{
			Enabled:      own.Rollback.Enabled,
			Window:       pick(own.Rollback.Window, d.Rollback.Window),
			MaxErrorRate: pick(own.Rollback.MaxErrorRate, d.Rollback.MaxErrorRate),
			MaxP99Ratio:  pick(own.Rollback.MaxP99Ratio, d.Rollback.MaxP99Ratio),
			MinAgreement: pick(own.Rollback.MinAgreement, d.Rollback.MinAgreement),
			AbsTolerance: pick(own.Rollback.AbsTolerance, d.Rollback.AbsTolerance),
			RelTolerance: pick(own.Rollback.RelTolerance, d.Rollback.RelTolerance),
		},
		Batching: BatchingConfig{
			Enabled:       own.Batching.Enabled,
			MaxBatchSize:  pick(own.Batching.MaxBatchSize, d.Batching.MaxBatchSize),
			MaxQueueDelay: pick(own.Batching.MaxQueueDelay, d.Batching.MaxQueueDelay),
			MaxQueueSize:  pick(own.Batching.MaxQueueSize, d.Batching.MaxQueueSize),
			Instances:     pick(own.Batching.Instances, d.Batching.Instances),
		},
	}
	if merged.Batching.Enabled == nil {
		merged.Batching.Enabled = d.Batching.Enabled
	}
	if merged.Rollback.Enabled == nil {
		merged.Rollback.Enabled = d.Rollback.Enabled
	}
	merged.Drift = d.Drift
	if !reflect.ValueOf(own.Drift).IsZero() {
		merged.Drift = own.Drift
	}
	merged.Gates = GatesConfig{
		Enabled:    own.Gates.Enabled,
		LatencyP50: pick(own.Gates.LatencyP50, d.Gates.LatencyP50),
		LatencyP95: pick(own.Gates.LatencyP95, d.Gates.LatencyP95),
		LatencyP99: pick(own.Gates.LatencyP99, d.Gates.LatencyP99),
	}
	if merged.Gates.Enabled == nil {
		merged.Gates.Enabled = d.Gates.Enabled
	}
	return merged
}

func pick[T comparable](own, fallback T) T {
	var zero T
	if own != zero {
		return own
	}
	return fallback
}

// BatchOptions converts the batching settings for runtime.NewBatcher.
func (b BatchingConfig) BatchOptions() runtime.BatchOptions {
	return runtime.BatchOptions{
		Disabled:      b.Enabled != nil && !*b.Enabled,
		MaxBatchSize:  b.MaxBatchSize,
		MaxQueueDelay: time.Duration(b.MaxQueueDelay),
		MaxQueueSize:  b.MaxQueueSize,
		Instances:     b.Instances,
	}
}

// Validate reports settings that make no sense, such as models the node
// does not serve or traffic rules that do not add up.
func (c *Config) Validate(served func(name string) bool) error {
	if err := c.Defaults.checkThreads("defaults"); err != nil {
		return err
	}
	for name, m := range c.Models {
		if !served(name) {
			return fmt.Errorf("config: model %q is not served (no --model or repository entry for it)", name)
		}
		if err := m.checkThreads(fmt.Sprintf("model %q", name)); err != nil {
			return err
		}
		for role, split := range map[string]*TrafficSplit{RoleCanary: m.Canary, RoleShadow: m.Shadow} {
			if split == nil {
				continue
			}
			ref, err := registry.ParseRef(split.Ref)
			if err != nil {
				return fmt.Errorf("config: model %q: %s.ref: %w", name, role, err)
			}
			if ref.Name != name {
				return fmt.Errorf("config: model %q: %s.ref %q names another model", name, role, split.Ref)
			}
			if split.Percent <= 0 || split.Percent > 100 {
				return fmt.Errorf("config: model %q: %s.percent %v: want more than 0 and at most 100", name, role, split.Percent)
			}
		}
		if m.Sticky != nil && m.Sticky.Header == "" {
			return fmt.Errorf("config: model %q: sticky.header is empty", name)
		}
	}
	return nil
}

// checkThreads refuses negative thread counts in the settings of where.
func (m ModelConfig) checkThreads(where string) error {
	for key, n := range map[string]int{"intra_op_threads": m.IntraOpThreads, "inter_op_threads": m.InterOpThreads} {
		if n < 0 {
			return fmt.Errorf("config: %s: %s %d: want 0 (the default) or more", where, key, n)
		}
	}
	return nil
}
