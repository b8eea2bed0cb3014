package onnx_test

import (
	"testing"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// TestDefaults lists the inputs backed by initializers with their values,
// leaving out initializers that are not inputs and those over the size bound.
func TestDefaults(t *testing.T) {
	m, err := onnx.NewBuilder("defaults").
		Input("x", onnx.TensorType(onnx.Float, -1)).
		Input("k", onnx.TensorType(onnx.Int64, 2)).
		Input("big", onnx.TensorType(onnx.Float, 1024)).
		Input("name", onnx.TensorType(onnx.String, 1)).
		Initializer("k", onnx.Int64, []int64{2}, []int64{-3, 4}).
		Initializer("big", onnx.Float, []int64{1024}, make([]float32, 1024)).
		Initializer("name", onnx.String, []int64{1}, []string{"iris"}).
		Initializer("w", onnx.Float, []int64{1}, []float32{1}).
		Node("Identity", []string{"x"}, []string{"y"}).
		Output("y", onnx.TensorType(onnx.Float, -1)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].Name != "x" {
		t.Errorf("signature inputs %v, want x alone", m.Inputs)
	}
	defs := m.Defaults(1024)
	if len(defs) != 2 || defs[0].Name != "k" || defs[1].Name != "name" {
		t.Fatalf("defaults %v, want k and name (big is over 1024 bytes, w is no input)", defs)
	}
	k, err := oip.Values[int64](defs[0].Value)
	if err != nil || len(k) != 2 || k[0] != -3 || k[1] != 4 || defs[0].Value.Shape[0] != 2 {
		t.Errorf("k = %v %v (%v)", k, defs[0].Value.Shape, err)
	}
	if s := defs[1].Value.Strings; len(s) != 1 || string(s[0]) != "iris" {
		t.Errorf("name = %q", s)
	}
	if got := m.Defaults(8 << 10); len(got) != 3 {
		t.Errorf("with a larger bound: %d defaults, want 3", len(got))
	}
}
