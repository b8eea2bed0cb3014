// Command servebench measures kiln-serve, in one run on this machine, and
// prints two markdown tables: the request path of the example classifier at
// batch 1 (latency and allocations beside the in-process Run), and the
// throughput ratios that docs/performance.md sets goals for.
// KILN_BENCH_DURATION sets how long each load level runs (default 3s) and
// KILN_BENCH_ROUNDS how many alternating rounds measure each side of the
// iris ratios (default 3; the median counts).
//
//	go run ./bench/servebench
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/kilnml/kiln/pkg/loadgen"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

const irisPath = "examples/iris/model.onnx"

// levelDuration is how long each load level runs.
var levelDuration = 3 * time.Second

func main() {
	if d, err := time.ParseDuration(os.Getenv("KILN_BENCH_DURATION")); err == nil {
		levelDuration = d
	}
	if n, err := strconv.Atoi(os.Getenv("KILN_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "servebench:", err)
		os.Exit(1)
	}
}

func run() error {
	lib := os.Getenv("KILN_ORT_LIB")
	if lib == "" {
		lib = filepath.Join("lib", runtime.LibraryName)
	}
	if err := runtime.Init(lib); err != nil {
		return err
	}
	if err := requestPath(); err != nil {
		return err
	}
	fmt.Println()
	if err := threadChoices(); err != nil {
		return err
	}
	fmt.Println()
	return ratios()
}

// node is a kiln-serve server on loopback.
type node struct {
	models *serve.Manager
	core   *serve.Server
	http   *httptest.Server
}

// batching is the model settings with batching on or off.
func batching(on bool) serve.ModelConfig {
	return serve.ModelConfig{Batching: serve.BatchingConfig{Enabled: &on}}
}

func startNode(name, path string, settings serve.ModelConfig) (*node, error) {
	cfg := &serve.Config{Defaults: settings}
	models := serve.NewManager(serve.ManagerOptions{Config: cfg})
	if err := models.Load(serve.Source{Name: name, Version: 1, Path: path}); err != nil {
		models.Close()
		return nil, err
	}
	core := serve.NewServer(models, serve.Options{})
	return &node{models: models, core: core, http: httptest.NewServer(core.Handler())}, nil
}

func (n *node) close() {
	n.http.Close()
	n.models.Close()
}

var irisRequest = &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("input", []int64{1, 4}, []float32{5.9, 3.0, 4.2, 1.5})}}

