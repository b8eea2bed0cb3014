package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kilnml/kiln/pkg/oip"
)

// DefaultProtectedAliases are the aliases a policy protects when it names none.
var DefaultProtectedAliases = []string{"production"}

// Default latency measurement settings.
const (
	DefaultWarmup = 10
	DefaultRuns   = 100
	// MaxRuns bounds warm-up and measured runs, so a policy cannot stall a node.
	MaxRuns = 100000
)

// ErrInvalidPolicy is wrapped by every error about a malformed policy.
var ErrInvalidPolicy = errors.New("invalid policy")

// Policy is a model's validation policy: which aliases are protected and
// which gates a version must pass to be promoted to them or served. The zero
// Policy protects "production" and has no gates. It is written as YAML or
// JSON with the field names of the json tags; unknown fields are errors.
type Policy struct {
	// ProtectedAliases are the aliases whose moves run the gates. nil means
	// DefaultProtectedAliases; an empty list protects none.
	ProtectedAliases []string `json:"protected_aliases"`
	// Metrics maps a metric name (as recorded on the version) to its bounds.
	Metrics map[string]Threshold `json:"metrics,omitempty"`
	// MaxSizeBytes caps the model file's size (0: no limit).
	MaxSizeBytes int64 `json:"max_size_bytes,omitempty"`
	// Latency is the inference latency budget, measured where a runtime is.
	Latency *LatencyBudget `json:"latency,omitempty"`
	// Smoke runs an input example and checks the outputs.
	Smoke *SmokeTest `json:"smoke,omitempty"`
	// Signature requires the candidate to accept every request and produce
	// every output the version now behind the alias does.
	Signature bool `json:"signature,omitempty"`
	// Regression maps a metric name to the most it may worsen against the
	// version now behind the alias (absolute). A metric whose Metrics entry
	// has only a max bound is lower-is-better, so worsening means rising;
	// every other metric worsens by dropping.
	Regression map[string]float64 `json:"regression,omitempty"`
}

// Threshold bounds one metric: Min <= value <= Max (either may be nil).
type Threshold struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
}

// LatencyBudget caps inference latency percentiles at batch 1, and
// optionally at a larger batch, measured after Warmup runs over Runs runs.
// A zero percentile is not checked.
type LatencyBudget struct {
	P50 Duration `json:"p50,omitempty"`
	P95 Duration `json:"p95,omitempty"`
	P99 Duration `json:"p99,omitempty"`
	// Warmup is the number of unmeasured runs first (default DefaultWarmup).
	Warmup int `json:"warmup,omitempty"`
	// Runs is the number of measured runs (default DefaultRuns).
	Runs int `json:"runs,omitempty"`
	// Batch adds a budget at a larger batch size.
	Batch *BatchBudget `json:"batch,omitempty"`
}

// BatchBudget caps latency percentiles at a batch of Size rows (the input
// example's first row repeated).
type BatchBudget struct {
	Size int      `json:"size"`
	P50  Duration `json:"p50,omitempty"`
	P95  Duration `json:"p95,omitempty"`
	P99  Duration `json:"p99,omitempty"`
}

// SmokeTest runs one request through the model. Outputs must hold no NaN or
// infinity; with Expected set they must also match it within Tolerance.
type SmokeTest struct {
	// Input is the request to run; nil means the version's input example.
	Input *oip.InferRequest `json:"input,omitempty"`
	// Expected lists outputs the model must produce (by name), or nil.
	Expected *oip.InferResponse `json:"expected,omitempty"`
	// Tolerance is the largest allowed absolute difference per element of
	// a numeric output (0: exact).
	Tolerance float64 `json:"tolerance,omitempty"`
}

// Duration is a time.Duration written as a string such as "250us", "20ms" or "1.5s".
type Duration time.Duration

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string ("20ms").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"20ms\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as \"20ms\": %v", err)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML reads a duration string ("500us", "2ms", "30s") from a
// YAML settings file; negative durations are refused.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration such as 500us, 2ms or 30s", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Protected returns the aliases the policy protects.
func (p Policy) Protected() []string {
	if p.ProtectedAliases == nil {
		return DefaultProtectedAliases
	}
	return p.ProtectedAliases
}

// Protects reports whether moving alias runs the gates.
func (p Policy) Protects(alias string) bool {
	return slices.Contains(p.Protected(), alias)
}

// Validate checks that the policy makes sense: bounds that can be met,
// positive budgets, run counts in range. Errors wrap ErrInvalidPolicy.
func (p Policy) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidPolicy}, args...)...))
	}
	for _, a := range p.ProtectedAliases {
		if a == "" {
			bad("protected_aliases: empty alias")
		}
	}
	for _, name := range sortedKeys(p.Metrics) {
		t := p.Metrics[name]
		switch {
		case name == "":
			bad("metrics: empty metric name")
		case t.Min == nil && t.Max == nil:
			bad("metrics.%s: set min, max or both", name)
		case !finitePtr(t.Min) || !finitePtr(t.Max):
			bad("metrics.%s: bounds must be finite numbers", name)
		case t.Min != nil && t.Max != nil && *t.Min > *t.Max:
			bad("metrics.%s: min %g is above max %g", name, *t.Min, *t.Max)
		}
	}
	if p.MaxSizeBytes < 0 {
		bad("max_size_bytes: %d is negative", p.MaxSizeBytes)
	}
	for _, name := range sortedKeys(p.Regression) {
		if d := p.Regression[name]; d < 0 || math.IsNaN(d) || math.IsInf(d, 0) {
			bad("regression.%s: the allowed drop must be a finite number >= 0, got %g", name, d)
		}
	}
	if l := p.Latency; l != nil {
		if l.P50 <= 0 && l.P95 <= 0 && l.P99 <= 0 && l.Batch == nil {
			bad("latency: set at least one of p50, p95, p99")
		}
		if l.P50 < 0 || l.P95 < 0 || l.P99 < 0 {
			bad("latency: percentiles must be positive durations")
		}
		if l.Warmup < 0 || l.Warmup > MaxRuns || l.Runs < 0 || l.Runs > MaxRuns {
			bad("latency: warmup and runs must be between 0 and %d", MaxRuns)
		}
		if b := l.Batch; b != nil {
			if b.Size < 2 {
				bad("latency.batch.size: want at least 2 (batch 1 is the top-level budget), got %d", b.Size)
			}
			if b.P50 <= 0 && b.P95 <= 0 && b.P99 <= 0 {
				bad("latency.batch: set at least one of p50, p95, p99 as a positive duration")
			}
		}
	}
	if s := p.Smoke; s != nil && (s.Tolerance < 0 || math.IsNaN(s.Tolerance)) {
		bad("smoke.tolerance: want a number >= 0, got %g", s.Tolerance)
	}
	return errors.Join(errs...)
}

// runs returns the warm-up and measured run counts with their defaults.
func (l *LatencyBudget) runs() (warmup, runs int) {
	warmup, runs = l.Warmup, l.Runs
	if warmup == 0 {
		warmup = DefaultWarmup
	}
	if runs == 0 {
		runs = DefaultRuns
	}
	return warmup, runs
}

func finitePtr(f *float64) bool {
	return f == nil || (!math.IsNaN(*f) && !math.IsInf(*f, 0))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
