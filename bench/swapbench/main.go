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

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/registry"
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
	store, err := registry.NewFSStore(filepath.Join(dir, "store"))
	if err != nil {
		return err
	}
	regSrv := httptest.NewServer(registry.NewHandler(registry.NewService(store, registry.ServiceOptions{Logger: quiet}), registry.APIOptions{Logger: quiet}))
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
	if _, err := client.SetAlias(ctx, "mlp", "production", 1, nil); err != nil {
		return err
	}
	cache, err := serve.OpenCache(filepath.Join(dir, "cache"), 1<<30)
	if err != nil {
		return err
	}
	models := serve.NewManager(serve.ManagerOptions{})
	defer models.Close()
	f := serve.NewFollower(registry.Ref{Name: "mlp", Alias: "production"}, client, cache, models,
		serve.FollowOptions{PollInterval: pollInterval, Logger: quiet})
	go f.Run(ctx)
	node := httptest.NewServer(serve.NewServer(models, serve.Options{}).Handler())
	defer node.Close()
	oc := oip.NewClient(node.URL)
	req := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, width}, make([]float32, width))}}
	if err := waitFor(ctx, oc, req, "1"); err != nil {
		return err
	}

	moved := time.Now()
	if _, err := client.SetAlias(ctx, "mlp", "production", 2, nil); err != nil {
		return err
	}
	if err := waitFor(ctx, oc, req, "2"); err != nil {
		return err
	}
	firstResponse := time.Since(moved)
	st, _ := models.Status("mlp")
	t := st.LastSwap
	fmt.Printf("| alias move → first response from the new version (MLP %d×%d, %d MiB, poll every %v) | ms |\n", layers, width, layers*width*width*4>>20, pollInterval)
	fmt.Println("|---|---|")
	for _, row := range []struct {
		stage string
		d     time.Duration
	}{
		{"detect: waiting for the next poll", t.NoticedAt.Sub(moved)},
		{"detect: alias and version lookups", t.Detect},
		{"download (sha256 verified)", t.Download},
		{"load into ONNX Runtime", t.Load},
		{"validate (gates on this node)", t.Validate},
		{"warm-up", t.Warmup},
		{"swap", t.Swap},
		{"first response after the swap", moved.Add(firstResponse).Sub(t.ServingAt)},
		{"total", firstResponse},
	} {
		fmt.Printf("| %s | %.1f |\n", row.stage, float64(row.d)/float64(time.Millisecond))
	}
	return nil
}

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
