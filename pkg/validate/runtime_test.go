package validate_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/validate"
)

// load builds a one-node model y = op(x[, b]) over float [-1,2] and loads
// it into ONNX Runtime.
func load(t *testing.T, op string, withBias bool) *runtime.Model {
	t.Helper()
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	b := onnx.NewBuilder(strings.ToLower(op)).Input("x", onnx.TensorType(onnx.Float, -1, 2))
	inputs := []string{"x"}
	if withBias {
		b.Initializer("b", onnx.Float, []int64{2}, []float32{1, 1})
		inputs = append(inputs, "b")
	}
	m, err := b.Node(op, inputs, []string{"y"}).Output("y", onnx.TensorType(onnx.Float, -1, 2)).Build()
	if err != nil {
		t.Fatal(err)
	}
	model, err := runtime.Load(testenv.WriteModel(t, m), runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { model.Close() })
	return model
}

// example is a candidate for the float [-1,2] fixtures whose input example
// holds rows.
func example(rows ...float32) validate.Candidate {
	c := validate.Candidate{
		Name: "m", Version: 1,
		Inputs:  []oip.TensorMetadata{{Name: "x", Datatype: oip.FP32, Shape: []int64{-1, 2}}},
		Outputs: []oip.TensorMetadata{{Name: "y", Datatype: oip.FP32, Shape: []int64{-1, 2}}},
	}
	if len(rows) > 0 {
		c.InputExample = &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{int64(len(rows) / 2), 2}, rows)}}
	}
	return c
}

func expected(values ...float32) *oip.InferResponse {
	return &oip.InferResponse{Outputs: []*oip.Tensor{oip.NewTensor("y", []int64{int64(len(values) / 2), 2}, values)}}
}

func TestSmokeGate(t *testing.T) {
	add := load(t, "Add", true) // y = x + 1
	ctx := context.Background()
	smoke := func(s validate.SmokeTest, c validate.Candidate, r validate.Runner) validate.GateResult {
		return gate(t, validate.Runtime(ctx, validate.Policy{Smoke: &s}, c, r), "smoke")
	}

	if g := smoke(validate.SmokeTest{}, example(1, 2), add); !g.Passed || g.Measured != "finite" {
		t.Errorf("finite outputs: %+v", g)
	}
	if g := smoke(validate.SmokeTest{Expected: expected(2, 3)}, example(1, 2), add); !g.Passed || g.Measured != "max |diff| 0" {
		t.Errorf("exact expected output: %+v", g)
	}
	if g := smoke(validate.SmokeTest{Expected: expected(2, 3.01)}, example(1, 2), add); g.Passed || !strings.Contains(g.Detail, "differs by") {
		t.Errorf("output off by 0.01 with tolerance 0: %+v", g)
	}
	if g := smoke(validate.SmokeTest{Expected: expected(2, 3.01), Tolerance: 0.05}, example(1, 2), add); !g.Passed {
		t.Errorf("output off by 0.01 with tolerance 0.05: %+v", g)
	}
	if g := smoke(validate.SmokeTest{Expected: expected(2, 3, 4, 5)}, example(1, 2), add); g.Passed || !strings.Contains(g.Detail, "has shape [1,2], expected [2,2]") {
		t.Errorf("wrong shape: %+v", g)
	}
	// The policy's own input overrides the version's example.
	own := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, 2}, []float32{10, 20})}}
	if g := smoke(validate.SmokeTest{Input: own, Expected: expected(11, 21)}, example(1, 2), add); !g.Passed {
		t.Errorf("policy input: %+v", g)
	}
	if g := smoke(validate.SmokeTest{}, example(), add); g.Passed || !strings.Contains(g.Detail, "no input") {
		t.Errorf("no example: %+v", g)
	}
	wrongName := example()
	wrongName.InputExample = &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("features", []int64{1, 2}, []float32{1, 2})}}
	if g := smoke(validate.SmokeTest{}, wrongName, add); g.Passed || !strings.Contains(g.Detail, "run:") {
		t.Errorf("a request the model rejects: %+v", g)
	}

	// log(0) = -Inf and log(-1) = NaN: the check is on without Expected.
	log := load(t, "Log", false)
	if g := smoke(validate.SmokeTest{}, example(1, 2), log); !g.Passed {
		t.Errorf("log of positives: %+v", g)
	}
	if g := smoke(validate.SmokeTest{}, example(0, -1, 1, 2), log); g.Passed || !strings.Contains(g.Detail, "output y holds 1 NaN and 1 infinite of 4 values") {
		t.Errorf("NaN and Inf outputs: %+v", g)
	}
}

