package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/auth"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
)

// TestNodesAPI reports heartbeats with a reader token, lists the fleet
// and the nodes serving a model, and sends bad heartbeats, which get a 4xx
// with a message.
func TestNodesAPI(t *testing.T) {
	reader := auth.NewToken()
	path := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(path, []byte(auth.HashToken(reader)+" reader node-7\n"), 0o600)
	tokens, err := auth.LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartRegistry(t, testenv.FolderStore(t, ""), storage.Options{}, server.Options{Tokens: tokens})
	client := srv.Client(reader)
	ctx := context.Background()
	hb := registry.Heartbeat{Node: "node-7", Address: "http://127.0.0.1:8000", Ready: true, Interval: 5, StartedAt: time.Now(),
		Models: []registry.NodeModel{{Model: "iris", Ref: "iris@production", Version: 3, RequestRate: 12.5, P99: 0.004}}}
	n, err := client.Heartbeat(ctx, hb)
	if err != nil || n.By != "node-7" || n.Health != "ready" || n.SeenAt.IsZero() {
		t.Fatalf("heartbeat: %+v, %v", n, err)
	}
	nodes, err := client.ListNodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].Model("iris").Version != 3 || nodes[0].Model("iris").RequestRate != 12.5 {
		t.Fatalf("nodes %+v, %v", nodes, err)
	}
	if served, err := client.ModelNodes(ctx, "iris"); err != nil || len(served) != 1 {
		t.Errorf("iris served by %+v, %v", served, err)
	}
	if served, err := client.ModelNodes(ctx, "churn"); err != nil || len(served) != 0 {
		t.Errorf("churn served by %+v, %v", served, err)
	}

	anonymous := registry.NewClient(srv.URL, "", nil)
	if _, err := anonymous.Heartbeat(ctx, hb); !errors.Is(err, registry.ErrUnauthorized) {
		t.Errorf("heartbeat without a token: %v", err)
	}
	for _, tc := range []struct{ name, path, body, msg string }{
		{"bad id", "/api/v1/nodes/-x", `{"address":"http://a:1"}`, "node id"},
		{"other node", "/api/v1/nodes/a", `{"node":"b","address":"http://a:1"}`, "not \"a\""},
		{"no address", "/api/v1/nodes/a", `{}`, "address"},
		{"address with a path", "/api/v1/nodes/a", `{"address":"http://a:1/v2/models/iris/infer"}`, "base URL"},
		{"file address", "/api/v1/nodes/a", `{"address":"file:///etc/passwd"}`, "base URL"},
		{"bad model", "/api/v1/nodes/a", `{"address":"http://a:1","models":[{"model":"Iris"}]}`, "model name"},
		{"bad ref", "/api/v1/nodes/a", `{"address":"http://a:1","models":[{"model":"iris","ref":"iris@@"}]}`, "alias"},
		{"not JSON", "/api/v1/nodes/a", `{`, "heartbeat body"},
		{"too large", "/api/v1/nodes/a", `{"address":"` + strings.Repeat("a", 2<<20) + `"}`, "heartbeat over"},
	} {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+reader)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg := readError(t, resp)
		if resp.StatusCode/100 != 4 || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %d %q, want a 4xx with %q", tc.name, resp.StatusCode, msg, tc.msg)
		}
	}
	resp, _ := http.Get(srv.URL + "/api/v1/nodes/nobody")
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("GET a node without a token: %d", resp.StatusCode)
	}
}

// readError reads an {"error": "..."} body and closes it.
func readError(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var e struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&e)
	return e.Error
}
