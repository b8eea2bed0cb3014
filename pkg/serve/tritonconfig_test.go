package serve_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// TestTritonRepositoryConfig serves a Triton-layout repository whose
// config.pbtxt files set batching, instances, version policies and a model
// file name, with Kiln's own settings winning where both are given, and a
// warning for each setting Kiln does not support.
func TestTritonRepositoryConfig(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(rel string, data []byte) {
		path := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	model := func(k float32) []byte {
		data, err := testenv.AdderModel(t, k).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for v, k := range map[string]float32{"1": 1, "2": 2, "3": 3} {
		write("adder/"+v+"/model.onnx", model(k))
		write("fixed/"+v+"/net.onnx", model(10*k))
	}
	write("adder/config.pbtxt", []byte(`
name: "adder"
platform: "onnxruntime_onnx"
max_batch_size: 8
version_policy: { latest: { num_versions: 2 } }
input [ { name: "x", data_type: TYPE_FP32, dims: [ 2 ] } ]
output [ { name: "y", data_type: TYPE_FP32, dims: [ 2 ] } ]
dynamic_batching { max_queue_delay_microseconds: 500, preferred_batch_size: [ 4 ] }
instance_group [ { count: 2, kind: KIND_CPU } ]
parameters { key: "intra_op_thread_count" value: { string_value: "2" } }
parameters { key: "inter_op_thread_count" value: { string_value: "2" } }
optimization { execution_accelerators { cpu_execution_accelerator: [ { name: "openvino" } ] } }
`))
	write("fixed/config.pbtxt", []byte(`
backend: "onnxruntime"
default_model_filename: "net.onnx"
version_policy: { specific: { versions: [ 1, 3 ] } }
`))

	var logs bytes.Buffer
	settings := &serve.Config{Models: map[string]serve.ModelConfig{"adder": {Batching: serve.BatchingConfig{MaxBatchSize: 4}}}}
	mgr := serve.NewManager(serve.ManagerOptions{Config: settings})
	defer mgr.Close()
	repo := serve.NewRepository(mgr, serve.RepositoryOptions{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := repo.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(serve.NewServer(mgr, serve.Options{}).Handler())
	defer ts.Close()
	client := oip.NewClient(ts.URL)
	x := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, 2}, []float32{0, 0})}}
	for model, versions := range map[string]map[string]float32{"adder": {"1": -1, "2": 2, "3": 3}, "fixed": {"1": 10, "2": -1, "3": 30}} {
		for version, want := range versions {
			resp, err := client.Infer(context.Background(), model, version, x, false)
			if want < 0 {
				if statusOf(err) != 404 {
					t.Errorf("%s version %s is not in the version policy but answered: %v", model, version, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s version %s: %v", model, version, err)
			}
			if got, _ := oip.Values[float32](resp.Outputs[0]); got[0] != want {
				t.Errorf("%s version %s answered %v, want %v", model, version, got, want)
			}
		}
	}

	var cfg map[string]any
	getJSON(t, "GET", ts.URL+"/v2/models/adder/config", "", &cfg)
	group := cfg["instance_group"].([]any)[0].(map[string]any)
	batching, _ := cfg["dynamic_batching"].(map[string]any)
	// max_batch_size 4: --config's own setting wins over config.pbtxt's 8.
	if cfg["max_batch_size"] != float64(4) || group["count"] != float64(2) || batching["max_queue_delay_microseconds"] != float64(500) {
		t.Errorf("adder served with %v", cfg)
	}
	cfg = nil
	getJSON(t, "GET", ts.URL+"/v2/models/fixed/config", "", &cfg)
	if cfg["dynamic_batching"] != nil {
		t.Errorf("fixed has no dynamic_batching in config.pbtxt, but is batched: %v", cfg)
	}
	for _, want := range []string{"dynamic_batching.preferred_batch_size is not supported", "optimization is not supported"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no warning %q in:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "thread_count") {
		t.Errorf("intra_op_thread_count is supported but warned about:\n%s", logs.String())
	}
}

// TestTritonConfigErrors refuses configurations that do not fit the model
// or are not for ONNX Runtime, naming the problem.
func TestTritonConfigErrors(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ config, want string }{
		{`input [ { name: "x", data_type: TYPE_FP32, dims: [ 3 ] } ]`, `dims [3] do not fit the model's [-1 2]`},
		{`input [ { name: "x", data_type: TYPE_INT64, dims: [ -1, 2 ] } ]`, `data_type TYPE_INT64, the model's is TYPE_FP32`},
		{`output [ { name: "z", data_type: TYPE_FP32, dims: [ -1, 2 ] } ]`, `output "z", which the model does not have`},
		{`name: "other"`, `differs from the folder's name`},
		{`platform: "tensorrt_plan"`, `Kiln serves ONNX models`},
		{`max_batch_size: "eight"`, `invalid value for int32 type: "eight"`},
	} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "adder", "1"), 0o755)
		testenv.AdderModel(t, 1).WriteFile(filepath.Join(dir, "adder", "1", "model.onnx"))
		os.WriteFile(filepath.Join(dir, "adder", "config.pbtxt"), []byte(c.config), 0o644)
		mgr := serve.NewManager(serve.ManagerOptions{})
		err := serve.NewRepository(mgr, serve.RepositoryOptions{Dir: dir}).Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.config, err, c.want)
		}
		mgr.Close()
	}
}
