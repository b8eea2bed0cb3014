package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/onnx"
)

var scalarFloat = onnx.Type{Kind: onnx.KindTensor, Elem: onnx.Float, Shape: []onnx.Dim{}}

// TestBatchFeedsScalarInputsFromAColumn scores a model whose "gain" input
// is a scalar: each row's "gain" cell feeds it, one row per run, and the
// scalar output "y" = sum(x) * gain is one value per row.
func TestBatchFeedsScalarInputsFromAColumn(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	m, err := onnx.NewBuilder("scaled-sum").
		Input("x", onnx.TensorType(onnx.Float, 1, 2)).
		Input("gain", scalarFloat).
		Node("ReduceSum", []string{"x"}, []string{"sum"}, onnx.AttrInt("keepdims", 0)).
		Node("Mul", []string{"sum", "gain"}, []string{"y"}).
		Output("y", scalarFloat).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "out.csv")
	os.WriteFile(in, []byte(`{"x":[1,2],"gain":2}`+"\n"+`{"x":[3,4],"gain":0.5}`+"\n"+`{"x":[1,1],"gain":"loud"}`+"\n"), 0o644)
	code, _, stderr := kiln(t, "http://127.0.0.1:1", "batch", "--model", testenv.WriteModel(t, m), "--input", in, "--output", out, "--on-error", "skip")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if errs, _ := os.ReadFile(out + ".errors.jsonl"); !strings.Contains(string(errs), `\"loud\" is not a number`) {
		t.Errorf("errors file %q lacks the bad gain", errs)
	}
	got, _ := os.ReadFile(out)
	if want := "x,gain,y\n\"[1,2]\",2,6\n\"[3,4]\",0.5,3.5\n"; string(got) != want {
		t.Errorf("scores %q, want %q", got, want)
	}
}

// TestBatchWritesEmptyOutputs scores a detector-like model whose "boxes"
// output has shape [k, 2], k the scores above 0.5, and is empty for a row
// where none is: that row gets an empty list, not an error.
func TestBatchWritesEmptyOutputs(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	m := testenv.DetectorModel(t, 1)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "out.jsonl")
	os.WriteFile(in, []byte(`{"score":[0.9,0.1,0.7]}`+"\n"+`{"score":[0,0,0]}`+"\n"), 0o644)
	code, _, stderr := kiln(t, "http://127.0.0.1:1", "batch", "--model", testenv.WriteModel(t, m), "--input", in, "--output", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(out)
	if want := `{"score":[0.9,0.1,0.7],"boxes":[1,2,5,6]}` + "\n" + `{"score":[0,0,0],"boxes":[]}` + "\n"; string(got) != want {
		t.Errorf("scores %q, want %q", got, want)
	}
}

// TestEvaluateScalarInputs evaluates a regressor y = a + b whose inputs are
// two scalars, each fed from its own column, one row per run.
func TestEvaluateScalarInputs(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	m, err := onnx.NewBuilder("adder").
		Input("a", scalarFloat).
		Input("b", scalarFloat).
		Node("Add", []string{"a", "b"}, []string{"y"}).
		Output("y", scalarFloat).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data.jsonl")
	os.WriteFile(data, []byte("{\"a\":1,\"b\":1,\"t\":2}\n{\"a\":2,\"b\":1,\"t\":3}\n{\"a\":3,\"b\":1,\"t\":5}\n"), 0o644)
	code, stdout, stderr := kiln(t, "http://127.0.0.1:1", "evaluate", "--model", testenv.WriteModel(t, m), "--data", data, "--label", "t", "--task", "regression")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// predictions 2, 3, 4 against labels 2, 3, 5.
	for _, want := range []string{"3 rows", "mae", "0.3333"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}

	// The same model profiled: one feature per scalar input, and its output.
	code, stdout, stderr = kiln(t, "http://127.0.0.1:1", "profile", "--model", testenv.WriteModel(t, m), "--data", data)
	if code != 0 {
		t.Fatalf("profile: exit %d: %s", code, stderr)
	}
	p, err := drift.ParseProfile([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range p.Features {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "a,b" || len(p.Outputs) != 1 || p.Outputs[0].Name != "y" || p.Rows != 3 {
		t.Errorf("profile features %v, outputs %d, rows %d; want a,b and y over 3 rows", names, len(p.Outputs), p.Rows)
	}
}