// requestPath prints latency and allocations of one client's requests.
func requestPath() error {
	n, err := startNode("iris", irisPath, batching(true))
	if err != nil {
		return err
	}
	defer n.close()
	v, err := n.models.Get("iris", "")
	if err != nil {
		return err
	}
	client := oip.NewClient(n.http.URL)
	ctx := context.Background()
	inProcess := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Runtime.Run(ctx, irisRequest.Inputs, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	overHTTP := func(binary bool) testing.BenchmarkResult {
		return testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Infer(ctx, "iris", "", irisRequest, binary); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	jsonPath, binaryPath := overHTTP(false), overHTTP(true)
	inUs := float64(inProcess.NsPerOp()) / 1e3
	fmt.Println("| request path: iris, batch 1, one client | µs/request | allocs/request (client + server) | in-process Run µs | HTTP path µs |")
	fmt.Println("|---|---|---|---|---|")
	for _, row := range []struct {
		name string
		r    testing.BenchmarkResult
	}{{"in-process runtime.Run", inProcess}, {"kiln-serve, JSON", jsonPath}, {"kiln-serve, binary extension", binaryPath}} {
		us := float64(row.r.NsPerOp()) / 1e3
		fmt.Printf("| %s | %.1f | %d | %.1f | %.1f |\n", row.name, us, row.r.AllocsPerOp(), inUs, us-inUs)
	}
	return nil
}

// rounds is how many times each side of a throughput ratio is measured,
// alternating with the other side; the median counts.
var rounds = 3

// ratios measures the goals of docs/performance.md.
func ratios() error {
	ctx := context.Background()
	fmt.Println("| measurement | kiln | baseline | ratio | goal |")
	fmt.Println("|---|---|---|---|---|")

	// 1: the classifier, 64 clients, against the HTTP floor.
	iris := func(settings serve.ModelConfig) measure {
		return func() (loadgen.Result, error) { return loadServer("iris", irisPath, settings, irisRequest, 64, false) }
	}
	floor := func() (loadgen.Result, error) { return loadFloor(irisRequest, 64) }
	r, err := medians(iris(batching(true)), floor)
	if err != nil {
		return err
	}
	fmt.Printf("| 1. iris, batch-1 requests, 64 clients: kiln-serve ÷ minimal Go HTTP handler (req/s) | %.0f | %.0f | %.2f | ≥ 0.6 |\n", r[0].Throughput, r[1].Throughput, r[0].Throughput/r[1].Throughput)
	// 1b: the same at 4 clients, where a batch must not wait for clients
	// that are not coming.
	iris4 := func() (loadgen.Result, error) {
		return loadServer("iris", irisPath, batching(true), irisRequest, 4, false)
	}
	r, err = medians(iris4, func() (loadgen.Result, error) { return loadFloor(irisRequest, 4) })
	if err != nil {
		return err
	}
	fmt.Printf("| 1b. iris, batch-1 requests, 4 clients: kiln-serve ÷ minimal Go HTTP handler (req/s) | %.0f | %.0f | %.2f | (reported) |\n", r[0].Throughput, r[1].Throughput, r[0].Throughput/r[1].Throughput)

	// 2 and 3: a compute-heavy MLP, 16 clients: batching on against off,
	// and over HTTP against the same batcher driven in this process.
	mlp, err := writeMLP()
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(mlp))
	row := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, mlpWidth}, randomFloats(mlpWidth))}}
	served := func(settings serve.ModelConfig) measure {
		return func() (loadgen.Result, error) { return loadServer("mlp", mlp, settings, row, 16, true) }
	}
	r, err = medians(served(batching(true)), served(batching(false)), func() (loadgen.Result, error) { return loadBatcher(ctx, mlp, row, 16) })
	if err != nil {
		return err
	}
	on, off, direct := r[0], r[1], r[2]
	fmt.Printf("| 2. MLP %d×%d, batch-1 binary requests, 16 clients: batching on ÷ off (rows/s) | %.0f | %.0f | %.2f | ≥ 2 |\n",
		mlpLayers, mlpWidth, on.RowThroughput, off.RowThroughput, on.RowThroughput/off.RowThroughput)
	fmt.Printf("| 3. MLP, 16 clients: kiln-serve over HTTP ÷ its batcher driven in-process by 16 goroutines (rows/s) | %.0f | %.0f | %.2f | ≥ 0.85 |\n",
		on.RowThroughput, direct.RowThroughput, on.RowThroughput/direct.RowThroughput)

	// 4: one client's p99 against the in-process Run.
	one, err := loadServer("iris", irisPath, batching(true), irisRequest, 1, false)
	if err != nil {
		return err
	}
	m, err := runtime.Load(irisPath, runtime.Options{})
	if err != nil {
		return err
	}
	defer m.Close()
	alone := loadgen.Run(ctx, func(ctx context.Context) (int, error) {
		_, err := m.Run(ctx, irisRequest.Inputs, nil)
		return 1, err
	}, loadgen.Options{Concurrency: 1, Duration: levelDuration})
	fmt.Printf("| 4. iris, one client: kiln-serve p99 − in-process Run p99 (µs) | %.0f | %.0f | %.0f µs | ≤ 300 µs |\n",
		us(one.P99), us(alone.P99), us(one.P99-alone.P99))

	// 5: drift monitoring on against off.
	profile, err := writeIrisProfile(m)
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(profile))
	r, err = medians(iris(serve.ModelConfig{Drift: serve.DriftConfig{Profile: profile}}), iris(batching(true)))
	if err != nil {
		return err
	}
	fmt.Printf("| 5. iris, 64 clients: drift monitoring on ÷ off (req/s) | %.0f | %.0f | %.2f | ≥ 0.95 |\n",
		r[0].Throughput, r[1].Throughput, r[0].Throughput/r[1].Throughput)
	return grpcRatios()
}

