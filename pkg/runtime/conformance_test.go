package runtime_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/runtime"
)

// TestConformance runs every model of the conformance set in-process and
// checks each output against what ONNX semantics say it must be.
func TestConformance(t *testing.T) {
	for _, c := range testenv.ConformanceCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			m := load(t, c.Model)
			for i, r := range c.Requests {
				out, err := m.Run(context.Background(), r.Inputs, nil)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if len(out) != len(r.Want) {
					t.Fatalf("request %d: %d outputs, want %d", i, len(out), len(r.Want))
				}
				for j, want := range r.Want {
					if err := testenv.SameTensor(out[j], want); err != nil {
						t.Errorf("request %d: %v", i, err)
					}
				}
			}
		})
	}
}

// TestUnservableOutputsFailAtLoad refuses, when the model loads and with
// the reason, outputs that no OIP answer can carry.
func TestUnservableOutputsFailAtLoad(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	f := onnx.TensorType(onnx.Float, -1)
	for _, c := range []struct {
		name string
		b    *onnx.Builder
		want string
	}{
		{"complex", onnx.NewBuilder("complex").Input("x", onnx.TensorType(onnx.Complex64, -1)).
			Node("Identity", []string{"x"}, []string{"y"}).Output("y", onnx.TensorType(onnx.Complex64, -1)), "complex64 has no Open Inference Protocol datatype"},
		{"optional sequence", onnx.NewBuilder("optseq").Opset("", 18).Input("x", f).
			Node("SequenceConstruct", []string{"x"}, []string{"s"}).Node("Optional", []string{"s"}, []string{"o"}).
			Output("o", onnx.OptionalType(onnx.SequenceType(f))), "only optional tensors are"},
	} {
		m, err := c.b.Build()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := m.Bytes()
		if _, err := runtime.LoadBytes(data, runtime.Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
