package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/predlog"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// loadModels returns a manager serving the given models (name -> model, version 1).
func loadModels(t testing.TB, models map[string]*onnx.Model) *serve.Manager {
	t.Helper()
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	mgr := serve.NewManager(serve.ManagerOptions{})
	for name, m := range models {
		if err := mgr.Load(serve.Source{Name: name, Version: 1, Path: testenv.WriteModel(t, m)}); err != nil {
			t.Fatal(err)
		}
	}
	return mgr
}

// startServer serves the given models (name -> model, version 1) on a loopback port.
func startServer(t testing.TB, opts serve.Options, models map[string]*onnx.Model) (*httptest.Server, *oip.Client) {
	t.Helper()
	mgr := loadModels(t, models)
	ts := httptest.NewServer(serve.NewServer(mgr, opts).Handler())
	t.Cleanup(func() {
		ts.Close()
		mgr.Close()
	})
	return ts, oip.NewClient(ts.URL)
}

func TestEveryDatatypeOverJSONAndBinary(t *testing.T) {
	_, client := startServer(t, serve.Options{}, map[string]*onnx.Model{"identity": testenv.IdentityModel(t)})
	req := &oip.InferRequest{ID: "all-types"}
	for _, dt := range testenv.AllTypes {
		req.Inputs = append(req.Inputs, testenv.SampleTensor("in_"+dt.String(), dt))
	}
	for _, binary := range []bool{false, true} {
		resp, err := client.Infer(context.Background(), "identity", "", req, binary)
		if err != nil {
			t.Fatalf("binary=%v: %v", binary, err)
		}
		if resp.ID != "all-types" || resp.ModelName != "identity" || resp.ModelVersion != "1" {
			t.Errorf("binary=%v: id %q model %q version %q", binary, resp.ID, resp.ModelName, resp.ModelVersion)
		}
		for i, dt := range testenv.AllTypes {
			in := req.Inputs[i]
			out := resp.Output("out_" + dt.String())
			if out == nil {
				t.Errorf("binary=%v: no output for %s", binary, dt)
				continue
			}
			if out.Datatype != in.Datatype || fmt.Sprint(out.Shape) != fmt.Sprint(in.Shape) || !bytes.Equal(out.Raw, in.Raw) || fmt.Sprint(out.Strings) != fmt.Sprint(in.Strings) {
				t.Errorf("binary=%v %s: sent %s %v %v %q, got %s %v %v %q", binary, dt, in.Datatype, in.Shape, in.Raw, in.Strings, out.Datatype, out.Shape, out.Raw, out.Strings)
			}
		}
	}
}

func TestMultiIOBatchesAndOutputSelection(t *testing.T) {
	_, client := startServer(t, serve.Options{}, map[string]*onnx.Model{"multi": testenv.MultiIOModel(t)})
	for _, rows := range []int{1, 64} {
		a, b := make([]float32, rows*3), make([]float32, rows*3)
		for i := range a {
			a[i], b[i] = float32(i), float32(2*i)
		}
		req := &oip.InferRequest{
			Inputs:  []*oip.Tensor{oip.NewTensor("b", []int64{int64(rows), 3}, b), oip.NewTensor("a", []int64{int64(rows), 3}, a)},
			Outputs: []oip.RequestedOutput{{Name: "argmax"}, {Name: "sum", Parameters: oip.Parameters{"binary_data": true}}},
		}
		resp, err := client.Infer(context.Background(), "multi", "1", req, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Outputs) != 2 || resp.Outputs[0].Name != "argmax" || resp.Outputs[1].Name != "sum" {
			t.Fatalf("rows %d: outputs %v, want argmax then sum", rows, resp.Outputs)
		}
		sum, _ := oip.Values[float32](resp.Outputs[1])
		argmax, _ := oip.Values[int64](resp.Outputs[0])
		if len(sum) != rows*3 || sum[len(sum)-1] != a[len(a)-1]*3 || len(argmax) != rows || argmax[rows-1] != 2 {
			t.Errorf("rows %d: sum %v argmax %v", rows, sum, argmax)
		}
	}
}

