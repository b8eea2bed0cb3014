// Command swapbench measures how long a serving node takes from an alias
// move in the registry to its first response from the new version, split
// into stages, and prints a markdown table.
//
//	go run ./bench/swapbench
package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/loadgen"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

const (
	width        = 1024
	layers       = 6
	pollInterval = 100 * time.Millisecond
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "swapbench:", err)
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
	dir, err := os.MkdirTemp("", "kiln-swapbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	gin.SetMode(gin.ReleaseMode)
	quiet := slog.New(slog.DiscardHandler)
	store, err := storage.NewFSStore(filepath.Join(dir, "store"))
	if err != nil {
		return err
	}
	regSrv := httptest.NewServer(server.NewHandler(storage.NewService(store, storage.Options{Logger: quiet}), server.Options{Logger: quiet}))
	defer regSrv.Close()
	client := registry.NewClient(regSrv.URL, "", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	for seed := range uint64(2) {
		path, err := writeMLP(dir, seed)
		if err != nil {
			return err
		}
		if _, err := client.PushFile(ctx, "mlp", path, registry.PushRequest{}); err != nil {
			return err
		}
	}
	type result struct {
		t     *serve.SwapTimings
		moved time.Time
		first time.Duration
	}
	measure := func(name string, opts serve.FollowOptions) (result, error) {
		if _, err := client.SetAlias(ctx, "mlp", "production", 1, nil); err != nil {
			return result{}, err
		}
		cache, err := serve.OpenCache(filepath.Join(dir, "cache-"+name), 1<<30)
		if err != nil {
			return result{}, err
		}
		models := serve.NewManager(serve.ManagerOptions{})
		defer models.Close()
		fctx, stop := context.WithCancel(ctx)
		defer stop()
		opts.Logger = quiet
		go serve.NewFollower(registry.Ref{Name: "mlp", Alias: "production"}, client, cache, models, opts).Run(fctx)
		node := httptest.NewServer(serve.NewServer(models, serve.Options{}).Handler())
		defer node.Close()
		oc := oip.NewClient(node.URL)
		req := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, width}, make([]float32, width))}}
		if err := waitFor(ctx, oc, req, "1"); err != nil {
			return result{}, err
		}
		time.Sleep(2 * pollInterval) // settled: the next poll or watch is under way
		moved := time.Now()
		if _, err := client.SetAlias(ctx, "mlp", "production", 2, nil); err != nil {
			return result{}, err
		}
		if err := waitFor(ctx, oc, req, "2"); err != nil {
			return result{}, err
		}
		first := time.Since(moved)
		st, _ := models.Status("mlp")
		return result{st.LastSwap, moved, first}, nil
	}
	poll, err := measure("poll", serve.FollowOptions{PollInterval: pollInterval})
	if err != nil {
		return err
	}
	watch, err := measure("watch", serve.FollowOptions{PollInterval: time.Hour, Watch: 30 * time.Second})
	if err != nil {
		return err
	}
	fmt.Printf("| alias move → first response from the new version (MLP %d×%d, %d MiB) | poll every %v (ms) | watch: long poll (ms) |\n", layers, width, layers*width*width*4>>20, pollInterval)
	fmt.Println("|---|---|---|")
	rows := func(r result) []time.Duration {
		t := r.t
		return []time.Duration{t.NoticedAt.Sub(r.moved), t.Detect, t.Download, t.Load, t.Validate, t.Warmup, t.Swap, r.moved.Add(r.first).Sub(t.ServingAt), r.first}
	}
	p, w := rows(poll), rows(watch)
	for i, stage := range []string{
		"detect: until the node notices the move", "detect: alias and version lookups", "download (sha256 verified)", "load into ONNX Runtime",
		"validate (gates on this node)", "warm-up", "swap", "first response after the swap", "total",
	} {
		fmt.Printf("| %s | %.1f | %.1f |\n", stage, ms(p[i]), ms(w[i]))
	}
	t := watch.t
	overhead := watch.first - t.Download - t.Load - t.Validate - t.Warmup
	fmt.Printf("| watch: total − (download + load + validate + warm-up) | | %.1f (goal ≤ 50) |\n", ms(overhead))
	return shadowCost(ctx, client, dir, quiet)
}

