package testenv

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/kilnml/kiln/pkg/onnx"
)

// AllTypes lists the element types that the Identity fixture carries, one
// input "in_<type>" and output "out_<type>" each, shape [-1, 2].
var AllTypes = []onnx.DataType{
	onnx.Bool, onnx.Uint8, onnx.Uint16, onnx.Uint32, onnx.Uint64,
	onnx.Int8, onnx.Int16, onnx.Int32, onnx.Int64,
	onnx.Float16, onnx.Float, onnx.Double, onnx.BFloat16, onnx.String,
}

// IdentityModel returns a model that passes one tensor of every type in AllTypes through.
func IdentityModel(t testing.TB) *onnx.Model {
	t.Helper()
	b := onnx.NewBuilder("identity")
	for _, dt := range AllTypes {
		in, out := "in_"+dt.String(), "out_"+dt.String()
		b.Input(in, onnx.TensorType(dt, -1, 2)).
			Node("Identity", []string{in}, []string{out}).
			Output(out, onnx.TensorType(dt, -1, 2))
	}
	return build(t, b)
}

// MultiIOModel returns a model with inputs a and b (float [-1,3]) and outputs
// sum = a+b, product = a*b (float [-1,3]) and argmax = argmax(a+b) (int64 [-1]).
func MultiIOModel(t testing.TB) *onnx.Model {
	t.Helper()
	b := onnx.NewBuilder("multi").
		Input("a", onnx.TensorType(onnx.Float, -1, 3)).
		Input("b", onnx.TensorType(onnx.Float, -1, 3)).
		Node("Add", []string{"a", "b"}, []string{"sum"}).
		Node("Mul", []string{"a", "b"}, []string{"product"}).
		Node("ArgMax", []string{"sum"}, []string{"argmax"}, onnx.AttrInt("axis", 1), onnx.AttrInt("keepdims", 0)).
		Output("sum", onnx.TensorType(onnx.Float, -1, 3)).
		Output("product", onnx.TensorType(onnx.Float, -1, 3)).
		Output("argmax", onnx.TensorType(onnx.Int64, -1))
	return build(t, b)
}

// ZipMapModel returns a scikit-learn style classifier head: input "x"
// (float [-1,3]) goes through Softmax to "probabilities" and through ZipMap
// (labels 0, 1, 2) to "output_probability", a seq(map(int64, float)).
func ZipMapModel(t testing.TB) *onnx.Model {
	t.Helper()
	b := onnx.NewBuilder("zipmap").
		Opset("ai.onnx.ml", 3).
		Input("x", onnx.TensorType(onnx.Float, -1, 3)).
		Node("Softmax", []string{"x"}, []string{"probabilities"}, onnx.AttrInt("axis", 1)).
		DomainNode("ai.onnx.ml", "ZipMap", []string{"probabilities"}, []string{"output_probability"}, onnx.AttrInts("classlabels_int64s", 0, 1, 2)).
		Output("probabilities", onnx.TensorType(onnx.Float, -1, 3)).
		Output("output_probability", onnx.SequenceType(onnx.MapType(onnx.Int64, onnx.TensorType(onnx.Float))))
	return build(t, b)
}

