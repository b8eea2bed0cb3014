package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/kilnml/kiln/pkg/loadgen"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/oip/grpcpb"
	"github.com/kilnml/kiln/pkg/onnx"
)

// grpcRatios measures gRPC with raw contents against REST with the binary
// extension, on the same node: the classifier at 64 clients and an image
// model (1×3×224×224 FP32 in) at 4.
func grpcRatios() error {
	image, err := writeImageModel()
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(image))
	pixels := imageRequest()
	for _, c := range []struct {
		label, name, path string
		req               *oip.InferRequest
		clients, conns    int
		goal              string
	}{
		{"6. iris, batch-1 requests, 64 clients on one gRPC connection: gRPC raw ÷ REST binary (req/s)", "iris", irisPath, irisRequest, 64, 1, "≥ 1.2"},
		{"6b. iris, batch-1 requests, 64 clients with a gRPC connection each: gRPC raw ÷ REST binary (req/s)", "iris", irisPath, irisRequest, 64, 64, "(reported)"},
		{"7. image model 1×3×224×224, 4 clients on one gRPC connection: gRPC raw ÷ REST binary (req/s)", "image", image, pixels, 4, 1, "(reported)"},
	} {
		n, err := startNode(c.name, c.path, batching(true))
		if err != nil {
			return err
		}
		addr, stop, err := n.serveGRPC()
		if err != nil {
			n.close()
			return err
		}
		r, err := medians(
			func() (loadgen.Result, error) { return loadGRPC(addr, c.name, c.req, c.clients, c.conns) },
			func() (loadgen.Result, error) { return load(n.http.URL, c.name, c.req, c.clients, true) },
		)
		stop()
		n.close()
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %.0f | %.0f | %.2f | %s |\n", c.label, r[0].Throughput, r[1].Throughput, r[0].Throughput/r[1].Throughput, c.goal)
	}
	return nil
}

// imageRequest is one random 1×3×224×224 FP32 image, for the image models.
func imageRequest() *oip.InferRequest {
	return &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("image", []int64{1, 3, 224, 224}, randomFloats(3*224*224))}}
}

// serveGRPC serves the node's models over gRPC on a loopback port.
func (n *node) serveGRPC() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	g := n.core.NewGRPCServer()
	go g.Serve(ln)
	return ln.Addr().String(), func() { g.Shutdown(context.Background()) }, nil
}

// loadGRPC loads a model over gRPC, raw contents, from clients concurrent
// clients whose calls share n connections (a gRPC client multiplexes its
// calls over one channel, as tritonclient and perf_analyzer do).
func loadGRPC(addr, model string, req *oip.InferRequest, clients, n int) (loadgen.Result, error) {
	conns := make([]*grpcpb.Client, n)
	sends := make([]loadgen.Request, n)
	for i := range conns {
		c, err := grpcpb.Dial(addr, 64<<20)
		if err != nil {
			return loadgen.Result{}, err
		}
		defer c.Close()
		if sends[i], err = loadgen.GRPCInferRequest(c, model, "", req, true); err != nil {
			return loadgen.Result{}, err
		}
		conns[i] = c
	}
	next := make(chan int, clients)
	for i := range clients {
		next <- i % n
	}
	send := func(ctx context.Context) (int, error) {
		i := <-next
		defer func() { next <- i }()
		return sends[i](ctx)
	}
	r := loadgen.Run(context.Background(), send, loadgen.Options{Concurrency: clients, Duration: levelDuration, Warmup: 2})
	if r.Errors > 0 {
		return r, fmt.Errorf("gRPC %s: %d requests failed: %s", addr, r.Errors, r.FirstError)
	}
	return r, nil
}

// writeImageModel writes a small image classifier: a 3×3 stride-2
// convolution to 16 channels, ReLU, global average pooling, and a 16→10
// head, over a 1×3×224×224 input.
func writeImageModel() (string, error) {
	m, err := onnx.NewBuilder("image").
		Input("image", onnx.TensorType(onnx.Float, -1, 3, 224, 224)).
		Initializer("w", onnx.Float, []int64{16, 3, 3, 3}, randomFloats(16*3*3*3)).
		Initializer("head", onnx.Float, []int64{16, 10}, randomFloats(160)).
		Node("Conv", []string{"image", "w"}, []string{"features"}, onnx.AttrInts("strides", 2, 2), onnx.AttrInts("pads", 1, 1, 1, 1)).
		Node("Relu", []string{"features"}, []string{"active"}).
		Node("GlobalAveragePool", []string{"active"}, []string{"pooled"}).
		Node("Flatten", []string{"pooled"}, []string{"flat"}).
		Node("MatMul", []string{"flat", "head"}, []string{"scores"}).
		Output("scores", onnx.TensorType(onnx.Float, -1, 10)).
		Build()
	if err != nil {
		return "", err
	}
	return writeModel("image.onnx", m)
}