// Classification reads any numeric output, half floats included, and
// refuses strings with a 400.
func TestClassificationOfHalfFloatsAndStrings(t *testing.T) {
	passThrough := func(dt onnx.DataType) *onnx.Model {
		m, err := onnx.NewBuilder("pass").Input("x", onnx.TensorType(dt, -1, 2)).
			Node("Identity", []string{"x"}, []string{"y"}).Output("y", onnx.TensorType(dt, -1, 2)).Build()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	_, client := startServer(t, serve.Options{}, map[string]*onnx.Model{"half": passThrough(onnx.Float16), "text": passThrough(onnx.String)})
	top1 := []oip.RequestedOutput{{Name: "y", Parameters: oip.Parameters{"classification": 1}}}
	half := oip.NewFP16Tensor("x", []int64{2, 2}, []uint16{0x3C00, 0x4200, 0x4400, 0x4000}) // 1 3 / 4 2
	resp, err := client.Infer(context.Background(), "half", "", &oip.InferRequest{Inputs: []*oip.Tensor{half}, Outputs: top1}, false)
	if err != nil {
		t.Fatal(err)
	}
	if top := resp.Output("y"); top == nil || len(top.Strings) != 2 || string(top.Strings[0]) != "3:1" || string(top.Strings[1]) != "4:0" {
		t.Fatalf("top classes %+v, want 3:1 and 4:0", top)
	}
	text := oip.NewBytesTensor("x", []int64{1, 2}, [][]byte{[]byte("a"), []byte("b")})
	_, err = client.Infer(context.Background(), "text", "", &oip.InferRequest{Inputs: []*oip.Tensor{text}, Outputs: top1}, false)
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "classification needs numeric scores") {
		t.Fatalf("classification of strings: %v, want a 400 that says why", err)
	}
}

func TestZipMapOutputAndClassification(t *testing.T) {
	_, client := startServer(t, serve.Options{}, map[string]*onnx.Model{"clf": testenv.ZipMapModel(t)})
	req := &oip.InferRequest{
		Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{2, 3}, []float32{0, 9, 1, 4, 0, 0})},
		Outputs: []oip.RequestedOutput{
			{Name: "output_probability"},
			{Name: "probabilities", Parameters: oip.Parameters{"classification": 2}},
		},
	}
	resp, err := client.Infer(context.Background(), "clf", "", req, false)
	if err != nil {
		t.Fatal(err)
	}
	zip := resp.Output("output_probability")
	if zip == nil || zip.Datatype != oip.FP32 || fmt.Sprint(zip.Shape) != "[2 3]" || fmt.Sprint(zip.Parameters["keys"]) != "[0 1 2]" {
		t.Fatalf("zipmap output %+v", zip)
	}
	top := resp.Output("probabilities")
	if top == nil || top.Datatype != oip.Bytes || fmt.Sprint(top.Shape) != "[2 2]" {
		t.Fatalf("classification output %+v", top)
	}
	if !strings.HasSuffix(string(top.Strings[0]), ":1") || !strings.HasSuffix(string(top.Strings[2]), ":0") || strings.Count(string(top.Strings[0]), ":") != 1 {
		t.Errorf("top classes %q, want class 1 first in row 0 and class 0 first in row 1", top.Strings)
	}
}

