package main

import (
	"encoding/json"
	"log/slog"
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
	srv := httptest.NewServer(serve.NewServer(models, serve.Options{Logger: slog.New(slog.DiscardHandler)}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL
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
