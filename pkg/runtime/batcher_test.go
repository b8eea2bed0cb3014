package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/runtime"
)

// scaleModel doubles "x" (float [-1,-1]) into "y" and sums its rows into "total" (float [-1]).
func scaleModel(t testing.TB) *onnx.Model {
	m, err := onnx.NewBuilder("scale").
		Input("x", onnx.TensorType(onnx.Float, -1, -1)).
		Initializer("two", onnx.Float, []int64{1}, []float32{2}).
		Initializer("axes", onnx.Int64, []int64{1}, []int64{1}).
		Node("Mul", []string{"x", "two"}, []string{"y"}).
		Node("ReduceSum", []string{"x", "axes"}, []string{"total"}, onnx.AttrInt("keepdims", 0)).
		Output("y", onnx.TensorType(onnx.Float, -1, -1)).
		Output("total", onnx.TensorType(onnx.Float, -1)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBatchedRequestsGetTheirOwnRows sends many concurrent requests with
// random row counts and widths (so some cannot share a batch) and checks that
// each answer equals the unbatched Run of the same request, and that batching happened.
func TestBatchedRequestsGetTheirOwnRows(t *testing.T) {
	m := load(t, scaleModel(t))
	var runs, rowsRun atomic.Int64
	b := runtime.NewBatcher(m, runtime.BatchOptions{MaxBatchSize: 32, MaxQueueDelay: 2 * time.Millisecond, Instances: 1},
		runtime.BatchObserver{Computed: func(rows int, _ time.Duration) {
			runs.Add(1)
			rowsRun.Add(int64(rows))
			time.Sleep(time.Millisecond) // a slower model: requests pile up meanwhile
		}})
	defer b.Close()

	const clients, perClient = 32, 25
	type call struct {
		in   []*oip.Tensor
		want []*oip.Tensor
	}
	// Requests and their unbatched answers are made first, so that the
	// clients below do nothing but call the batcher at the same time.
	calls := make([][]call, clients)
	rng := rand.New(rand.NewPCG(1, 7))
	for c := range calls {
		for range perClient {
			rows, width := 1+rng.IntN(8), 2+rng.IntN(2)
			data := make([]float32, rows*width)
			for i := range data {
				data[i] = rng.Float32()
			}
			in := []*oip.Tensor{oip.NewTensor("x", []int64{int64(rows), int64(width)}, data)}
			want, err := m.Run(context.Background(), in, []string{"total", "y"})
			if err != nil {
				t.Fatal(err)
			}
			calls[c] = append(calls[c], call{in, want})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients*perClient)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, call := range calls[c] {
				got, err := b.Run(context.Background(), call.in, []string{"total", "y"})
				if err != nil {
					errs <- err
					return
				}
				for i, want := range call.want {
					if fmt.Sprint(got[i].Shape) != fmt.Sprint(want.Shape) || !bytes.Equal(got[i].Raw, want.Raw) {
						errs <- fmt.Errorf("%s: batched %v %v, alone %v %v", want.Name, got[i].Shape, got[i].Raw, want.Shape, want.Raw)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d requests ran in %d batched Runs (%.1f rows per Run)", clients*perClient, runs.Load(), float64(rowsRun.Load())/float64(runs.Load()))
	if runs.Load() >= clients*perClient/2 {
		t.Errorf("%d Runs for %d concurrent requests: requests were hardly batched", runs.Load(), clients*perClient)
	}
}

func TestBatchedSequenceOutputsSplitByRow(t *testing.T) {
	m := load(t, testenv.ZipMapModel(t))
	b := runtime.NewBatcher(m, runtime.BatchOptions{MaxBatchSize: 16, MaxQueueDelay: 5 * time.Millisecond, Instances: 1}, runtime.BatchObserver{})
	defer b.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := []float32{float32(i), 0, 0}
			out, err := b.Run(context.Background(), []*oip.Tensor{oip.NewTensor("x", []int64{1, 3}, x)}, []string{"output_probability"})
			if err != nil {
				t.Error(err)
				return
			}
			want, _ := m.Run(context.Background(), []*oip.Tensor{oip.NewTensor("x", []int64{1, 3}, x)}, []string{"output_probability"})
			if fmt.Sprint(out[0].Shape) != "[1 3]" || !bytes.Equal(out[0].Raw, want[0].Raw) || out[0].Parameters[runtime.ParamKeys] == nil {
				t.Errorf("row %d: got %v %v %v", i, out[0].Shape, out[0].Raw, out[0].Parameters)
			}
		}()
	}
	wg.Wait()
}

// TestFullQueueRefusesAtOnce fills a one-instance batcher with slow work and
// checks that the next request gets ErrQueueFull without waiting, and that a
// request whose context ends while queued gives up and is skipped.
func TestFullQueueRefusesAtOnce(t *testing.T) {
	m := load(t, testenv.SlowModel(t, 50))
	b := runtime.NewBatcher(m, runtime.BatchOptions{Disabled: true, MaxQueueSize: 2, Instances: 1}, runtime.BatchObserver{})
	defer b.Close()
	slow := []*oip.Tensor{oip.NewTensor("x", []int64{32, 1024}, make([]float32, 32*1024))}
	running := make(chan error, 1)
	go func() { _, err := b.Run(context.Background(), slow, nil); running <- err }()
	testenv.Eventually(t, 10*time.Second, func() bool { return b.Pending() == 1 }, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	queued := make(chan error, 1)
	go func() { _, err := b.Run(ctx, slow, nil); queued <- err }()
	testenv.Eventually(t, 10*time.Second, func() bool { return b.Pending() == 2 }, nil)

	start := time.Now()
	_, err := b.Run(context.Background(), slow, nil)
	if !errors.Is(err, runtime.ErrQueueFull) {
		t.Fatalf("third request: err %v, want ErrQueueFull", err)
	}
	if waited := time.Since(start); waited > 100*time.Millisecond {
		t.Errorf("ErrQueueFull took %v; it must not wait", waited)
	}
	if err := <-queued; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued request with a 20ms deadline: %v", err)
	}
	if err := <-running; err != nil {
		t.Errorf("running request: %v", err)
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return b.Pending() == 0 }, nil)
	if _, err := b.Run(context.Background(), slow[:1], nil); err != nil {
		t.Errorf("after the overload: %v", err)
	}
}

// TestBatcherRunsScalarAndDefaultInputsAlone sends concurrent requests to
// models that cannot be joined along a first dimension — one with a scalar
// input, one whose initializer-backed input some requests override — and
// checks that every request gets its own answer.
func TestBatcherRunsScalarAndDefaultInputsAlone(t *testing.T) {
	var scalar, defaults testenv.Case
	for _, c := range testenv.ConformanceCases(t) {
		switch c.Name {
		case "scalar-int64":
			scalar = c
		case "initializer-defaults":
			defaults = c
		}
	}
	for _, c := range []testenv.Case{scalar, defaults} {
		m := load(t, c.Model)
		b := runtime.NewBatcher(m, runtime.BatchOptions{MaxBatchSize: 32, MaxQueueDelay: 2 * time.Millisecond, Instances: 1}, runtime.BatchObserver{})
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := c.Requests[i%len(c.Requests)]
				out, err := b.Run(context.Background(), r.Inputs, nil)
				if err == nil {
					err = testenv.SameTensor(out[0], r.Want[0])
				}
				if err != nil {
					errs <- fmt.Errorf("%s request %d: %w", c.Name, i, err)
				}
			}()
		}
		wg.Wait()
		b.Close()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}
