package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
	"github.com/kilnml/kiln/pkg/telemetry"
)

// getJSON sends a request and decodes the JSON answer into out, returning the status.
func getJSON(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, data)
		}
	}
	return resp.StatusCode
}

// TestModelConfigExtension reads the model configuration over REST, as
// tritonclient's get_model_config does.
func TestModelConfigExtension(t *testing.T) {
	ts, _ := startServer(t, serve.Options{}, map[string]*onnx.Model{"multi": testenv.MultiIOModel(t), "vad": testenv.VADModel(t)})
	var cfg map[string]any
	if code := getJSON(t, "GET", ts.URL+"/v2/models/multi/config", "", &cfg); code != 200 {
		t.Fatalf("config: %d", code)
	}
	inputs, _ := cfg["input"].([]any)
	first, _ := inputs[0].(map[string]any)
	// argmax is [-1]: with the batch dimension left out, dims [1] reshaped to [].
	argmax, _ := cfg["output"].([]any)[2].(map[string]any)
	if d, _ := argmax["dims"].([]any); len(d) != 1 || d[0] != float64(1) || argmax["reshape"] == nil {
		t.Errorf("config of a [-1] output: %v", argmax)
	}
	if cfg["name"] != "multi" || cfg["platform"] != "onnxruntime_onnx" || cfg["max_batch_size"] != float64(64) || first["data_type"] != "TYPE_FP32" ||
		first["dims"].([]any)[0] != float64(3) || cfg["dynamic_batching"] == nil {
		t.Errorf("config of a batched model: %v", cfg)
	}
	// A model with a scalar input is not batched: dims are its whole shapes.
	cfg = nil
	getJSON(t, "GET", ts.URL+"/v2/models/vad/versions/1/config", "", &cfg)
	if _, ok := cfg["max_batch_size"]; ok || cfg["dynamic_batching"] != nil {
		t.Errorf("config of an unbatched model: %v", cfg)
	}
	var e struct{ Error string }
	if code := getJSON(t, "GET", ts.URL+"/v2/models/nope/config", "", &e); code != 404 || e.Error == "" {
		t.Errorf("config of an unknown model: %d %q", code, e.Error)
	}
	var md oip.ServerMetadata
	getJSON(t, "GET", ts.URL+"/v2", "", &md)
	for _, ext := range []string{"model_configuration", "statistics", "model_repository", "logging", "trace", "binary_tensor_data", "classification"} {
		if !strings.Contains(strings.Join(md.Extensions, ","), ext) {
			t.Errorf("extensions %v lack %s", md.Extensions, ext)
		}
	}
}

// TestStatisticsCountRequests sends requests over REST and gRPC and reads
// the counts back from both statistics endpoints.
func TestStatisticsCountRequests(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	mgr := serve.NewManager(serve.ManagerOptions{})
	if err := mgr.Load(serve.Source{Name: "multi", Version: 1, Path: testenv.WriteModel(t, testenv.MultiIOModel(t))}); err != nil {
		t.Fatal(err)
	}
	srv := serve.NewServer(mgr, serve.Options{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	grpcClient, _ := serveGRPC(t, srv, mgr)
	client := oip.NewClient(ts.URL)
	req := func(rows int) *oip.InferRequest {
		data := make([]float32, rows*3)
		return &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("a", []int64{int64(rows), 3}, data), oip.NewTensor("b", []int64{int64(rows), 3}, data)}}
	}
	for range 5 {
		if _, err := client.Infer(context.Background(), "multi", "", req(2), false); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := grpcInfer(t, grpcClient, "multi", req(1), true); err != nil {
			t.Fatal(err)
		}
	}
	client.Infer(context.Background(), "multi", "", &oip.InferRequest{Inputs: req(1).Inputs[:1]}, false) // fails: input b is missing
	http.Post(ts.URL+"/v2/models/multi/infer", "application/json", strings.NewReader("{not json"))

	var stats struct {
		ModelStats []serve.ModelStats `json:"model_stats"`
	}
	if code := getJSON(t, "GET", ts.URL+"/v2/models/multi/stats", "", &stats); code != 200 || len(stats.ModelStats) != 1 {
		t.Fatalf("stats: %d %+v", code, stats)
	}
	st := stats.ModelStats[0]
	is := st.InferenceStats
	if st.Name != "multi" || st.Version != "1" || is.Success.Count != 8 || is.Fail.Count != 2 || st.InferenceCount != 13 ||
		st.ExecutionCount != 8 || is.Queue.Count != 8 || is.ComputeInfer.Count != 8 || is.ComputeInfer.NS == 0 || is.Success.NS < is.ComputeInfer.NS || st.LastInference == 0 {
		t.Errorf("stats after 5 REST (2 rows) and 3 gRPC requests (1 row) and 2 failures: %+v", st)
	}
	sizes := map[int]uint64{}
	for _, b := range st.BatchStats {
		sizes[b.BatchSize] = b.ComputeInfer.Count
	}
	if sizes[2] != 5 || sizes[1] != 3 {
		t.Errorf("batch stats %+v, want 5 runs of 2 rows and 3 of 1", st.BatchStats)
	}
	all, err := grpcClient.ModelStatistics(context.Background(), nil)
	if err != nil || len(all.ModelStats) != 1 || all.ModelStats[0].InferenceStats.Success.Count != 8 || all.ModelStats[0].ExecutionCount != 8 {
		t.Errorf("gRPC stats: %v %v", all, err)
	}
	if code := getJSON(t, "GET", ts.URL+"/v2/models/stats", "", &stats); code != 200 || len(stats.ModelStats) != 1 {
		t.Errorf("stats of every model: %d %+v", code, stats)
	}
}

