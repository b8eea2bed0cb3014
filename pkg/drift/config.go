package drift

import (
	"fmt"
	"time"
)

// Method names a drift test.
type Method string

// The drift tests, by their names in settings; methods (methods.go) says
// what each one needs, scores and defaults to.
const (
	MethodKS            Method = "ks"
	MethodWasserstein   Method = "wasserstein"
	MethodChiSquare     Method = "chisquare"
	MethodJensenShannon Method = "jensenshannon"
	MethodPSI           Method = "psi"
)

// DefaultThresholds are the thresholds Evidently uses by default.
var DefaultThresholds = defaultThresholds()

func defaultThresholds() map[Method]float64 {
	t := make(map[Method]float64, len(methods))
	for _, m := range methods {
		t[m.name] = m.threshold
	}
	return t
}

// Defaults of Config.
const (
	DefaultWindowRows       = 1000
	DefaultMinRows          = 100
	DefaultDriftShare       = 0.5
	DefaultWindowSampleSize = 5000
	DefaultWindowCategories = 1000
	smallReferenceRows      = 1000
)

// Config says how a Monitor windows live rows and tests them. Zero fields
// take the defaults.
type Config struct {
	// WindowRows closes a window once it holds this many rows (default 1000).
	WindowRows int `json:"window_rows,omitempty" yaml:"window_rows,omitempty"`
	// WindowTime also closes a window this long after its first row, if it
	// holds at least MinRows rows (default 0: no time limit).
	WindowTime time.Duration `json:"window_time,omitempty" yaml:"window_time,omitempty"`
	// MinRows is the fewest rows a window closed by time is tested on
	// (default 100, at most WindowRows); until then it stays open.
	MinRows int `json:"min_rows,omitempty" yaml:"min_rows,omitempty"`
	// DriftShare is the share of drifted features at which the dataset
	// counts as drifted (default 0.5).
	DriftShare float64 `json:"drift_share,omitempty" yaml:"drift_share,omitempty"`
	// SampleSize bounds the values of a numeric feature a window keeps for
	// KS and Wasserstein; past it they are a uniform sample (default 5000).
	SampleSize int `json:"sample_size,omitempty" yaml:"sample_size,omitempty"`
	// MaxCategories bounds the distinct categories a window counts per
	// feature (default 1000); the rest count as OtherCategory.
	MaxCategories int `json:"max_categories,omitempty" yaml:"max_categories,omitempty"`
	// NumericMethod and CategoricalMethod replace the automatic choice for
	// every numeric or categorical feature; Methods for single features and
	// outputs, by name.
	NumericMethod     Method            `json:"numeric_method,omitempty" yaml:"numeric_method,omitempty"`
	CategoricalMethod Method            `json:"categorical_method,omitempty" yaml:"categorical_method,omitempty"`
	Methods           map[string]Method `json:"methods,omitempty" yaml:"methods,omitempty"`
	// Thresholds replace DefaultThresholds, by method.
	Thresholds map[Method]float64 `json:"thresholds,omitempty" yaml:"thresholds,omitempty"`
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.WindowRows <= 0 {
		c.WindowRows = DefaultWindowRows
	}
	if c.MinRows <= 0 {
		c.MinRows = DefaultMinRows
	}
	c.MinRows = min(c.MinRows, c.WindowRows)
	if c.DriftShare == 0 {
		c.DriftShare = DefaultDriftShare
	}
	if c.SampleSize <= 0 {
		c.SampleSize = DefaultWindowSampleSize
	}
	if c.MaxCategories <= 0 {
		c.MaxCategories = DefaultWindowCategories
	}
	if c.WindowTime < 0 {
		return c, fmt.Errorf("drift config: window_time %v is negative", c.WindowTime)
	}
	if c.DriftShare < 0 || c.DriftShare > 1 {
		return c, fmt.Errorf("drift config: drift_share %v: want a share from 0 to 1", c.DriftShare)
	}
	for _, m := range []Method{c.NumericMethod, c.CategoricalMethod} {
		if m != "" && lookup(m) == nil {
			return c, unknownMethod(m)
		}
	}
	if m := lookup(c.CategoricalMethod); m != nil && m.numericOnly {
		return c, fmt.Errorf("drift config: categorical_method %q needs numbers; use %s", m.name, methodNames(true))
	}
	for name, m := range c.Methods {
		if lookup(m) == nil {
			return c, fmt.Errorf("drift config: methods[%s]: %w", name, unknownMethod(m))
		}
	}
	thresholds := make(map[Method]float64, len(DefaultThresholds))
	for m, t := range DefaultThresholds {
		thresholds[m] = t
	}
	for m, t := range c.Thresholds {
		if lookup(m) == nil {
			return c, fmt.Errorf("drift config: thresholds: %w", unknownMethod(m))
		}
		if t <= 0 {
			return c, fmt.Errorf("drift config: thresholds[%s] = %v: want a positive number", m, t)
		}
		thresholds[m] = t
	}
	c.Thresholds = thresholds
	return c, nil
}

func unknownMethod(m Method) error {
	return fmt.Errorf("unknown drift method %q: want %s", m, methodNames(false))
}

// methodFor chooses the test for one feature: the configured one, else
// Evidently's rule: on a reference of at most 1000 rows, KS for numbers and
// chi-square for categories; on a larger one, the normalized Wasserstein
// distance for numbers and the Jensen-Shannon distance for categories.
func (c Config) methodFor(f *FeatureProfile, referenceRows int) (*methodSpec, error) {
	m := c.Methods[f.Name]
	if m == "" && f.Kind == Numeric {
		m = c.NumericMethod
	}
	if m == "" && f.Kind == Categorical {
		m = c.CategoricalMethod
	}
	small := referenceRows <= smallReferenceRows
	switch {
	case m != "":
	case f.Kind == Numeric && small:
		m = MethodKS
	case f.Kind == Numeric:
		m = MethodWasserstein
	case small:
		m = MethodChiSquare
	default:
		m = MethodJensenShannon
	}
	spec := lookup(m)
	if f.Kind == Categorical && spec.numericOnly {
		return nil, fmt.Errorf("drift config: %q is categorical; method %q needs numbers", f.Name, m)
	}
	return spec, nil
}
