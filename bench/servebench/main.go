// Command servebench measures kiln-serve's request path for the example Iris
// classifier at batch 1, over real HTTP on loopback, beside the in-process
// ONNX Runtime Run of the same input, and prints a markdown table.
//
//	go run ./bench/servebench
package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

const modelPath = "examples/iris/model.onnx"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "servebench:", err)
		os.Exit(1)
	}
}

func run() error {
	lib := os.Getenv("KILN_ORT_LIB")
	if lib == "" {
		lib = "lib/" + runtime.LibraryName
	}
	if err := runtime.Init(lib); err != nil {
		return err
	}
	models := serve.NewManager(runtime.Options{})
	defer models.Close()
	if err := models.Load(serve.Source{Name: "iris", Version: 1, Path: modelPath}); err != nil {
		return err
	}
	models.SetReady(true)
	ts := httptest.NewServer(serve.NewServer(models, serve.Options{}).Handler())
	defer ts.Close()
	client := oip.NewClient(ts.URL)
	v, err := models.Get("iris", "")
	if err != nil {
		return err
	}
	req := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("input", []int64{1, 4}, []float32{5.9, 3.0, 4.2, 1.5})}}
	ctx := context.Background()

	inProcess := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Runtime.Run(ctx, req.Inputs, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	overHTTP := func(binary bool) testing.BenchmarkResult {
		return testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Infer(ctx, "iris", "", req, binary); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	jsonPath, binaryPath := overHTTP(false), overHTTP(true)

	fmt.Println("| request path, iris, batch 1, one client | µs/request | allocs/request (client + server) | in-process Run µs | HTTP overhead µs |")
	fmt.Println("|---|---|---|---|---|")
	for _, row := range []struct {
		name string
		r    testing.BenchmarkResult
	}{{"in-process runtime.Run", inProcess}, {"kiln-serve JSON", jsonPath}, {"kiln-serve binary extension", binaryPath}} {
		us := float64(row.r.NsPerOp()) / 1e3
		inUs := float64(inProcess.NsPerOp()) / 1e3
		fmt.Printf("| %s | %.1f | %d | %.1f | %.1f |\n", row.name, us, row.r.AllocsPerOp(), inUs, us-inUs)
	}
	return nil
}