// TestRepositoryLoadUnload unloads and loads models with requests in
// flight (none of which fails), scans a repository folder anew on load, and
// refuses both without model control.
func TestRepositoryLoadUnload(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeVersion := func(name string, version string, m *onnx.Model) {
		os.MkdirAll(filepath.Join(dir, name, version), 0o755)
		if err := m.WriteFile(filepath.Join(dir, name, version, "model.onnx")); err != nil {
			t.Fatal(err)
		}
	}
	writeVersion("adder", "1", testenv.AdderModel(t, 1))
	slow := serve.Source{Name: "slow", Version: 1, Path: testenv.WriteModel(t, testenv.SlowModel(t, 8))}
	mgr := serve.NewManager(serve.ManagerOptions{})
	repo := serve.NewRepository(mgr, serve.RepositoryOptions{Files: []serve.Source{slow}, Dir: dir})
	if err := repo.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	ts := httptest.NewServer(serve.NewServer(mgr, serve.Options{ModelControl: repo}).Handler())
	defer ts.Close()
	client := oip.NewClient(ts.URL)

	// Requests in flight on the slow model while it is unloaded all finish;
	// those that arrive after it are refused as for an unknown model.
	x := oip.NewTensor("x", []int64{64, 1024}, make([]float32, 64*1024))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.Infer(context.Background(), "slow", "", &oip.InferRequest{Inputs: []*oip.Tensor{x}}, true)
			errs <- err
		}()
	}
	inFlight := 0
	testenv.Eventually(t, 30*time.Second, func() bool {
		inFlight = gaugeValue(get(t, ts.URL+"/metrics"), "kiln_inference_requests_in_flight")
		return inFlight >= 2
	}, func() string { return "requests in flight on the slow model" })
	if code := getJSON(t, "POST", ts.URL+"/v2/repository/models/slow/unload", "", nil); code != 200 {
		t.Fatalf("unload: %d", code)
	}
	wg.Wait()
	close(errs)
	answered := 0
	for err := range errs {
		switch {
		case err == nil:
			answered++
		case statusOf(err) != 404:
			t.Errorf("a request during unload failed: %v", err)
		}
	}
	if answered < inFlight {
		t.Errorf("%d requests answered, %d were in flight at the unload", answered, inFlight)
	}
	if _, err := client.Infer(context.Background(), "slow", "", &oip.InferRequest{Inputs: []*oip.Tensor{x}}, true); statusOf(err) != 404 {
		t.Errorf("after unload: %v", err)
	}
	var index []serve.IndexEntry
	getJSON(t, "POST", ts.URL+"/v2/repository/index", "", &index)
	if len(index) != 2 || index[0].Name != "adder" || index[0].State != "READY" || index[1].Name != "slow" || index[1].State != "UNAVAILABLE" {
		t.Errorf("index after unload: %+v", index)
	}
	getJSON(t, "POST", ts.URL+"/v2/repository/index", `{"ready": true}`, &index)
	if len(index) != 1 {
		t.Errorf("ready index: %+v", index)
	}
	if code := getJSON(t, "POST", ts.URL+"/v2/repository/models/slow/load", "", nil); code != 200 {
		t.Fatalf("load: %d", code)
	}
	if _, err := client.Infer(context.Background(), "slow", "", &oip.InferRequest{Inputs: []*oip.Tensor{x}}, true); err != nil {
		t.Errorf("after load: %v", err)
	}

	// A new version folder is picked up when the model is loaded again.
	writeVersion("adder", "2", testenv.AdderModel(t, 10))
	getJSON(t, "POST", ts.URL+"/v2/repository/models/adder/load", "", nil)
	resp, err := client.Infer(context.Background(), "adder", "", &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, 2}, []float32{1, 1})}}, false)
	if err != nil || resp.ModelVersion != "2" {
		t.Errorf("after loading a new version: %v %v", resp, err)
	}
	var e struct{ Error string }
	if code := getJSON(t, "POST", ts.URL+"/v2/repository/models/nope/load", "", &e); code != 404 {
		t.Errorf("load of an unknown model: %d %q", code, e.Error)
	}

	// Without model control both are refused, with advice.
	plain, _ := startServer(t, serve.Options{}, map[string]*onnx.Model{"adder": testenv.AdderModel(t, 1)})
	for _, action := range []string{"load", "unload"} {
		if code := getJSON(t, "POST", plain.URL+"/v2/repository/models/adder/"+action, "", &e); code != 403 || !strings.Contains(e.Error, "--model-control=explicit") {
			t.Errorf("%s without model control: %d %q", action, code, e.Error)
		}
	}
}

