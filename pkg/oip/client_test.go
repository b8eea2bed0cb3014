package oip

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// echoServer is a tiny OIP server built on this package's codec: its model
// "echo" returns its inputs as outputs.
type echoServer struct {
	*httptest.Server
	ready atomic.Bool

	mu          sync.Mutex
	contentType string
	headerLen   string
	path        string
	binaryOut   bool
}

func newEchoServer(t *testing.T) *echoServer {
	e := &echoServer{}
	e.ready.Store(true)
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", ContentTypeJSON)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /v2", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, ServerMetadata{Name: "echo-server", Version: "1.0", Extensions: []string{"binary_tensor_data"}})
	})
	mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]bool{"live": true})
	})
	mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, r *http.Request) {
		if e.ready.Load() {
			w.WriteHeader(200)
		} else {
			w.WriteHeader(503)
		}
	})
	metadata := func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("model") != "echo" {
			writeJSON(w, 404, ErrorResponse{Error: "model " + strconv.Quote(r.PathValue("model")) + " not found"})
			return
		}
		versions := []string{"1", "2"}
		if v := r.PathValue("version"); v != "" {
			versions = []string{v}
		}
		writeJSON(w, 200, ModelMetadata{Name: "echo", Versions: versions, Platform: "onnxruntime_onnx",
			Inputs: []TensorMetadata{{Name: "x", Datatype: FP32, Shape: []int64{-1, 4}}}})
	}
	mux.HandleFunc("GET /v2/models/{model}", metadata)
	mux.HandleFunc("GET /v2/models/{model}/versions/{version}", metadata)
	mux.HandleFunc("GET /v2/models/{model}/ready", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]bool{"ready": r.PathValue("model") == "echo"})
	})
	infer := func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.contentType, e.headerLen, e.path = r.Header.Get("Content-Type"), r.Header.Get(HeaderContentLength), r.URL.Path
		e.mu.Unlock()
		if r.PathValue("model") != "echo" {
			writeJSON(w, 404, ErrorResponse{Error: "model not found"})
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeJSON(w, 400, ErrorResponse{Error: err.Error()})
			return
		}
		n, err := ParseHeaderLength(r.Header)
		if err != nil {
			writeJSON(w, 400, ErrorResponse{Error: err.Error()})
			return
		}
		req, err := DecodeRequest(body, n)
		if err != nil {
			writeJSON(w, 400, ErrorResponse{Error: err.Error()})
			return
		}
		version := r.PathValue("version")
		if version == "" {
			version = "2"
		}
		resp := &InferResponse{ModelName: "echo", ModelVersion: version, ID: req.ID, Outputs: req.Inputs}
		out, headerLen := EncodeResponse(resp, req.WantsBinary)
		e.mu.Lock()
		e.binaryOut = headerLen >= 0
		e.mu.Unlock()
		if headerLen >= 0 {
			w.Header().Set("Content-Type", ContentTypeBinary)
			w.Header().Set(HeaderContentLength, strconv.Itoa(headerLen))
		} else {
			w.Header().Set("Content-Type", ContentTypeJSON)
		}
		w.Write(out)
	}
	mux.HandleFunc("POST /v2/models/{model}/infer", infer)
	mux.HandleFunc("POST /v2/models/{model}/versions/{version}/infer", infer)
	e.Server = httptest.NewServer(mux)
	t.Cleanup(e.Close)
	return e
}

// seen returns what the last infer call sent and whether it was answered
// in binary form.
func (e *echoServer) seen() (contentType, headerLen, path string, binaryOut bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.contentType, e.headerLen, e.path, e.binaryOut
}