func TestMetadataAndHealth(t *testing.T) {
	ts, client := startServer(t, serve.Options{Version: "test"}, map[string]*onnx.Model{"multi": testenv.MultiIOModel(t)})
	ctx := context.Background()
	sm, err := client.ServerMetadata(ctx)
	if err != nil || sm.Name != "kiln" || sm.Version != "test" || !strings.Contains(fmt.Sprint(sm.Extensions), "binary_tensor_data") {
		t.Errorf("server metadata %+v %v", sm, err)
	}
	md, err := client.ModelMetadata(ctx, "multi", "")
	if err != nil {
		t.Fatal(err)
	}
	if md.Platform != "onnxruntime_onnx" || fmt.Sprint(md.Versions) != "[1]" || len(md.Inputs) != 2 || fmt.Sprint(md.Inputs[0].Shape) != "[-1 3]" || md.Outputs[2].Datatype != oip.Int64 {
		t.Errorf("model metadata %+v", md)
	}
	for _, check := range []func(context.Context) (bool, error){client.Live, client.Ready} {
		if ok, err := check(ctx); !ok || err != nil {
			t.Errorf("health: %v %v", ok, err)
		}
	}
	if ok, err := client.ModelReady(ctx, "multi", "1"); !ok || err != nil {
		t.Errorf("model ready: %v %v", ok, err)
	}
	if _, err := client.ModelMetadata(ctx, "nope", ""); statusOf(err) != 404 {
		t.Errorf("unknown model metadata: %v", err)
	}
	if _, err := client.Infer(ctx, "multi", "1", multiRequest(), false); err != nil {
		t.Fatal(err)
	}
	metrics := get(t, ts.URL+"/metrics")
	for _, want := range []string{
		`kiln_inference_requests_total{code="200",model="multi",protocol="rest",role="primary",version="1"} 1`,
		`kiln_inference_request_duration_seconds_count{model="multi",role="primary",version="1"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func multiRequest() *oip.InferRequest {
	return &oip.InferRequest{Inputs: []*oip.Tensor{
		oip.NewTensor("a", []int64{1, 3}, []float32{1, 2, 3}),
		oip.NewTensor("b", []int64{1, 3}, []float32{1, 2, 3}),
	}}
}

func TestModelRepositoryVersions(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, v := range []int{1, 2, 10} {
		// Version v adds v to its input, so the answer shows which version ran.
		m, err := onnx.NewBuilder("add").
			Input("x", onnx.TensorType(onnx.Float, -1)).
			Initializer("k", onnx.Float, []int64{1}, []float32{float32(v)}).
			Node("Add", []string{"x", "k"}, []string{"y"}).
			Output("y", onnx.TensorType(onnx.Float, -1)).
			Build()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "adder", strconv.Itoa(v), "model.onnx")
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := m.WriteFile(path); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, "adder", "notes"), 0o755)
	sources, err := serve.ScanRepository(dir)
	if err != nil || len(sources) != 3 {
		t.Fatalf("scan: %v %v", sources, err)
	}
	mgr := serve.NewManager(serve.ManagerOptions{})
	defer mgr.Close()
	for _, s := range sources {
		if err := mgr.Load(s); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(serve.NewServer(mgr, serve.Options{}).Handler())
	defer ts.Close()
	client := oip.NewClient(ts.URL)
	for version, want := range map[string]float32{"": 10, "1": 1, "2": 2, "10": 10} {
		resp, err := client.Infer(context.Background(), "adder", version, &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1}, []float32{0})}}, false)
		if err != nil {
			t.Fatalf("version %q: %v", version, err)
		}
		got, _ := oip.Values[float32](resp.Outputs[0])
		if got[0] != want {
			t.Errorf("version %q answered %v, want %v", version, got[0], want)
		}
	}
	md, _ := client.ModelMetadata(context.Background(), "adder", "")
	if fmt.Sprint(md.Versions) != "[1 2 10]" {
		t.Errorf("versions %v", md.Versions)
	}
	if _, err := client.Infer(context.Background(), "adder", "3", &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1}, []float32{0})}}, false); statusOf(err) != 404 {
		t.Errorf("missing version: %v", err)
	}
}

func statusOf(err error) int {
	var he *oip.HTTPError
	if errors.As(err, &he) {
		return he.Status
	}
	return 0
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func TestPredictionLogRecordsAnsweredRequests(t *testing.T) {
	dir := t.TempDir()
	log, err := predlog.Open(predlog.Options{Dir: dir, SampleRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	ts, client := startServer(t, serve.Options{PredictionLog: log}, map[string]*onnx.Model{"multi": testenv.MultiIOModel(t)})
	for range 3 {
		if _, err := client.Infer(context.Background(), "multi", "", multiRequest(), false); err != nil {
			t.Fatal(err)
		}
	}
	log.Close()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`kiln_prediction_log_records_total{result="written"} 3`, `kiln_prediction_log_records_total{result="dropped"} 0`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("log files %v", files)
	}
	data, _ := os.ReadFile(files[0])
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var rec predlog.Record
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || rec.Model != "multi" || rec.Version != "1" || rec.RequestID == "" || len(rec.Inputs) != 2 || len(rec.Outputs) != 3 || rec.LatencySeconds <= 0 {
		t.Errorf("%d lines; first %+v", len(lines), rec)
	}
}
