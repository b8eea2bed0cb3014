package serve_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/oip/grpcpb"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// BenchmarkInferHandler measures the server's side of one batch-1 request
// for the example classifier (decode, run, encode), without the network,
// beside the bare runtime Run of the same input.
func BenchmarkInferHandler(b *testing.B) {
	if err := runtime.Init(testenv.ORTLibrary(b)); err != nil {
		b.Fatal(err)
	}
	models := serve.NewManager(serve.ManagerOptions{})
	defer models.Close()
	if err := models.Load(serve.Source{Name: "iris", Version: 1, Path: filepath.Join(testenv.RepoRoot(b), "examples", "iris", "model.onnx")}); err != nil {
		b.Fatal(err)
	}
	handler := serve.NewServer(models, serve.Options{}).Handler()
	req := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("input", []int64{1, 4}, []float32{5.9, 3.0, 4.2, 1.5})}}
	for _, codec := range []struct {
		name   string
		binary bool
	}{{"json", false}, {"binary", true}} {
		body, headerLen := oip.EncodeRequest(req, codec.binary)
		b.Run(codec.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/v2/models/iris/infer", bytes.NewReader(body))
				if headerLen >= 0 {
					r.Header.Set(oip.HeaderContentLength, strconv.Itoa(headerLen))
				}
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
	v, _ := models.Get("iris", "")
	b.Run("runtime", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Runtime.Run(context.Background(), req.Inputs, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLoopback measures one client's batch-1 requests for the example
// classifier over loopback, client and server in this process: REST with
// the binary extension beside gRPC with raw contents.
func BenchmarkLoopback(b *testing.B) {
	iris := serve.Source{Name: "iris", Version: 1, Path: filepath.Join(testenv.RepoRoot(b), "examples", "iris", "model.onnx")}
	if err := runtime.Init(testenv.ORTLibrary(b)); err != nil {
		b.Fatal(err)
	}
	models := serve.NewManager(serve.ManagerOptions{})
	if err := models.Load(iris); err != nil {
		b.Fatal(err)
	}
	srv := serve.NewServer(models, serve.Options{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	grpcClient, _ := serveGRPC(b, srv, models)
	req := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("input", []int64{1, 4}, []float32{5.9, 3.0, 4.2, 1.5})}}
	rest := oip.NewClient(ts.URL)
	b.Run("rest-binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rest.Infer(context.Background(), "iris", "", req, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	msg, err := grpcpb.FromRequest("iris", "", req, true)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("grpc-raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := grpcClient.ModelInfer(context.Background(), msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
