package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// startIris serves the example classifier with kiln-serve's handler on loopback.
func startIris(t *testing.T) string {
	t.Helper()
	return startServing(t, serve.Source{Name: "iris", Version: 1, Path: irisExample(t, "model.onnx")})
}

// startServing serves models with kiln-serve's handler on loopback.
func startServing(t *testing.T, sources ...serve.Source) string {
	t.Helper()
	url, _ := startServingBoth(t, sources...)
	return url
}

// startServingBoth serves models over REST and gRPC on loopback and
// returns the REST URL and the gRPC address.
func startServingBoth(t *testing.T, sources ...serve.Source) (string, string) {
	t.Helper()
	lib := testenv.ORTLibrary(t)
	t.Setenv("KILN_ORT_LIB", lib)
	if err := runtime.Init(lib); err != nil {
		t.Fatal(err)
	}
	models := serve.NewManager(serve.ManagerOptions{})
	t.Cleanup(models.Close)
	for _, src := range sources {
		if err := models.Load(src); err != nil {
			t.Fatal(err)
		}
	}
	core := serve.NewServer(models, serve.Options{Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(core.Handler())
	t.Cleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := core.NewGRPCServer()
	go g.Serve(ln)
	t.Cleanup(func() { g.Shutdown(context.Background()) })
	return srv.URL, ln.Addr().String()
}

// TestPredictAndBenchOverGRPC runs kiln predict and kiln bench with
// --protocol grpc, typed and raw, against the same server as over REST.
func TestPredictAndBenchOverGRPC(t *testing.T) {
	_, addr := startServingBoth(t, serve.Source{Name: "iris", Version: 1, Path: irisExample(t, "model.onnx")})
	for _, raw := range []string{"--binary=false", "--binary"} {
		code, out, stderr := kiln(t, "", "predict", "iris", "--protocol", "grpc", "--grpc-server", addr, raw, "--data", "[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]")
		if code != 0 || !strings.Contains(out, `["setosa","virginica"]`) || !strings.Contains(out, "probabilities") {
			t.Errorf("predict %s: exit %d, stdout %q, stderr %q", raw, code, out, stderr)
		}
		var report benchReport
		code, out, stderr = kiln(t, "", "bench", "iris", "--protocol", "grpc", "--grpc-server", addr, raw, "--concurrency", "1,4", "--requests", "100", "--json")
		if code != 0 || json.Unmarshal([]byte(out), &report) != nil || len(report.Levels) != 2 || !strings.HasPrefix(report.Target, "grpc://") {
			t.Fatalf("bench %s: exit %d, stdout %q, stderr %q", raw, code, out, stderr)
		}
		for _, l := range report.Levels {
			if l.Requests != 100 || l.Errors != 0 || l.P50 <= 0 {
				t.Errorf("bench %s level %+v", raw, l)
			}
		}
	}
	if code, _, stderr := kiln(t, "", "predict", "iris", "--protocol", "carrier-pigeon", "--data", "[[1,2,3,4]]"); code != 2 || !strings.Contains(stderr, "--protocol") {
		t.Errorf("bad protocol: exit %d, %q", code, stderr)
	}
	if code, _, stderr := kiln(t, "", "predict", "nope", "--protocol", "grpc", "--grpc-server", addr, "--data", "[[1,2,3,4]]"); code != 1 || !strings.Contains(stderr, "nope") {
		t.Errorf("unknown model over gRPC: exit %d, %q", code, stderr)
	}
}

func TestPredict(t *testing.T) {
	url := startIris(t)
	code, out, stderr := kiln(t, "", "predict", "iris", "--server", url, "--data", "[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]")
	if code != 0 || !strings.Contains(out, `["setosa","virginica"]`) || !strings.Contains(out, "probabilities") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	code, out, _ = kiln(t, "", "predict", "iris", "--server", url, "--binary", "--json", "--data", "[[6.7,3.0,5.2,2.3]]")
	var resp oip.InferResponse
	if code != 0 || json.Unmarshal([]byte(out), &resp) != nil || resp.ModelName != "iris" || string(resp.Output("label").Strings[0]) != "virginica" {
		t.Errorf("--json --binary: exit %d, %q", code, out)
	}
	code, _, stderr = kiln(t, "", "predict", "iris", "--server", url, "--data", "[[1,2,3]]")
	if code != 1 || !strings.Contains(stderr, "needs 4 elements") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("a short row: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ = kiln(t, "", "predict", "iris", "--server", url); code != 2 {
		t.Errorf("no --data nor --input: exit %d, want 2", code)
	}
}

func TestBenchAgainstServerAndInProcess(t *testing.T) {
	url := startIris(t)
	var report benchReport
	code, out, stderr := kiln(t, "", "bench", "iris", "--server", url, "--concurrency", "1,4", "--requests", "200", "--batch", "3", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &report) != nil {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if len(report.Levels) != 2 || report.Batch != 3 {
		t.Fatalf("report %+v", report)
	}
	for _, l := range report.Levels {
		if l.Requests != 200 || l.Errors != 0 || l.Rows != 600 || l.Throughput <= 0 || l.P50 <= 0 || l.P99 < l.P50 {
			t.Errorf("level %+v", l)
		}
	}
	code, out, stderr = kiln(t, "", "bench", "--in-process", irisExample(t, "model.onnx"), "--concurrency", "2", "--requests", "100")
	if code != 0 || !strings.Contains(out, "in-process onnxruntime") || !strings.Contains(out, "P99") {
		t.Errorf("in-process: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code, _, _ = kiln(t, "", "bench", "iris", "--server", url, "--concurrency", "0"); code != 2 {
		t.Errorf("--concurrency 0: exit %d, want 2", code)
	}
}
