package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/serve"
)

type badCase struct {
	name, method, path, body string
	header                   map[string]string
	status                   int
	message                  string
}

var badCases = []badCase{
	{name: "unknown model", path: "/v2/models/nope/infer", body: `{"inputs":[]}`, status: 404, message: `unknown model "nope"`},
	{name: "unknown version", path: "/v2/models/multi/versions/7/infer", body: `{"inputs":[]}`, status: 404, message: `no version "7"`},
	{name: "unknown input", path: "/v2/models/multi/infer", body: `{"inputs":[` + a13 + `,` + b13 + `,{"name":"c","shape":[1],"datatype":"FP32","data":[1]}]}`, status: 400, message: `unknown input "c"`},
	{name: "missing input", path: "/v2/models/multi/infer", body: `{"inputs":[` + a13 + `]}`, status: 400, message: `missing input "b"`},
	{name: "wrong datatype", path: "/v2/models/multi/infer", body: `{"inputs":[` + a13 + `,{"name":"b","shape":[1,3],"datatype":"FP64","data":[1,2,3]}]}`, status: 400, message: `input "b": datatype FP64, the model expects FP32`},
	{name: "fixed dim", path: "/v2/models/multi/infer", body: `{"inputs":[` + a13 + `,{"name":"b","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`, status: 400, message: `input "b": shape [1,4] does not fit the model's [-1,3]`},
	{name: "element count", path: "/v2/models/multi/infer", body: `{"inputs":[` + a13 + `,{"name":"b","shape":[1,3],"datatype":"FP32","data":[1,2]}]}`, status: 400, message: `"b"`},
	{name: "malformed json", path: "/v2/models/multi/infer", body: `{"inputs":[{"name":"a",`, status: 400, message: "JSON"},
	{name: "non-numeric", path: "/v2/models/multi/infer", body: `{"inputs":[` + a13 + `,{"name":"b","shape":[1,3],"datatype":"FP32","data":[1,"two",3]}]}`, status: 400, message: `"b"`},
	{name: "out of range", path: "/v2/models/identity/infer", body: `{"inputs":[{"name":"in_uint8","shape":[1,2],"datatype":"UINT8","data":[300,1]}]}`, status: 400, message: `input "in_uint8": value 300 out of range for UINT8`},
	{name: "unknown datatype", path: "/v2/models/multi/infer", body: `{"inputs":[{"name":"a","shape":[1,3],"datatype":"FP128","data":[1,2,3]}]}`, status: 400, message: `FP128`},
	{name: "negative dim", path: "/v2/models/multi/infer", body: `{"inputs":[{"name":"a","shape":[-1,3],"datatype":"FP32","data":[1,2,3]}]}`, status: 400, message: `negative`},
	{name: "unknown output", path: "/v2/models/multi/infer", body: `{"inputs":[` + a13 + `,` + b13 + `],"outputs":[{"name":"nope"}]}`, status: 400, message: `unknown output "nope"`},
	{name: "bad classification", path: "/v2/models/multi/infer", body: `{"inputs":[` + a13 + `,` + b13 + `],"outputs":[{"name":"sum","parameters":{"classification":0}}]}`, status: 400, message: `classification`},
	{name: "header length past body", path: "/v2/models/multi/infer", body: `{"inputs":[]}`, header: map[string]string{"Inference-Header-Content-Length": "999"}, status: 400, message: "Inference-Header-Content-Length"},
	{name: "binary size mismatch", path: "/v2/models/multi/infer", body: `{"inputs":[{"name":"a","shape":[1,3],"datatype":"FP32","parameters":{"binary_data_size":12}}]}` + "\x00\x00\x80\x3f", header: map[string]string{"Inference-Header-Content-Length": strconv.Itoa(len(`{"inputs":[{"name":"a","shape":[1,3],"datatype":"FP32","parameters":{"binary_data_size":12}}]}`))}, status: 400, message: `"a"`},
	{name: "over body limit", path: "/v2/models/multi/infer", body: `{"inputs":[` + strings.Repeat(" ", 5000) + `]}`, status: 413, message: "limit"},
	{name: "wrong method", method: "GET", path: "/v2/models/multi/infer", status: 405, message: "GET"},
	{name: "no such endpoint", method: "GET", path: "/v3/whatever", status: 404, message: "/v3/whatever"},
}

const (
	a13 = `{"name":"a","shape":[1,3],"datatype":"FP32","data":[1,2,3]}`
	b13 = `{"name":"b","shape":[1,3],"datatype":"FP32","data":[[1,2,3]]}`
)

func TestBadInputsGetClearErrorsAndServerKeepsServing(t *testing.T) {
	ts, client := startServer(t, serve.Options{BodyLimit: 4096}, map[string]*onnx.Model{
		"multi":    testenv.MultiIOModel(t),
		"identity": testenv.IdentityModel(t),
	})
	for _, c := range badCases {
		status, msg := send(t, ts.URL, c)
		if status != c.status || !strings.Contains(msg, c.message) {
			t.Errorf("%s: got %d %q, want %d with %q", c.name, status, msg, c.status, c.message)
		}
	}
	if _, err := client.Infer(context.Background(), "multi", "", multiRequest(), false); err != nil {
		t.Fatalf("good request after bad ones: %v", err)
	}
	metrics := get(t, ts.URL+"/metrics")
	for _, want := range []string{
		`kiln_inference_failures_total{reason="bad_input"} 5`,
		`kiln_inference_failures_total{reason="bad_request"} 9`,
		`kiln_inference_failures_total{reason="not_found"} 2`,
		`kiln_inference_failures_total{reason="too_large"} 1`,
		`kiln_inference_requests_in_flight 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s in\n%s", want, metrics)
		}
	}
}

// TestBadInputsDoNotLeak sends thousands of bad requests and checks that the
// process's resident memory does not keep growing.
func TestBadInputsDoNotLeak(t *testing.T) {
	ts, client := startServer(t, serve.Options{BodyLimit: 4096}, map[string]*onnx.Model{
		"multi":    testenv.MultiIOModel(t),
		"identity": testenv.IdentityModel(t),
	})
	round := func() {
		for _, c := range badCases {
			send(t, ts.URL, c)
		}
		if _, err := client.Infer(context.Background(), "multi", "", multiRequest(), true); err != nil {
			t.Fatal(err)
		}
	}
	for range 50 {
		round()
	}
	before := testenv.ProcStatusKiB(t, 0, "VmRSS")
	for range 300 {
		round()
	}
	after := testenv.ProcStatusKiB(t, 0, "VmRSS")
	t.Logf("RSS %d KiB -> %d KiB over %d bad requests", before, after, 300*len(badCases))
	if after-before > 16*1024 {
		t.Errorf("RSS grew by %d KiB", after-before)
	}
}

// send posts (or gets) one raw request and returns its status and error message.
func send(t testing.TB, base string, c badCase) (int, string) {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Errorf("%s: error body is not {\"error\": ...}: %v", c.name, err)
	}
	return resp.StatusCode, body.Error
}