// WriteModel writes m into a temporary folder and returns its path.
func WriteModel(t testing.TB, m *onnx.Model) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func build(t testing.TB, b *onnx.Builder) *onnx.Model {
	t.Helper()
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// SlowModel returns a model whose run time grows with the batch: input "x"
// (float [-1,1024]) goes through layers MatMuls with one shared 1024x1024
// weight to "y" (float [-1,1024]). Useful for requests that must stay in flight.
func SlowModel(t testing.TB, layers int) *onnx.Model {
	t.Helper()
	w := make([]float32, 1024*1024)
	for i := range w {
		w[i] = float32(i%7-3) / 4096
	}
	b := onnx.NewBuilder("slow").
		Input("x", onnx.TensorType(onnx.Float, -1, 1024)).
		Initializer("w", onnx.Float, []int64{1024, 1024}, w)
	prev := "x"
	for i := range layers {
		next := fmt.Sprintf("h%d", i)
		if i == layers-1 {
			next = "y"
		}
		b.Node("MatMul", []string{prev, "w"}, []string{next})
		prev = next
	}
	return build(t, b.Output("y", onnx.TensorType(onnx.Float, -1, 1024)))
}

// AdderModel returns a model y = x + k, x and y float [-1,2]: versions built
// with different k answer differently, so a test can tell which one ran.
func AdderModel(t testing.TB, k float32) *onnx.Model {
	t.Helper()
	return build(t, onnx.NewBuilder("add").
		Input("x", onnx.TensorType(onnx.Float, -1, 2)).
		Initializer("k", onnx.Float, []int64{1}, []float32{k}).
		Node("Add", []string{"x", "k"}, []string{"y"}).
		Output("y", onnx.TensorType(onnx.Float, -1, 2)))
}

// VADModel returns a model shaped like a streaming voice-activity detector:
// inputs "input" (float [1,-1], an audio chunk), "state" (float [2,1,128])
// and "sr" (an int64 scalar, the sample rate); outputs "output" (float
// [1,1], sigmoid(mean(input)*sr/16000 + mean(state))) and "stateN" (float
// [2,1,128], state/2 + mean(input)), to be fed back as the next state.
func VADModel(t testing.TB) *onnx.Model {
	t.Helper()
	return build(t, onnx.NewBuilder("vad").
		Input("input", onnx.TensorType(onnx.Float, 1, -1)).
		Input("state", onnx.TensorType(onnx.Float, 2, 1, 128)).
		Input("sr", onnx.Type{Kind: onnx.KindTensor, Elem: onnx.Int64, Shape: []onnx.Dim{}}).
		Initializer("rate", onnx.Float, []int64{}, []float32{16000}).
		Initializer("half", onnx.Float, []int64{}, []float32{0.5}).
		Node("ReduceMean", []string{"input"}, []string{"level"}, onnx.AttrInts("axes", 1), onnx.AttrInt("keepdims", 1)).
		Node("Cast", []string{"sr"}, []string{"srf"}, onnx.AttrInt("to", int64(onnx.Float))).
		Node("Div", []string{"srf", "rate"}, []string{"gain"}).
		Node("ReduceMean", []string{"state"}, []string{"memory"}, onnx.AttrInt("keepdims", 0)).
		Node("Mul", []string{"level", "gain"}, []string{"scaled"}).
		Node("Add", []string{"scaled", "memory"}, []string{"logit"}).
		Node("Sigmoid", []string{"logit"}, []string{"output"}).
		Node("Mul", []string{"state", "half"}, []string{"decayed"}).
		Node("Add", []string{"decayed", "level"}, []string{"stateN"}).
		Output("output", onnx.TensorType(onnx.Float, 1, 1)).
		Output("stateN", onnx.TensorType(onnx.Float, 2, 1, 128)))
}

// ModelBytes returns m serialized.
func ModelBytes(t testing.TB, m *onnx.Model) []byte {
	t.Helper()
	data, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// DetectorModel returns a model whose output rows follow no input
// dimension: input "score" (float [rows,3]; rows < 0 for a dynamic
// batch) selects the rows of a fixed [3,2] table whose score is above 0.5
// into "boxes" (float [-1,2]), which is [0,2] when none is.
func DetectorModel(t testing.TB, rows int64) *onnx.Model {
	t.Helper()
	return build(t, onnx.NewBuilder("detector").
		Input("score", onnx.TensorType(onnx.Float, rows, 3)).
		Initializer("flat", onnx.Int64, []int64{1}, []int64{-1}).
		Initializer("cut", onnx.Float, []int64{}, []float32{0.5}).
		Initializer("table", onnx.Float, []int64{3, 2}, []float32{1, 2, 3, 4, 5, 6}).
		Node("Reshape", []string{"score", "flat"}, []string{"scores"}).
		Node("Greater", []string{"scores", "cut"}, []string{"hit"}).
		Node("Compress", []string{"table", "hit"}, []string{"boxes"}, onnx.AttrInt("axis", 0)).
		Output("boxes", onnx.TensorType(onnx.Float, -1, 2)))
}