func TestClientInfer(t *testing.T) {
	srv := newEchoServer(t)
	c := NewClient(srv.URL + "/")
	ctx := context.Background()
	for _, binary := range []bool{false, true} {
		req := &InferRequest{ID: "r1", Inputs: edgeTensors()}
		if binary {
			req.Inputs = append(req.Inputs, binaryOnlyTensors()...)
		}
		resp, err := c.Infer(ctx, "echo", "", req, binary)
		if err != nil {
			t.Fatalf("binary=%v: %v", binary, err)
		}
		if resp.ModelName != "echo" || resp.ModelVersion != "2" || resp.ID != "r1" {
			t.Errorf("binary=%v: envelope %+v", binary, resp)
		}
		if d := sameTensors(req.Inputs, resp.Outputs); d != "" {
			t.Errorf("binary=%v: %s", binary, d)
		}
		if req.Parameters != nil {
			t.Errorf("binary=%v: Infer changed the caller's request: %v", binary, req.Parameters)
		}
		ct, hl, path, binOut := srv.seen()
		wantCT := map[bool]string{false: ContentTypeJSON, true: ContentTypeBinary}[binary]
		if ct != wantCT || (hl != "") != binary || path != "/v2/models/echo/infer" || binOut != binary {
			t.Errorf("binary=%v: server saw Content-Type %q, %s %q, path %q, answered binary %v", binary, ct, HeaderContentLength, hl, path, binOut)
		}
	}
	// The caller's own choice of output form wins over binary.
	req := &InferRequest{Parameters: Parameters{"binary_data_output": false}, Inputs: []*Tensor{NewTensor("x", nil, []int8{1})}}
	resp, err := c.Infer(ctx, "echo", "7", req, true)
	if err != nil || resp.ModelVersion != "7" {
		t.Fatalf("%+v %v", resp, err)
	}
	if _, hl, path, binOut := srv.seen(); path != "/v2/models/echo/versions/7/infer" || hl == "" || binOut {
		t.Errorf("path %q, input header %q, answered binary %v", path, hl, binOut)
	}
}

func TestClientErrors(t *testing.T) {
	srv := newEchoServer(t)
	c := NewClient(srv.URL)
	ctx := context.Background()

	// A tensor whose data does not fit its shape is refused by the server's
	// decoder, and the client reports the server's message.
	bad := &InferRequest{Inputs: []*Tensor{{Name: "x", Datatype: FP32, Shape: []int64{2}, Raw: make([]byte, 4)}}}
	_, err := c.Infer(ctx, "echo", "", bad, false)
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 400 || he.Message != `input "x": shape [2] needs 2 elements, got 1` {
		t.Errorf("got %v", err)
	}
	_, err = c.Infer(ctx, "nope", "", &InferRequest{}, false)
	if !errors.As(err, &he) || he.Status != 404 || he.Message != "model not found" {
		t.Errorf("got %v", err)
	}
	_, err = c.ModelMetadata(ctx, "nope", "")
	if !errors.As(err, &he) || he.Status != 404 || !strings.Contains(he.Message, `"nope" not found`) {
		t.Errorf("got %v", err)
	}

	srv.Close()
	if _, err := c.ServerMetadata(ctx); err == nil || errors.As(err, &he) {
		t.Errorf("closed server: %v", err)
	}
	if ok, err := c.Ready(ctx); ok || err == nil {
		t.Errorf("closed server: Ready %v %v", ok, err)
	}
}

func TestClientMetadataAndHealth(t *testing.T) {
	srv := newEchoServer(t)
	c := NewClient(srv.URL)
	ctx := context.Background()

	sm, err := c.ServerMetadata(ctx)
	if err != nil || sm.Name != "echo-server" || sm.Version != "1.0" || len(sm.Extensions) != 1 {
		t.Errorf("%+v %v", sm, err)
	}
	mm, err := c.ModelMetadata(ctx, "echo", "")
	if err != nil || mm.Name != "echo" || len(mm.Versions) != 2 || mm.Platform != "onnxruntime_onnx" ||
		len(mm.Inputs) != 1 || mm.Inputs[0].Datatype != FP32 || mm.Inputs[0].Shape[0] != -1 {
		t.Errorf("%+v %v", mm, err)
	}
	mm, err = c.ModelMetadata(ctx, "echo", "3")
	if err != nil || len(mm.Versions) != 1 || mm.Versions[0] != "3" {
		t.Errorf("%+v %v", mm, err)
	}
	if ok, err := c.Live(ctx); !ok || err != nil {
		t.Errorf("Live %v %v", ok, err)
	}
	if ok, err := c.Ready(ctx); !ok || err != nil {
		t.Errorf("Ready %v %v", ok, err)
	}
	srv.ready.Store(false)
	if ok, err := c.Ready(ctx); ok || err != nil {
		t.Errorf("not ready: Ready %v %v", ok, err)
	}
	if ok, err := c.ModelReady(ctx, "echo", ""); !ok || err != nil {
		t.Errorf("ModelReady %v %v", ok, err)
	}
	if ok, err := c.ModelReady(ctx, "other", ""); ok || err != nil {
		t.Errorf("ModelReady(other) %v %v", ok, err)
	}
}

func TestModelPath(t *testing.T) {
	if p := modelPath("a b/c", ""); p != "/v2/models/a%20b%2Fc" {
		t.Error(p)
	}
	if p := modelPath("m", "3"); p != "/v2/models/m/versions/3" {
		t.Error(p)
	}
}
