package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/runtime"
)

func load(t testing.TB, model *onnx.Model) *runtime.Model {
	t.Helper()
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	m, err := runtime.Load(testenv.WriteModel(t, model), runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestEveryDatatypeRoundTrips(t *testing.T) {
	m := load(t, testenv.IdentityModel(t))
	var inputs []*oip.Tensor
	for _, dt := range testenv.AllTypes {
		inputs = append(inputs, testenv.SampleTensor("in_"+dt.String(), dt))
	}
	outputs, err := m.Run(context.Background(), inputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(outputs) != len(testenv.AllTypes) {
		t.Fatalf("got %d outputs, want %d", len(outputs), len(testenv.AllTypes))
	}
	for i, dt := range testenv.AllTypes {
		in, out := inputs[i], outputs[i]
		if out.Name != "out_"+dt.String() || out.Datatype != in.Datatype || !equalShape(out.Shape, in.Shape) {
			t.Errorf("%s: got %s %s %v, want %s %v", dt, out.Name, out.Datatype, out.Shape, in.Datatype, in.Shape)
			continue
		}
		if !bytes.Equal(out.Raw, in.Raw) || !equalStrings(out.Strings, in.Strings) {
			t.Errorf("%s: data changed: raw %v -> %v, strings %q -> %q", dt, in.Raw, out.Raw, in.Strings, out.Strings)
		}
	}
}

func TestMultipleInputsAndOutputSelection(t *testing.T) {
	m := load(t, testenv.MultiIOModel(t))
	a := oip.NewTensor("a", []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	b := oip.NewTensor("b", []int64{2, 3}, []float32{10, 0, 0, 0, 0, 10})
	// Inputs in another order than the model's, outputs picked and reordered.
	out, err := m.Run(context.Background(), []*oip.Tensor{b, a}, []string{"argmax", "product"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Name != "argmax" || out[1].Name != "product" {
		t.Fatalf("outputs %v", out)
	}
	argmax, _ := oip.Values[int64](out[0])
	if want := []int64{0, 2}; !equalShape(argmax, want) {
		t.Errorf("argmax %v, want %v", argmax, want)
	}
	product, _ := oip.Values[float32](out[1])
	if want := []float32{10, 0, 0, 0, 0, 60}; len(product) != 6 || product[0] != want[0] || product[5] != want[5] {
		t.Errorf("product %v, want %v", product, want)
	}
}

func TestDynamicBatchDimension(t *testing.T) {
	m := load(t, testenv.MultiIOModel(t))
	for _, rows := range []int{1, 64} {
		data := make([]float32, rows*3)
		for i := range data {
			data[i] = float32(i)
		}
		a := oip.NewTensor("a", []int64{int64(rows), 3}, data)
		b := oip.NewTensor("b", []int64{int64(rows), 3}, data)
		out, err := m.Run(context.Background(), []*oip.Tensor{a, b}, []string{"sum"})
		if err != nil {
			t.Fatal(err)
		}
		sum, _ := oip.Values[float32](out[0])
		if out[0].Shape[0] != int64(rows) || len(sum) != rows*3 || sum[len(sum)-1] != 2*data[len(data)-1] {
			t.Errorf("batch %d: shape %v, last %v", rows, out[0].Shape, sum[len(sum)-1])
		}
	}
}

func TestZipMapOutputBecomesTensorWithKeys(t *testing.T) {
	m := load(t, testenv.ZipMapModel(t))
	x := oip.NewTensor("x", []int64{2, 3}, []float32{0, 0, 0, 5, 0, 0})
	out, err := m.Run(context.Background(), []*oip.Tensor{x}, []string{"output_probability"})
	if err != nil {
		t.Fatal(err)
	}
	p := out[0]
	if p.Datatype != oip.FP32 || !equalShape(p.Shape, []int64{2, 3}) {
		t.Fatalf("zipmap output %s %v, want FP32 [2 3]", p.Datatype, p.Shape)
	}
	if keys, _ := p.Parameters[runtime.ParamKeys].([]string); strings.Join(keys, ",") != "0,1,2" {
		t.Errorf("keys %v, want 0,1,2", p.Parameters[runtime.ParamKeys])
	}
	probs, _ := oip.Values[float32](p)
	if math.Abs(float64(probs[0])-1.0/3) > 1e-6 || probs[3] < 0.98 {
		t.Errorf("probabilities %v", probs)
	}
}

func TestInputsCheckedAgainstSignature(t *testing.T) {
	m := load(t, testenv.MultiIOModel(t))
	good := func(name string) *oip.Tensor { return oip.NewTensor(name, []int64{1, 3}, []float32{1, 2, 3}) }
	cases := []struct {
		name    string
		inputs  []*oip.Tensor
		outputs []string
		want    string
	}{
		{"unknown input", []*oip.Tensor{good("a"), good("b"), good("c")}, nil, `unknown input "c"`},
		{"missing input", []*oip.Tensor{good("a")}, nil, `missing input "b"`},
		{"twice", []*oip.Tensor{good("a"), good("a")}, nil, `input "a" is given twice`},
		{"datatype", []*oip.Tensor{good("a"), oip.NewTensor("b", []int64{1, 3}, []float64{1, 2, 3})}, nil, `input "b": datatype FP64, the model expects FP32`},
		{"fixed dim", []*oip.Tensor{good("a"), oip.NewTensor("b", []int64{1, 4}, []float32{1, 2, 3, 4})}, nil, `input "b": shape [1,4] does not fit the model's [-1,3]`},
		{"rank", []*oip.Tensor{good("a"), oip.NewTensor("b", []int64{3}, []float32{1, 2, 3})}, nil, `input "b": shape [3] does not fit`},
		{"count", []*oip.Tensor{good("a"), oip.NewTensor("b", []int64{2, 3}, []float32{1, 2, 3})}, nil, `"b"`},
		{"scalar for a matrix", []*oip.Tensor{good("a"), oip.NewTensor("b", []int64{}, []float32{1})}, nil, `input "b": shape [] does not fit the model's [-1,3]`},
		{"unknown output", []*oip.Tensor{good("a"), good("b")}, []string{"nope"}, `unknown output "nope"`},
	}
	for _, c := range cases {
		_, err := m.Run(context.Background(), c.inputs, c.outputs)
		if !errors.Is(err, runtime.ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want ErrInvalidInput containing %q", c.name, err, c.want)
		}
	}
	// The model still works after bad inputs.
	if _, err := m.Run(context.Background(), []*oip.Tensor{good("a"), good("b")}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRunAfterCloseAndCancelledContext(t *testing.T) {
	m := load(t, testenv.MultiIOModel(t))
	in := []*oip.Tensor{oip.NewTensor("a", []int64{1, 3}, []float32{1, 2, 3}), oip.NewTensor("b", []int64{1, 3}, []float32{1, 2, 3})}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Run(ctx, in, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
	m.Close()
	if _, err := m.Run(context.Background(), in, nil); !errors.Is(err, runtime.ErrClosed) {
		t.Errorf("closed: err %v", err)
	}
}

// TestLoadCloseKeepsMemoryFlat loads, runs and closes a model 500 times and
// checks that the resident set does not grow: every ORT object is destroyed.
func TestLoadCloseKeepsMemoryFlat(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	path := testenv.WriteModel(t, testenv.ZipMapModel(t))
	x := oip.NewTensor("x", []int64{4, 3}, make([]float32, 12))
	cycle := func() {
		m, err := runtime.Load(path, runtime.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Run(context.Background(), []*oip.Tensor{x}, nil); err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	for range 50 {
		cycle()
	}
	before := testenv.ProcStatusKiB(t, 0, "VmRSS")
	for range 500 {
		cycle()
	}
	after := testenv.ProcStatusKiB(t, 0, "VmRSS")
	t.Logf("RSS %d KiB -> %d KiB after 500 load/run/close cycles", before, after)
	if after-before > 16*1024 {
		t.Errorf("RSS grew by %d KiB over 500 cycles", after-before)
	}
}

func equalShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalStrings(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestOutputsThatDoNotFollowTheRows runs a model whose output's first
// dimension is not the request's rows (boxes found, [k, 2]): the buffers
// Run offers for [rows, 2] do not fit, and it answers from ONNX Runtime's
// own outputs, every time.
func TestOutputsThatDoNotFollowTheRows(t *testing.T) {
	m := load(t, testenv.DetectorModel(t, -1))
	for _, c := range []struct {
		scores []float32
		want   []float32
	}{{[]float32{0.9, 0.1, 0.7}, []float32{1, 2, 5, 6}}, {[]float32{0.9, 0.9, 0.9}, []float32{1, 2, 3, 4, 5, 6}}, {[]float32{0.6, 0, 0}, []float32{1, 2}}} {
		out, err := m.Run(context.Background(), []*oip.Tensor{oip.NewTensor("score", []int64{1, 3}, c.scores)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := oip.NewTensor("boxes", []int64{int64(len(c.want) / 2), 2}, c.want)
		if err := testenv.SameTensor(out[0], want); err != nil {
			t.Errorf("scores %v: %v", c.scores, err)
		}
	}
}

func mustBuild(t *testing.T, b *onnx.Builder) *onnx.Model {
	t.Helper()
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestThreadOptions runs a model with several intra-op threads and in
// parallel execution mode, answering as with the defaults.
func TestThreadOptions(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	path := testenv.WriteModel(t, testenv.MultiIOModel(t))
	a := oip.NewTensor("a", []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	b := oip.NewTensor("b", []int64{2, 3}, []float32{6, 5, 4, 3, 2, 1})
	var want []*oip.Tensor
	for _, opts := range []runtime.Options{{}, {IntraOpThreads: 2}, {InterOpThreads: 2}, {IntraOpThreads: 2, InterOpThreads: 2}, {LoneRunThreads: 2}} {
		m, err := runtime.Load(path, opts)
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		out, err := m.Run(context.Background(), []*oip.Tensor{a, b}, nil)
		m.Close()
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		if want == nil {
			want = out
			continue
		}
		for i := range out {
			if err := testenv.SameTensor(out[i], want[i]); err != nil {
				t.Errorf("%+v: %v", opts, err)
			}
		}
	}
}
