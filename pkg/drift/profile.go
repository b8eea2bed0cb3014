package drift

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ProfileFormat is the version of the profile JSON layout this package
// writes and reads.
const ProfileFormat = 1

// The kinds of a feature.
const (
	// Numeric features are compared as distributions of numbers.
	Numeric = "numeric"
	// Categorical features are compared as frequencies of categories.
	Categorical = "categorical"
)

// OtherCategory collects the categories past the limit on distinct
// categories a profile or window keeps.
const OtherCategory = "__other__"

// Profile describes reference data (usually the training or validation set)
// and the model's outputs on it; it is stored as JSON with a model version
// and is what live traffic is compared with.
type Profile struct {
	// Format is ProfileFormat.
	Format int `json:"format"`
	// Features are the model's input features, in the model's order.
	Features []FeatureProfile `json:"features"`
	// Outputs are the model's output columns (see TensorColumns for names).
	Outputs []FeatureProfile `json:"outputs,omitempty"`
	// Rows is the number of reference rows profiled.
	Rows      int       `json:"rows"`
	CreatedAt time.Time `json:"created_at"`
}

// FeatureProfile describes one feature or output of the reference data.
type FeatureProfile struct {
	Name string `json:"name"`
	// Kind is Numeric or Categorical.
	Kind string `json:"kind"`
	// Count is the number of values present, Missing of those absent.
	Count   int64 `json:"count"`
	Missing int64 `json:"missing,omitempty"`
	// Edges are the histogram bin edges of a numeric feature (the
	// reference's quantiles, len(Counts)+1 of them, from Min to Max) and
	// Counts the reference values in each bin. A bin holds [Edges[i],
	// Edges[i+1]); the last also holds Max. When live values are binned,
	// those below Min fall in the first bin and those above Max in the last.
	Edges  []float64 `json:"edges,omitempty"`
	Counts []int64   `json:"counts,omitempty"`
	// Mean, Std (population standard deviation), Min and Max of a numeric
	// feature's values.
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	// Sample is a uniform random sample of a numeric feature's values,
	// sorted, for the Kolmogorov-Smirnov test and the Wasserstein distance.
	Sample []float64 `json:"sample,omitempty"`
	// Frequencies counts each category of a categorical feature.
	Frequencies map[string]int64 `json:"frequencies,omitempty"`
}

// ErrInvalidProfile marks a profile that cannot be used.
var ErrInvalidProfile = errors.New("invalid drift profile")

// ParseProfile decodes a profile from JSON and checks it.
func ParseProfile(data []byte) (*Profile, error) {
	var p Profile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidProfile, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks that the profile is complete and consistent.
func (p *Profile) Validate() error {
	if p.Format != ProfileFormat {
		return fmt.Errorf("%w: format %d, this version of Kiln reads format %d", ErrInvalidProfile, p.Format, ProfileFormat)
	}
	if len(p.Features) == 0 {
		return fmt.Errorf("%w: no features", ErrInvalidProfile)
	}
	seen := map[string]bool{}
	for _, group := range []struct {
		what string
		fs   []FeatureProfile
	}{{"feature", p.Features}, {"output", p.Outputs}} {
		clear(seen)
		for i := range group.fs {
			f := &group.fs[i]
			if seen[f.Name] {
				return fmt.Errorf("%w: %s %q is listed twice", ErrInvalidProfile, group.what, f.Name)
			}
			seen[f.Name] = true
			if err := f.validate(); err != nil {
				return fmt.Errorf("%w: %s %q: %v", ErrInvalidProfile, group.what, f.Name, err)
			}
		}
	}
	return nil
}

func (f *FeatureProfile) validate() error {
	if f.Name == "" {
		return errors.New("no name")
	}
	switch f.Kind {
	case Categorical:
		return nil
	case Numeric:
	default:
		return fmt.Errorf("kind %q: want %q or %q", f.Kind, Numeric, Categorical)
	}
	if f.Count == 0 {
		return nil // no values seen: nothing to compare with
	}
	if len(f.Edges) != len(f.Counts)+1 || len(f.Counts) == 0 {
		return fmt.Errorf("%d edges for %d bins; want one more edge than bins", len(f.Edges), len(f.Counts))
	}
	if !slices.IsSorted(f.Edges) || !slices.IsSorted(f.Sample) {
		return errors.New("edges and sample must be sorted")
	}
	if len(f.Sample) == 0 {
		return errors.New("no sample")
	}
	for _, v := range []float64{f.Mean, f.Std, f.Min, f.Max} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.New("mean, std, min and max must be finite")
		}
	}
	return nil
}

// Feature returns the feature named name, or nil.
func (p *Profile) Feature(name string) *FeatureProfile { return find(p.Features, name) }

// Output returns the output column named name, or nil.
func (p *Profile) Output(name string) *FeatureProfile { return find(p.Outputs, name) }

func find(fs []FeatureProfile, name string) *FeatureProfile {
	for i := range fs {
		if fs[i].Name == name {
			return &fs[i]
		}
	}
	return nil
}
