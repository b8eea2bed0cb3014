package serve_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/serve"
)

// TestCompressedRequests sends gzip and deflate bodies (tritonclient's
// request_compression_algorithm), a gzip bomb that decodes past the body
// limit, and asks for a gzip response.
func TestCompressedRequests(t *testing.T) {
	ts, _ := startServer(t, serve.Options{BodyLimit: 1 << 20}, map[string]*onnx.Model{"multi": testenv.MultiIOModel(t)})
	body := []byte(`{"inputs":[{"name":"a","datatype":"FP32","shape":[1,3],"data":[1,2,3]},{"name":"b","datatype":"FP32","shape":[1,3],"data":[1,1,1]}],"outputs":[{"name":"sum"}]}`)
	compress := map[string]func(io.Writer) io.WriteCloser{
		"gzip":    func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) },
		"deflate": func(w io.Writer) io.WriteCloser { zw, _ := flate.NewWriter(w, flate.DefaultCompression); return zw },
	}
	post := func(encoding string, payload []byte, accept string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v2/models/multi/infer", bytes.NewReader(payload))
		req.Header.Set("Content-Encoding", encoding)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		tr := &http.Transport{DisableCompression: true}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp, data
	}
	for encoding, newWriter := range compress {
		var buf bytes.Buffer
		zw := newWriter(&buf)
		zw.Write(body)
		zw.Close()
		resp, data := post(encoding, buf.Bytes(), "")
		if resp.StatusCode != 200 || !strings.Contains(string(data), `"data":[2,3,4]`) {
			t.Errorf("%s: status %d, %s", encoding, resp.StatusCode, data)
		}
	}

	// The binary extension: Inference-Header-Content-Length counts bytes of
	// the decoded body, as tritonclient sends it.
	binBody, headerLen := oip.EncodeRequest(&oip.InferRequest{Inputs: []*oip.Tensor{
		oip.NewTensor("a", []int64{1, 3}, []float32{1, 2, 3}), oip.NewTensor("b", []int64{1, 3}, []float32{1, 1, 1}),
	}}, true)
	var zbin bytes.Buffer
	zw := gzip.NewWriter(&zbin)
	zw.Write(binBody)
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v2/models/multi/infer", &zbin)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set(oip.HeaderContentLength, strconv.Itoa(headerLen))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("gzip binary request: %v %v", resp.Status, err)
	}

	// 64 MiB of zeros in a ~64 KiB gzip body: refused when decoded past 1 MiB.
	var bomb bytes.Buffer
	zw = gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 64<<20))
	zw.Close()
	resp, data := post("gzip", bomb.Bytes(), "")
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("gzip bomb: status %d, %s", resp.StatusCode, data)
	}
	resp, data = post("br", body, "")
	if resp.StatusCode != 400 || !strings.Contains(string(data), "not supported") {
		t.Errorf("unknown encoding: status %d, %s", resp.StatusCode, data)
	}
	var e struct{ Error string }
	if resp, data = post("gzip", []byte("not gzip"), ""); resp.StatusCode != 400 || json.Unmarshal(data, &e) != nil || e.Error == "" {
		t.Errorf("corrupt gzip: status %d, %s", resp.StatusCode, data)
	}

	// A large answer comes back gzip-compressed when the client accepts it.
	rows := strings.TrimSuffix(strings.Repeat("1.5,", 3000), ",")
	big := []byte(`{"inputs":[{"name":"a","datatype":"FP32","shape":[1000,3],"data":[` + rows + `]},{"name":"b","datatype":"FP32","shape":[1000,3],"data":[` + rows + `]}]}`)
	resp, data = post("", big, "gzip, deflate")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("accept gzip: status %d, encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.Contains(string(plain), `"name":"sum"`) || len(plain) <= len(data) {
		t.Errorf("gzip answer: %d bytes decoded from %d", len(plain), len(data))
	}
}
