package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
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

// TestExternalData loads a model whose weights lie in a file beside it, as
// exporters write models past protobuf's 2 GiB.
func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	weights := oip.NewTensor("w", []int64{2}, []float32{10, 20})
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), append(make([]byte, 16), weights.Raw...), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := onnx.NewBuilder("external").
		Input("x", onnx.TensorType(onnx.Float, 2)).
		ExternalInitializer("w", onnx.Float, []int64{2}, "weights.bin", 16, 8).
		Node("Add", []string{"x", "w"}, []string{"y"}).
		Output("y", onnx.TensorType(onnx.Float, 2)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "model.onnx")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	model, err := runtime.Load(path, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer model.Close()
	out, err := model.Run(context.Background(), []*oip.Tensor{oip.NewTensor("x", []int64{2}, []float32{1, 2})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.SameTensor(out[0], oip.NewTensor("y", []int64{2}, []float32{11, 22})); err != nil {
		t.Error(err)
	}
}
