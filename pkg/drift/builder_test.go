package drift

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"
)

// TestBuilderNumericProfile profiles 0..999 in two batches: exact moments,
// decile edges, equal bins, and a sorted sample of the requested size.
func TestBuilderNumericProfile(t *testing.T) {
	b := NewProfileBuilder(ProfileOptions{SampleSize: 100})
	all := make([]float64, 1000)
	for i := range all {
		all[i] = float64(i)
	}
	for _, part := range [][]float64{all[:300], all[300:]} {
		if err := b.Add([]Column{{Name: "x", Values: part}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	p, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	f := p.Feature("x")
	if p.Rows != 1000 || f == nil || f.Kind != Numeric || f.Count != 1000 {
		t.Fatalf("profile %+v", p)
	}
	near(t, "mean", f.Mean, 499.5, 1e-9)
	// Population variance of 0..n-1 is (n²-1)/12.
	near(t, "std", f.Std, math.Sqrt((1000*1000-1)/12.0), 1e-9)
	if f.Min != 0 || f.Max != 999 {
		t.Errorf("min, max = %v, %v", f.Min, f.Max)
	}
	wantEdges := []float64{0, 99, 199, 299, 399, 499, 599, 699, 799, 899, 999}
	if !slices.Equal(f.Edges, wantEdges) {
		t.Errorf("edges %v, want %v", f.Edges, wantEdges)
	}
	// [0,99) has 99 values, the middle bins 100, the last [899,999] 101.
	wantCounts := []int64{99, 100, 100, 100, 100, 100, 100, 100, 100, 101}
	if !slices.Equal(f.Counts, wantCounts) {
		t.Errorf("counts %v, want %v", f.Counts, wantCounts)
	}
	if len(f.Sample) != 100 || !slices.IsSorted(f.Sample) || f.Sample[0] < 0 || f.Sample[99] > 999 {
		t.Errorf("sample: %d values, sorted %v", len(f.Sample), slices.IsSorted(f.Sample))
	}
}

// TestBuilderKinds: text, few distinct numbers, discrete outputs and the
// Categorical option make categorical columns; missing values are counted.
func TestBuilderKinds(t *testing.T) {
	b := NewProfileBuilder(ProfileOptions{Categorical: []string{"zip"}})
	n := 60
	cont, few, zip, color, label := make([]float64, n), make([]float64, n), make([]float64, n), make([]string, n), make([]float64, n)
	for i := range n {
		cont[i] = float64(i) * 1.5
		few[i] = float64(i % 3)
		zip[i] = float64(10000 + i)
		color[i] = []string{"red", "green"}[i%2]
		label[i] = float64(i % 7)
	}
	cont[5] = math.NaN()
	score := slices.Clone(cont)
	inputs := []Column{{Name: "cont", Values: cont}, {Name: "few", Values: few}, {Name: "zip", Values: zip}, {Name: "color", Labels: color}}
	outputs := []Column{{Name: "label", Values: label, Discrete: true}, {Name: "score", Values: score}}
	if err := b.Add(inputs, outputs); err != nil {
		t.Fatal(err)
	}
	p, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, f := range append(slices.Clone(p.Features), p.Outputs...) {
		kinds[f.Name] = f.Kind
	}
	want := map[string]string{"cont": Numeric, "few": Categorical, "zip": Categorical, "color": Categorical, "label": Categorical, "score": Numeric}
	for name, k := range want {
		if kinds[name] != k {
			t.Errorf("%s is %q, want %q", name, kinds[name], k)
		}
	}
	if f := p.Feature("cont"); f.Missing != 1 || f.Count != 59 {
		t.Errorf("cont: count %d missing %d, want 59 and 1", f.Count, f.Missing)
	}
	if got := p.Feature("few").Frequencies; got["0"] != 20 || got["1"] != 20 || got["2"] != 20 {
		t.Errorf("few frequencies %v", got)
	}
	if got := p.Feature("color").Frequencies; got["red"] != 30 || got["green"] != 30 {
		t.Errorf("color frequencies %v", got)
	}
	if got := p.Output("label").Frequencies; len(got) != 7 || got["6"] != 8 {
		t.Errorf("label frequencies %v", got)
	}
}

// TestBuilderCategoryLimit: past MaxCategories, new categories count as
// OtherCategory.
func TestBuilderCategoryLimit(t *testing.T) {
	b := NewProfileBuilder(ProfileOptions{MaxCategories: 3})
	labels := []string{"a", "b", "c", "d", "e", "a"}
	if err := b.Add([]Column{{Name: "l", Labels: labels}}, nil); err != nil {
		t.Fatal(err)
	}
	p, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	got := p.Feature("l").Frequencies
	if got["a"] != 2 || got["b"] != 1 || got["c"] != 1 || got[OtherCategory] != 2 || len(got) != 4 {
		t.Errorf("frequencies %v", got)
	}
}

// TestBuilderRejects: mismatched lengths, changing columns and changing
// types are errors; an empty builder builds nothing.
func TestBuilderRejects(t *testing.T) {
	b := NewProfileBuilder(ProfileOptions{})
	if _, err := b.Build(); err == nil {
		t.Error("Build with no rows succeeded")
	}
	if err := b.Add([]Column{{Name: "a", Values: []float64{1, 2}}, {Name: "b", Values: []float64{1}}}, nil); err == nil {
		t.Error("columns of different lengths accepted")
	}
	if err := b.Add([]Column{{Name: "a", Values: []float64{1}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Add([]Column{{Name: "z", Values: []float64{1}}}, nil); err == nil {
		t.Error("a batch with other columns accepted")
	}
	if err := b.Add([]Column{{Name: "a", Labels: []string{"x"}}}, nil); err == nil {
		t.Error("text after numbers accepted")
	}
}

// TestProfileJSONRoundTrip: a built profile survives JSON and validation;
// broken profiles are rejected with ErrInvalidProfile.
func TestProfileJSONRoundTrip(t *testing.T) {
	b := NewProfileBuilder(ProfileOptions{})
	xs := make([]float64, 200)
	for i := range xs {
		xs[i] = float64(i*i) / 7
	}
	if err := b.Add([]Column{{Name: "x", Values: xs}}, []Column{{Name: "y", Labels: repeat("k", 200)}}); err != nil {
		t.Fatal(err)
	}
	p, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseProfile(data)
	if err != nil {
		t.Fatal(err)
	}
	if q.Rows != 200 || !slices.Equal(q.Features[0].Sample, p.Features[0].Sample) || q.Outputs[0].Frequencies["k"] != 200 {
		t.Errorf("round trip changed the profile: %+v", q)
	}
	bad := []string{
		`{"format": 2, "features": [{"name": "x", "kind": "categorical"}]}`,
		`{"format": 1, "features": []}`,
		`{"format": 1, "features": [{"name": "x", "kind": "ordinal"}]}`,
		`{"format": 1, "features": [{"name": "x", "kind": "numeric", "count": 3, "edges": [0, 1], "counts": [1, 2]}]}`,
		`{"format": 1, "features": [{"name": "x", "kind": "categorical"}, {"name": "x", "kind": "categorical"}]}`,
		`not json`,
	}
	for _, s := range bad {
		if _, err := ParseProfile([]byte(s)); !errors.Is(err, ErrInvalidProfile) {
			t.Errorf("ParseProfile(%s) = %v, want ErrInvalidProfile", s, err)
		}
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