// measure runs one load level and returns its result.
type measure func() (loadgen.Result, error)

// medians runs the measures in turn, rounds times, each round in the
// other order than the last, so that a slow spell of the machine or a
// position in the round favours no side of a ratio, and returns each
// measure's median result by throughput.
func medians(ms ...measure) ([]loadgen.Result, error) {
	runs := make([][]loadgen.Result, len(ms))
	for round := range rounds {
		for k := range ms {
			i := k
			if round%2 == 1 {
				i = len(ms) - 1 - k
			}
			r, err := ms[i]()
			if err != nil {
				return nil, err
			}
			runs[i] = append(runs[i], r)
		}
	}
	out := make([]loadgen.Result, len(ms))
	for i, rs := range runs {
		slices.SortFunc(rs, func(a, b loadgen.Result) int { return cmp.Compare(a.Throughput, b.Throughput) })
		out[i] = rs[len(rs)/2]
	}
	return out, nil
}

// loadServer serves one model with the given settings and loads it from
// clients concurrent clients.
func loadServer(name, path string, settings serve.ModelConfig, req *oip.InferRequest, clients int, binary bool) (loadgen.Result, error) {
	n, err := startNode(name, path, settings)
	if err != nil {
		return loadgen.Result{}, err
	}
	defer n.close()
	return load(n.http.URL, name, req, clients, binary)
}

// loadFloor measures a minimal Go HTTP handler that reads the body and
// returns a fixed small JSON answer: what HTTP alone costs.
func loadFloor(req *oip.InferRequest, clients int) (loadgen.Result, error) {
	answer := []byte(`{"model_name":"floor","outputs":[{"name":"label","datatype":"BYTES","shape":[1],"data":["versicolor"]}]}`)
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer floor.Close()
	return load(floor.URL, "floor", req, clients, false)
}

func load(url, model string, req *oip.InferRequest, clients int, binary bool) (loadgen.Result, error) {
	send, err := loadgen.InferRequest(loadgen.HTTPClient(clients), url, model, "", req, binary)
	if err != nil {
		return loadgen.Result{}, err
	}
	r := loadgen.Run(context.Background(), send, loadgen.Options{Concurrency: clients, Duration: levelDuration, Warmup: 2})
	if r.Errors > 0 {
		return r, fmt.Errorf("%s: %d requests failed: %s", url, r.Errors, r.FirstError)
	}
	return r, nil
}

// loadBatcher drives a batcher with the node's default settings (threads too) from
// clients goroutines in this process: the node without HTTP.
func loadBatcher(ctx context.Context, path string, req *oip.InferRequest, clients int) (loadgen.Result, error) {
	opts := runtime.BatchOptions{}.WithDefaults()
	m, err := runtime.Load(path, runtime.DefaultThreads())
	if err != nil {
		return loadgen.Result{}, err
	}
	defer m.Close()
	b := runtime.NewBatcher(m, opts, runtime.BatchObserver{})
	defer b.Close()
	r := loadgen.Run(ctx, func(ctx context.Context) (int, error) {
		_, err := b.Run(ctx, req.Inputs, nil)
		return 1, err
	}, loadgen.Options{Concurrency: clients, Duration: levelDuration, Warmup: 2})
	if r.Errors > 0 {
		return r, fmt.Errorf("in-process batcher: %d requests failed: %s", r.Errors, r.FirstError)
	}
	return r, nil
}

func randomFloats(n int) []float32 {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]float32, n)
	for i := range out {
		out[i] = rng.Float32()
	}
	return out
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
