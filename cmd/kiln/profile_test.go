package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/registry"
)

// driftExample is the drift example's folder (model and data).
func driftExample(t *testing.T, name string) string {
	return filepath.Join(testenv.RepoRoot(t), "examples", "drift", name)
}

// TestProfileCommand profiles the drift example's reference data: features
// named from the model's feature_names, c categorical, the label output as
// class frequencies and the probabilities as numeric columns.
func TestProfileCommand(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	out := filepath.Join(t.TempDir(), "profile.json")
	code, stdout, stderr := kiln(t, "http://127.0.0.1:1", "profile", "--model", driftExample(t, "model.onnx"),
		"--data", driftExample(t, "reference.csv"), "--bins", "5", "--sample", "200", "-o", out)
	if code != 0 {
		t.Fatalf("profile: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "profiled 1000 rows") || !strings.Contains(stdout, "label") {
		t.Errorf("stdout %q lacks the summary", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p, err := drift.ParseProfile(data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 1000 || len(p.Features) != 3 || len(p.Outputs) != 3 {
		t.Fatalf("profile: %d rows, %d features, %d outputs", p.Rows, len(p.Features), len(p.Outputs))
	}
	for name, kind := range map[string]string{"a": drift.Numeric, "b": drift.Numeric, "c": drift.Categorical} {
		if f := p.Feature(name); f == nil || f.Kind != kind || f.Count != 1000 {
			t.Errorf("feature %s: %+v, want %s with 1000 values", name, f, kind)
		}
	}
	if a := p.Feature("a"); len(a.Counts) != 5 || len(a.Sample) != 200 {
		t.Errorf("a: %d bins and %d sample values, want 5 and 200", len(a.Counts), len(a.Sample))
	}
	label := p.Output("label")
	if label == nil || label.Kind != drift.Categorical || label.Frequencies["low"]+label.Frequencies["high"] != 1000 {
		t.Errorf("label output: %+v", label)
	}
	if pr := p.Output("probabilities_1"); pr == nil || pr.Kind != drift.Numeric || pr.Min < 0 || pr.Max > 1 {
		t.Errorf("probabilities_1 output: %+v", pr)
	}
}

// TestProfileFeaturesAndErrors: --features renames the input columns and
// must name columns the data has; without -o the JSON goes to stdout.
func TestProfileFeaturesAndErrors(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	model, data := driftExample(t, "model.onnx"), driftExample(t, "current.csv")
	code, stdout, stderr := kiln(t, "http://127.0.0.1:1", "profile", "--model", model, "--data", data, "--features", "c,b,a")
	if code != 0 {
		t.Fatalf("profile --features: exit %d: %s", code, stderr)
	}
	p, err := drift.ParseProfile([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if p.Features[0].Name != "c" || p.Features[0].Kind != drift.Categorical || p.Features[2].Name != "a" {
		t.Errorf("features %s, %s, %s; want c (categorical), b, a", p.Features[0].Name, p.Features[1].Name, p.Features[2].Name)
	}
	code, _, stderr = kiln(t, "http://127.0.0.1:1", "profile", "--model", model, "--data", data, "--features", "a,b,zzz")
	if code != 1 || !strings.Contains(stderr, `"zzz"`) {
		t.Errorf("unknown feature column: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = kiln(t, "http://127.0.0.1:1", "profile", "--model", model, "--data", data, "--bins", "0")
	if code != 2 {
		t.Errorf("--bins 0: exit %d (%s), want 2", code, stderr)
	}
}

// TestPushReference: kiln push --reference profiles the data with the
// pushed model and stores the profile with the version; a profile file that
// is not one is refused before anything is sent.
func TestPushReference(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	reg, _ := startRegistry(t)
	model, data := driftExample(t, "model.onnx"), driftExample(t, "reference.csv")
	code, _, stderr := kiln(t, reg, "push", "drifty", model, "--reference", data)
	if code != 0 {
		t.Fatalf("push --reference: exit %d: %s", code, stderr)
	}
	client := registry.NewClient(reg, "", nil)
	p := storedProfile(t, client, registry.Ref{Name: "drifty", Version: 1})
	if p.Rows != 1000 || p.Feature("c") == nil || p.Output("label") == nil {
		t.Errorf("stored profile: %d rows, features %v", p.Rows, p.Features)
	}

	code, _, _ = kiln(t, reg, "push", "drifty", model, "--reference", data, "--reference-profile", "p.json")
	if code != 2 {
		t.Errorf("--reference with --reference-profile: exit %d, want 2", code)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"format": 1, "features": []}`), 0o644)
	code, _, stderr = kiln(t, reg, "push", "drifty", model, "--reference-profile", bad)
	if code != 1 || !strings.Contains(stderr, "kiln profile") {
		t.Errorf("invalid profile file: exit %d, stderr %q", code, stderr)
	}
	if _, err := client.Resolve(context.Background(), registry.Ref{Name: "drifty", Version: 2}); err == nil {
		t.Error("a refused push created version 2")
	}
}

// storedProfile reads the reference profile the registry keeps for ref.
func storedProfile(t *testing.T, client *registry.Client, ref registry.Ref) *drift.Profile {
	t.Helper()
	v, err := client.Resolve(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := client.ReferenceProfile(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	p, err := drift.ParseProfile(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPushReferenceColumns: a model without feature_names metadata gets its
// reference columns from --features or a --mapping file, as in kiln profile
// and kiln batch; without them the error names those flags, which push has.
func TestPushReferenceColumns(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	reg, _ := startRegistry(t)
	dir := t.TempDir()
	model := writeModel(t, dir, 1) // input x float [-1,2], no feature_names
	data := filepath.Join(dir, "ref.csv")
	os.WriteFile(data, []byte("p,q,note\n1,10,a\n2,20,b\n3,30,c\n4,40,d\n"), 0o644)
	mapping := filepath.Join(dir, "mapping.yaml")
	os.WriteFile(mapping, []byte("x: [q, p]\n"), 0o644)

	code, _, stderr := kiln(t, reg, "push", "adder", model, "--reference", data)
	if code != 1 || !strings.Contains(stderr, "pass --features or a --mapping file") {
		t.Fatalf("push --reference without columns: exit %d, stderr %q", code, stderr)
	}
	client := registry.NewClient(reg, "", nil)
	if _, err := client.Resolve(context.Background(), registry.Ref{Name: "adder", Version: 1}); err == nil {
		t.Fatal("a push whose reference could not be profiled created a version")
	}

	for i, columns := range [][]string{{"--features", "p,q"}, {"--mapping", mapping}} {
		code, stdout, stderr := kiln(t, reg, append([]string{"push", "adder", model, "--reference", data}, columns...)...)
		if code != 0 || !strings.Contains(stdout, fmt.Sprintf("pushed adder@%d", i+1)) {
			t.Fatalf("push --reference %v: exit %d: %s%s", columns, code, stdout, stderr)
		}
		p := storedProfile(t, client, registry.Ref{Name: "adder", Version: i + 1})
		first, second := columns[1][:1], "q"
		if columns[0] == "--mapping" {
			first, second = "q", "p"
		}
		if p.Rows != 4 || len(p.Features) != 2 || p.Features[0].Name != first || p.Features[1].Name != second {
			t.Fatalf("profile with %v: %d rows, features %+v", columns, p.Rows, p.Features)
		}
		// y = x + 1: the output profile saw the columns in the order given.
		if f := p.Feature(first); f.Min != map[string]float64{"p": 1, "q": 10}[first] || f.Max != map[string]float64{"p": 4, "q": 40}[first] {
			t.Errorf("feature %s: min %v max %v", first, f.Min, f.Max)
		}
		if y := p.Output("y_0"); y == nil || y.Min != map[string]float64{"p": 2, "q": 11}[first] {
			t.Errorf("output y_0 with %v: %+v (outputs %+v)", columns, y, p.Outputs)
		}
	}

	code, _, stderr = kiln(t, reg, "push", "adder", model, "--features", "p,q")
	if code != 2 || !strings.Contains(stderr, "pass --reference too") {
		t.Errorf("--features without --reference: exit %d, stderr %q", code, stderr)
	}
}