// shadowCost measures the primary's p99 at 4 clients with every request
// mirrored to a shadow (here the same version) against no shadow.
func shadowCost(ctx context.Context, client *registry.Client, dir string, quiet *slog.Logger) error {
	if _, err := client.SetAlias(ctx, "mlp", "twin", 2, nil); err != nil {
		return err
	}
	load := func(cfg serve.ModelConfig) (loadgen.Result, *serve.RolloutReport, error) {
		settings := &serve.Config{Models: map[string]serve.ModelConfig{"mlp": cfg}}
		models := serve.NewManager(serve.ManagerOptions{Config: settings, Logger: quiet})
		defer models.Close()
		cache, err := serve.OpenCache(filepath.Join(dir, "cache-shadow"), 1<<30)
		if err != nil {
			return loadgen.Result{}, nil, err
		}
		fctx, stop := context.WithCancel(ctx)
		defer stop()
		repo := serve.NewRepository(models, serve.RepositoryOptions{Refs: []registry.Ref{{Name: "mlp", Alias: "production"}}, Logger: quiet,
			Follow: func(ctx context.Context, ref registry.Ref, role string) {
				serve.NewFollower(ref, client, cache, models, serve.FollowOptions{Watch: 30 * time.Second, Logger: quiet, Role: role}).Run(ctx)
			}})
		if err := repo.Start(fctx); err != nil {
			return loadgen.Result{}, nil, err
		}
		defer repo.Wait()
		defer stop()
		for _, slot := range []string{"mlp", "mlp@shadow"} {
			for cfg.Shadow != nil || slot == "mlp" {
				if _, err := models.Get(slot, ""); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		node := httptest.NewServer(serve.NewServer(models, serve.Options{}).Handler())
		defer node.Close()
		req := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, width}, make([]float32, width))}}
		send, err := loadgen.InferRequest(loadgen.HTTPClient(4), node.URL, "mlp", "", req, true)
		if err != nil {
			return loadgen.Result{}, nil, err
		}
		r := loadgen.Run(ctx, send, loadgen.Options{Concurrency: 4, Duration: 5 * time.Second, Warmup: 2})
		rep, ok := models.Rollout("mlp")
		if !ok {
			return r, nil, nil
		}
		return r, &rep, nil
	}
	off, _, err := load(serve.ModelConfig{})
	if err != nil {
		return err
	}
	on, rep, err := load(serve.ModelConfig{Shadow: &serve.TrafficSplit{Ref: "mlp@twin", Percent: 100}})
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println("| shadow at 100% (MLP, batch-1 binary requests, 4 clients) | shadow on | shadow off | ratio | goal |")
	fmt.Println("|---|---|---|---|---|")
	fmt.Printf("| primary p99 (ms) | %.2f | %.2f | %.2f | ≤ 1.1 |\n", ms(on.P99), ms(off.P99), float64(on.P99)/float64(off.P99))
	fmt.Printf("| primary req/s | %.0f | %.0f | %.2f | (reported) |\n", on.Throughput, off.Throughput, on.Throughput/off.Throughput)
	fmt.Printf("| mirrored requests answered by the shadow, dropped (queue full) | %d, %d | | | |\n", rep.Roles["shadow"].Requests, rep.Dropped)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// waitFor sends requests until one is answered by the wanted version.
func waitFor(ctx context.Context, oc *oip.Client, req *oip.InferRequest, version string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := oc.Infer(ctx, "mlp", "", req, true); err == nil && resp.ModelVersion == version {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("version %s never answered", version)
}

// writeMLP writes a model of layers fully connected layers with random weights.
func writeMLP(dir string, seed uint64) (string, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := onnx.NewBuilder("mlp").Input("x", onnx.TensorType(onnx.Float, -1, width))
	prev := "x"
	for i := range layers {
		w := make([]float32, width*width)
		for j := range w {
			w[j] = rng.Float32()/width - 0.5/width
		}
		name := fmt.Sprintf("w%d", i)
		b.Initializer(name, onnx.Float, []int64{width, width}, w).
			Node("MatMul", []string{prev, name}, []string{name + "_out"}).
			Node("Relu", []string{name + "_out"}, []string{fmt.Sprintf("h%d", i)})
		prev = fmt.Sprintf("h%d", i)
	}
	m, err := b.Output(prev, onnx.TensorType(onnx.Float, -1, width)).Build()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("mlp-%d.onnx", seed))
	return path, m.WriteFile(path)
}