// TestLoggingAndTraceSettings changes the log level and the trace rate at run time.
func TestLoggingAndTraceSettings(t *testing.T) {
	var logs bytes.Buffer
	logger, level, err := telemetry.NewLevelLogger(&logs, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	sampler := telemetry.NewSampler(1)
	ts, _ := startServer(t, serve.Options{Logger: logger, LogLevel: level, TraceSampler: sampler}, map[string]*onnx.Model{"adder": testenv.AdderModel(t, 1)})
	var ls map[string]any
	if code := getJSON(t, "GET", ts.URL+"/v2/logging", "", &ls); code != 200 || ls["log_info"] != true || ls["log_verbose_level"] != float64(0) {
		t.Errorf("log settings: %d %v", code, ls)
	}
	getJSON(t, "POST", ts.URL+"/v2/logging", `{"log_verbose_level": 1}`, &ls)
	if level.Level() != slog.LevelDebug || ls["log_verbose_level"] != float64(1) {
		t.Errorf("verbose: level %v, %v", level.Level(), ls)
	}
	getJSON(t, "POST", ts.URL+"/v2/logging", `{"log_verbose_level": 0, "log_info": false}`, &ls)
	if level.Level() != slog.LevelWarn || ls["log_info"] != false || ls["log_warning"] != true {
		t.Errorf("warnings only: level %v, %v", level.Level(), ls)
	}
	var e struct{ Error string }
	if code := getJSON(t, "POST", ts.URL+"/v2/logging", `{"log_file": "/tmp/x.log"}`, &e); code != 400 || !strings.Contains(e.Error, "log_file") {
		t.Errorf("log_file: %d %q", code, e.Error)
	}

	var tr map[string]any
	getJSON(t, "POST", ts.URL+"/v2/trace/setting", `{"trace_rate": "100"}`, &tr)
	if sampler.Rate() != 100 || tr["trace_rate"] != "100" {
		t.Errorf("trace rate: %d, %v", sampler.Rate(), tr)
	}
	getJSON(t, "POST", ts.URL+"/v2/trace/setting", `{"trace_level": ["OFF"]}`, &tr)
	if sampler.Rate() != 0 || tr["trace_level"].([]any)[0] != "OFF" {
		t.Errorf("trace off: %d, %v", sampler.Rate(), tr)
	}
	if code := getJSON(t, "POST", ts.URL+"/v2/trace/setting", `{"trace_rate": "-3"}`, &e); code != 400 {
		t.Errorf("negative rate: %d %q", code, e.Error)
	}
}

// gaugeValue reads an unlabelled metric's value from a /metrics page (-1 when absent).
func gaugeValue(page, name string) int {
	for line := range strings.Lines(page) {
		if value, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err == nil {
				return int(f)
			}
		}
	}
	return -1
}
