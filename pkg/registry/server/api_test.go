package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/auth"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// pushBody builds a multipart push body by hand, so tests can send what
// the client never would.
func pushBody(t *testing.T, meta string, model []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField(registry.PartMeta, meta)
	w, _ := mw.CreateFormFile(registry.PartModel, "model.onnx")
	w.Write(model)
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func rawPush(t *testing.T, base, path, meta string, model []byte) (int, string) {
	t.Helper()
	body, ct := pushBody(t, meta, model)
	resp, err := http.Post(base+path, ct, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error
}

func TestBadInputLeavesNothing(t *testing.T) {
	t.Run("fs", func(t *testing.T) { testBadInput(t, testenv.FolderStore(t, ""), nil) })
	t.Run("s3", func(t *testing.T) {
		env := testenv.NewS3(t)
		s := env.RegistryStore(t)
		testBadInput(t, s, env)
	})
}

func testBadInput(t *testing.T, store storage.Store, env *testenv.S3) {
	srv := testenv.StartRegistry(t, store, storage.Options{MaxModelBytes: 4 << 10}, server.Options{})
	client := srv.Client("")
	model := testenv.ModelBytes(t, testenv.AdderModel(t, 1))
	meta := fmt.Sprintf(`{"digest":%q}`, registry.Digest(model))
	notONNX := []byte("this is a CSV file,1,2,3\n")
	big := append(testenv.ModelBytes(t, testenv.AdderModel(t, 2)), bytes.Repeat([]byte{0}, 8<<10)...)

	for _, tc := range []struct {
		name, path, meta string
		model            []byte
		status           int
		msg              string
	}{
		{"upper-case name", "/api/v1/models/Bad/versions", meta, model, 400, "model name"},
		{"dot-dot name", "/api/v1/models/../versions", meta, model, 400, "model name"},
		{"encoded dot-dot", "/api/v1/models/%2e%2e/versions", meta, model, 400, "model name"},
		{"encoded slash traversal", "/api/v1/models/..%2f..%2fetc/versions", meta, model, 404, "no such endpoint"},
		{"backslash", "/api/v1/models/a%5Cb/versions", meta, model, 400, "model name"},
		{"absolute path", "/api/v1/models/%2Fetc%2Fpasswd/versions", meta, model, 404, "no such endpoint"},
		{"not onnx", "/api/v1/models/ok/versions", fmt.Sprintf(`{"digest":%q}`, registry.Digest(notONNX)), notONNX, 400, "not an ONNX model"},
		{"digest mismatch", "/api/v1/models/ok/versions", fmt.Sprintf(`{"digest":%q}`, registry.Digest(notONNX)), model, 400, "digest mismatch"},
		{"bad digest", "/api/v1/models/ok/versions", `{"digest":"md5:abc"}`, model, 400, "digest"},
		{"unknown meta field", "/api/v1/models/ok/versions", `{"digest":"x","metricz":{}}`, model, 400, "unknown field"},
		{"over the limit", "/api/v1/models/ok/versions", fmt.Sprintf(`{"digest":%q}`, registry.Digest(big)), big, 413, "limit"},
		{"input example that is not OIP", "/api/v1/models/ok/versions", fmt.Sprintf(`{"digest":%q,"input_example":{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1]}]}}`, registry.Digest(model)), model, 400, "not an OIP inference request"},
		{"input example for another model", "/api/v1/models/ok/versions", fmt.Sprintf(`{"digest":%q,"input_example":{"inputs":[{"name":"z","datatype":"FP32","shape":[1],"data":[1]}]}}`, registry.Digest(model)), model, 400, `input "z"`},
	} {
		status, msg := rawPush(t, srv.URL, tc.path, tc.meta, tc.model)
		if status != tc.status || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %d %q, want %d with %q", tc.name, status, msg, tc.status, tc.msg)
		}
	}

	// An upload cut off midway: the client stops sending and half-closes.
	body, ct := pushBody(t, meta, model)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/models/ok/versions HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, body.Len())
	conn.Write(body.Bytes()[:body.Len()-60])
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("cut-off upload: status %d, want 400", resp.StatusCode)
	}

	// Invalid names and refs never reach the server through the client.
	ctx := context.Background()
	if _, err := client.Resolve(ctx, registry.Ref{Name: "../etc"}); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("client resolve ../etc: %v", err)
	}
	for _, ref := range []string{"a@../b", "a", "a@0", `a@b\c`, "A@1", "a@-x"} {
		if _, err := registry.ParseRef(ref); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("ParseRef(%q): %v, want ErrInvalid", ref, err)
		}
	}

	if keys := listAll(t, store); len(keys) != 0 {
		t.Errorf("storage after bad requests holds %v, want nothing", keys)
	}
	if env != nil {
		s3c, _ := env.Client()
		for u := range s3c.ListIncompleteUploads(ctx, env.Bucket, "", true) {
			t.Errorf("unfinished multipart upload left behind: %+v", u)
		}
	}
}