func TestLatencyGates(t *testing.T) {
	add := load(t, "Add", true)
	ctx := context.Background()
	tight := validate.Policy{Latency: &validate.LatencyBudget{
		P50: validate.Duration(time.Nanosecond), P99: validate.Duration(time.Nanosecond), Warmup: 2, Runs: 5,
		Batch: &validate.BatchBudget{Size: 4, P95: validate.Duration(time.Nanosecond)},
	}}
	r := validate.Runtime(ctx, tight, example(1, 2), add)
	if r.Passed || len(r.Gates) != 3 || len(r.Failed()) != 3 {
		t.Fatalf("a 1ns budget must fail every percentile:\n%s", r.Table())
	}
	if g := gate(t, r, "latency:p99@1"); g.Threshold != "<= 1ns" || !strings.Contains(g.Detail, "over budget by") || !strings.Contains(g.Detail, "5 runs after 2 warm-up") {
		t.Errorf("p99 gate: %+v", g)
	}
	gate(t, r, "latency:p95@4")

	loose := validate.Policy{Latency: &validate.LatencyBudget{
		P50: validate.Duration(10 * time.Second), P95: validate.Duration(10 * time.Second), Runs: 5,
		Batch: &validate.BatchBudget{Size: 8, P99: validate.Duration(10 * time.Second)},
	}}
	r = validate.Runtime(ctx, loose, example(1, 2, 3, 4, 5, 6), add)
	if !r.Passed || len(r.Gates) != 3 {
		t.Fatalf("a 10s budget must pass:\n%s", r.Table())
	}
	if g := gate(t, r, "latency:p99@8"); !strings.HasSuffix(g.Measured, "s") || g.Measured == "error" {
		t.Errorf("batch-8 gate: %+v", g)
	}

	// Without an input example the latency gates run on zeros shaped from the signature.
	if r := validate.Runtime(ctx, loose, example(), add); !r.Passed {
		t.Errorf("zeros from the signature:\n%s", r.Table())
	}
	// A model that fails to run fails the gate with the error instead of a time.
	wrong := example()
	wrong.Inputs[0].Datatype = oip.FP64
	if r := validate.Runtime(ctx, loose, wrong, add); r.Passed || gate(t, r, "latency:p50@1").Measured != "error" {
		t.Errorf("runs that fail:\n%s", r.Table())
	}
}

func TestAllMergesStaticAndRuntimeGates(t *testing.T) {
	add := load(t, "Add", true)
	p := validate.Policy{
		Metrics: map[string]validate.Threshold{"accuracy": {Min: ptr(0.9)}},
		Smoke:   &validate.SmokeTest{Expected: expected(2, 3)},
		Latency: &validate.LatencyBudget{P99: validate.Duration(10 * time.Second), Runs: 3},
	}
	cand := example(1, 2)
	cand.Metrics = map[string]float64{"accuracy": 0.8}
	r := validate.All(context.Background(), p, cand, nil, add)
	if r.Passed || len(r.Gates) != 3 || len(r.Failed()) != 1 || r.Failed()[0].Gate != "metric:accuracy" {
		t.Fatalf("want metric failing, smoke and latency passing:\n%s", r.Table())
	}
	if s := validate.All(context.Background(), p, cand, nil, nil); !gate(t, s, "smoke").Skipped || !gate(t, s, "latency").Skipped {
		t.Errorf("without a runner the runtime gates are skipped:\n%s", s.Table())
	}
}

// TestSmokeGateOnScalarAndEmptyTensors runs the smoke test on a model with a
// scalar input (a voice-activity detector's sample rate) and on one with no
// inputs at all, whose example is an empty request.
func TestSmokeGateOnScalarAndEmptyTensors(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range testenv.ConformanceCases(t) {
		if c.Name != "no-inputs" && c.Name != "scalar-float" && c.Name != "empty-middle-int64" {
			continue
		}
		m, err := runtime.Load(testenv.WriteModel(t, c.Model), runtime.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		cand := validate.Candidate{Name: "m", Version: 1, InputExample: &oip.InferRequest{Inputs: c.Requests[0].Inputs}}
		want := &oip.InferResponse{Outputs: c.Requests[0].Want}
		g := gate(t, validate.Runtime(ctx, validate.Policy{Smoke: &validate.SmokeTest{Expected: want}}, cand, m), "smoke")
		if !g.Passed {
			t.Errorf("%s: %+v", c.Name, g)
		}
	}
	vad, err := runtime.Load(testenv.WriteModel(t, testenv.VADModel(t)), runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer vad.Close()
	nan := float32(math.NaN())
	for _, c := range []struct {
		chunk  float32
		passed bool
	}{{0.5, true}, {nan, false}} {
		cand := validate.Candidate{Name: "vad", Version: 1, InputExample: &oip.InferRequest{Inputs: []*oip.Tensor{
			oip.NewTensor("input", []int64{1, 2}, []float32{c.chunk, c.chunk}),
			oip.NewTensor("state", []int64{2, 1, 128}, make([]float32, 256)),
			oip.NewTensor("sr", []int64{}, []int64{16000}),
		}}}
		if g := gate(t, validate.Runtime(ctx, validate.Policy{Smoke: &validate.SmokeTest{}}, cand, vad), "smoke"); g.Passed != c.passed {
			t.Errorf("chunk %v: %+v", c.chunk, g)
		}
	}
}
