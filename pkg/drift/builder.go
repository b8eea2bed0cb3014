package drift

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// ProfileOptions say how a ProfileBuilder summarizes columns. Zero fields
// take the defaults.
type ProfileOptions struct {
	// Bins is the number of histogram bins of a numeric feature (default 10).
	Bins int
	// SampleSize is the size of the reference sample kept for the
	// Kolmogorov-Smirnov test and the Wasserstein distance (default 1000).
	SampleSize int
	// MaxCategories bounds the distinct categories counted per feature
	// (default 1000); the rest are counted as OtherCategory.
	MaxCategories int
	// Categorical names features that are categorical although numeric.
	Categorical []string
	// Seed makes the random samples reproducible (default 1).
	Seed uint64
}

// Defaults of ProfileOptions.
const (
	DefaultBins          = 10
	DefaultSampleSize    = 1000
	DefaultMaxCategories = 1000
)

// maxDistinctNumeric is Evidently's rule for numbers that are categories: a
// numeric feature with at most 5 distinct reference values is categorical.
const maxDistinctNumeric = 5

// histogramSample bounds the values kept per numeric column to place the
// histogram edges and count the bins: past it they are a uniform sample.
const histogramSample = 100_000

func (o ProfileOptions) withDefaults() ProfileOptions {
	if o.Bins <= 0 {
		o.Bins = DefaultBins
	}
	if o.SampleSize <= 0 {
		o.SampleSize = DefaultSampleSize
	}
	if o.MaxCategories <= 0 {
		o.MaxCategories = DefaultMaxCategories
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// ProfileBuilder builds a Profile from reference rows added in batches,
// holding at most a bounded sample of each column. It is not safe for
// concurrent use.
type ProfileBuilder struct {
	opts        ProfileOptions
	categorical map[string]bool
	rng         *rand.Rand
	rows        int
	inputs      []*accumulator
	outputs     []*accumulator
}

// NewProfileBuilder returns an empty builder.
func NewProfileBuilder(opts ProfileOptions) *ProfileBuilder {
	opts = opts.withDefaults()
	b := &ProfileBuilder{opts: opts, categorical: map[string]bool{}, rng: rand.New(rand.NewPCG(opts.Seed, 0x6b696c6e))}
	for _, name := range opts.Categorical {
		b.categorical[name] = true
	}
	return b
}

// Add adds one batch of rows: one Column per feature and per model output,
// all of the same length. The first batch fixes the columns; later batches
// must carry the same names (in any order).
func (b *ProfileBuilder) Add(inputs, outputs []Column) error {
	if len(inputs) == 0 {
		return errors.New("profile: a batch without feature columns")
	}
	n := inputs[0].Len()
	for _, cols := range [][]Column{inputs, outputs} {
		for _, c := range cols {
			if c.Len() != n {
				return fmt.Errorf("profile: column %q has %d rows, %q has %d", c.Name, c.Len(), inputs[0].Name, n)
			}
		}
	}
	if b.inputs == nil {
		b.inputs = b.newAccumulators(inputs, false)
		b.outputs = b.newAccumulators(outputs, true)
	}
	if err := b.addAll(b.inputs, inputs); err != nil {
		return err
	}
	if err := b.addAll(b.outputs, outputs); err != nil {
		return err
	}
	b.rows += n
	return nil
}

func (b *ProfileBuilder) newAccumulators(cols []Column, output bool) []*accumulator {
	accs := make([]*accumulator, len(cols))
	for i, c := range cols {
		accs[i] = &accumulator{name: c.Name, output: output, text: c.Labels != nil, min: math.Inf(1), max: math.Inf(-1)}
	}
	return accs
}

func (b *ProfileBuilder) addAll(accs []*accumulator, cols []Column) error {
	if len(cols) != len(accs) {
		return fmt.Errorf("profile: batch has %d columns, the first had %d", len(cols), len(accs))
	}
	for _, a := range accs {
		i := slices.IndexFunc(cols, func(c Column) bool { return c.Name == a.name })
		if i < 0 {
			return fmt.Errorf("profile: column %q is missing from a batch", a.name)
		}
		if err := a.add(cols[i], b); err != nil {
			return err
		}
	}
	return nil
}

// Rows is the number of rows added so far.
func (b *ProfileBuilder) Rows() int { return b.rows }

// Build returns the profile of the rows added so far.
func (b *ProfileBuilder) Build() (*Profile, error) {
	if b.rows == 0 {
		return nil, errors.New("profile: no rows")
	}
	p := &Profile{Format: ProfileFormat, Rows: b.rows, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	for _, a := range b.inputs {
		p.Features = append(p.Features, a.profile(b))
	}
	for _, a := range b.outputs {
		p.Outputs = append(p.Outputs, a.profile(b))
	}
	return p, p.Validate()
}