func TestAuthRoles(t *testing.T) {
	tokens := map[string]string{"reader": auth.NewToken(), "writer": auth.NewToken(), "admin": auth.NewToken()}
	var file strings.Builder
	for role, tok := range tokens {
		fmt.Fprintf(&file, "%s %s ci-%s\n", auth.HashToken(tok), role, role)
	}
	path := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(path, []byte(file.String()), 0o600)
	if strings.Contains(file.String(), tokens["admin"]) {
		t.Fatal("the tokens file holds a token in clear")
	}
	parsed, err := auth.LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartRegistry(t, testenv.FolderStore(t, ""), storage.Options{}, server.Options{Tokens: parsed})
	writer := srv.Client(tokens["writer"])
	ctx := context.Background()
	anon := registry.NewClient(srv.URL, "", nil)
	reader := registry.NewClient(srv.URL, tokens["reader"], nil)
	admin := registry.NewClient(srv.URL, tokens["admin"], nil)
	stranger := registry.NewClient(srv.URL, "kiln_not-a-real-token", nil)
	model := testenv.ModelBytes(t, testenv.AdderModel(t, 1))
	req := registry.PushRequest{Digest: registry.Digest(model)}

	if _, err := anon.ListModels(ctx, registry.Page{}); !errors.Is(err, registry.ErrUnauthorized) {
		t.Errorf("no token: %v, want 401", err)
	}
	if _, err := stranger.ListModels(ctx, registry.Page{}); !errors.Is(err, registry.ErrUnauthorized) {
		t.Errorf("unknown token: %v, want 401", err)
	}
	if _, err := reader.Push(ctx, "m", req, bytes.NewReader(model), nil); !errors.Is(err, registry.ErrForbidden) {
		t.Errorf("reader push: %v, want 403", err)
	}
	v, err := writer.Push(ctx, "m", req, bytes.NewReader(model), nil)
	if err != nil || v.Lineage.CreatedBy != "ci-writer" {
		t.Fatalf("writer push: %+v, %v", v, err)
	}
	if _, err := reader.Resolve(ctx, v.Ref()); err != nil {
		t.Errorf("reader show: %v", err)
	}
	if err := writer.DeleteVersion(ctx, "m", 1); !errors.Is(err, registry.ErrForbidden) {
		t.Errorf("writer delete: %v, want 403", err)
	}
	if err := admin.DeleteVersion(ctx, "m", 1); err != nil {
		t.Errorf("admin delete: %v", err)
	}
	// Health and metrics stay open.
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", p, resp.Status, err)
		}
		resp.Body.Close()
	}
}

func TestDownloadRangeETagAndRedirect(t *testing.T) {
	env := testenv.NewS3(t)
	store := env.RegistryStore(t)
	srv := testenv.StartRegistry(t, store, storage.Options{}, server.Options{RedirectDownloads: true})
	client := srv.Client("")
	metrics := prometheus.NewRegistry()
	direct := testenv.StartRegistry(t, objstore.WrapWithMetrics(store, metrics, "test_storage"), storage.Options{}, server.Options{})
	// gets counts the downloads the direct registry opened in storage.
	gets := func() uint64 {
		families, err := metrics.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				if f.GetName() == "test_storage_operation_duration_seconds" && m.GetLabel()[0].GetValue() == "get_range" {
					return m.GetHistogram().GetSampleCount()
				}
			}
		}
		return 0
	}
	ctx := context.Background()
	model := testenv.ModelBytes(t, testenv.AdderModel(t, 3))
	if _, err := client.Push(ctx, "r", registry.PushRequest{Digest: registry.Digest(model)}, bytes.NewReader(model), nil); err != nil {
		t.Fatal(err)
	}
	url := direct.URL + "/api/v1/models/r/versions/1/model"
	get := func(hdr map[string]string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", url, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	resp, body := get(nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || !bytes.Equal(body, model) || etag != `"`+registry.Digest(model)+`"` {
		t.Fatalf("full download: %d, etag %s", resp.StatusCode, etag)
	}
	resp, body = get(map[string]string{"Range": "bytes=10-19"})
	if resp.StatusCode != 206 || !bytes.Equal(body, model[10:20]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", len(model)) {
		t.Fatalf("range: %d %q %s", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	resp, body = get(map[string]string{"Range": "bytes=-5"})
	if resp.StatusCode != 206 || !bytes.Equal(body, model[len(model)-5:]) {
		t.Fatalf("suffix range: %d %q", resp.StatusCode, body)
	}
	resp, body = get(map[string]string{"Range": "bytes=100000-"})
	var apiErr struct{ Error string }
	if resp.StatusCode != 416 || json.Unmarshal(body, &apiErr) != nil || apiErr.Error == "" || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(model)) {
		t.Fatalf("unsatisfiable range: %d %s, Content-Range %s", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	resp, body = get(map[string]string{"Range": "bytes=0-1,5-6"})
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.StatusCode != 206 || mt != "multipart/byteranges" || !bytes.Contains(body, model[5:7]) {
		t.Fatalf("two ranges: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, body = get(map[string]string{"Range": "bytes=10-19", "If-Range": `"sha256:other"`}); resp.StatusCode != 200 || !bytes.Equal(body, model) {
		t.Fatalf("If-Range with another ETag: %d, want the whole blob", resp.StatusCode)
	}
	opened := gets()
	if head, err := http.Head(url); err != nil || head.StatusCode != 200 || head.ContentLength != int64(len(model)) {
		t.Fatalf("HEAD: %v %v", head, err)
	}
	if resp, _ = get(map[string]string{"If-None-Match": etag}); resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	if n := gets(); n != opened {
		t.Errorf("a HEAD and a 304 opened %d downloads in storage, want none", n-opened)
	}

	// With redirects on, the registry hands out a presigned URL; the client follows it.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(srv.URL + "/api/v1/models/r/versions/1/model")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 307 || !strings.HasPrefix(loc, env.Endpoint) || !strings.Contains(loc, "X-Amz-Signature") {
		t.Fatalf("redirect: %d to %s", resp.StatusCode, loc)
	}
	var buf bytes.Buffer
	if _, err := client.Download(ctx, registry.Ref{Name: "r", Version: 1}, &buf); err != nil || !bytes.Equal(buf.Bytes(), model) {
		t.Fatalf("download through redirect: %v", err)
	}
}

func TestPullDetectsCorruptBlob(t *testing.T) {
	dir := t.TempDir()
	store, err := storage.NewFSStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	client := testenv.StartRegistry(t, store, storage.Options{}, server.Options{}).Client("")
	ctx := context.Background()
	model := testenv.ModelBytes(t, testenv.AdderModel(t, 4))
	v, err := client.Push(ctx, "c", registry.PushRequest{Digest: registry.Digest(model)}, bytes.NewReader(model), nil)
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(v.Digest, "sha256:"))
	corrupt := bytes.Clone(model)
	corrupt[len(corrupt)-1] ^= 0xff
	if err := os.WriteFile(blob, corrupt, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Download(ctx, v.Ref(), io.Discard); !errors.Is(err, registry.ErrDigestMismatch) {
		t.Fatalf("download of a corrupt blob: %v, want ErrDigestMismatch", err)
	}
}

func TestReplicasShareOneBucket(t *testing.T) {
	env := testenv.NewS3(t)
	open := func() storage.Store { return env.RegistryStore(t) }
	ctx := context.Background()
	a := testenv.StartRegistry(t, open(), storage.Options{}, server.Options{}).Client("")
	b := testenv.StartRegistry(t, open(), storage.Options{}, server.Options{}).Client("")
	m1, m2 := testenv.ModelBytes(t, testenv.AdderModel(t, 1)), testenv.ModelBytes(t, testenv.AdderModel(t, 2))
	if _, err := a.Push(ctx, "shared", registry.PushRequest{Digest: registry.Digest(m1)}, bytes.NewReader(m1), nil); err != nil {
		t.Fatal(err)
	}
	v, err := b.Push(ctx, "shared", registry.PushRequest{Digest: registry.Digest(m2)}, bytes.NewReader(m2), nil)
	if err != nil || v.Version != 2 {
		t.Fatalf("push on the second replica: %+v, %v", v, err)
	}
	if _, err := b.SetAlias(ctx, "shared", "prod", 2, nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if got, err := a.Download(ctx, registry.Ref{Name: "shared", Alias: "prod"}, &buf); err != nil || got.Version != 2 || !bytes.Equal(buf.Bytes(), m2) {
		t.Fatalf("first replica pulls shared@prod: %+v, %v", got, err)
	}
	// A replica started afterwards (a restart) sees the same state.
	c := testenv.StartRegistry(t, open(), storage.Options{}, server.Options{}).Client("")
	list, err := c.ListVersions(ctx, "shared", registry.Page{})
	if err != nil || len(list.Versions) != 2 {
		t.Fatalf("restarted replica lists %+v, %v", list, err)
	}
	buf.Reset()
	if _, err := c.Download(ctx, registry.Ref{Name: "shared", Version: 1}, &buf); err != nil || !bytes.Equal(buf.Bytes(), m1) {
		t.Fatalf("restarted replica pulls shared@1: %v", err)
	}
}
