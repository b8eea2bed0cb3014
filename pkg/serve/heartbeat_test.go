package serve_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/serve"
)

// TestHeartbeat follows adder@production, sends requests (one of them bad)
// and checks what the heartbeat says: the model, its ref and version, the
// request and error rates between two heartbeats, a p99; then the reporter
// runs against the real registry, which lists the node, and after the
// alias moves the node reports the new version and the swap.
func TestHeartbeat(t *testing.T) {
	_, client := startRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pushAdder(t, client, "adder", 1, goodExample)
	if _, err := client.SetAlias(ctx, "adder", "production", 1, nil); err != nil {
		t.Fatal(err)
	}
	models, srv := follow(t, ctx, client, t.TempDir())
	waitVersion(t, models, 1)

	r := serve.NewReporter(client, models, serve.HeartbeatOptions{
		Node: "node-a", Address: srv.URL, Interval: 50 * time.Millisecond, Build: "test", Logger: slog.New(slog.DiscardHandler),
	})
	t0 := time.Now()
	first := r.Heartbeat(t0)
	if len(first.Models) != 1 || first.Models[0].RequestRate != 0 {
		t.Fatalf("first heartbeat %+v", first)
	}
	oc := oip.NewClient(srv.URL)
	req := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, 2}, []float32{0, 0})}}
	for range 49 {
		if _, err := oc.Infer(ctx, "adder", "", req, false); err != nil {
			t.Fatal(err)
		}
	}
	bad, err := http.Post(srv.URL+"/v2/models/adder/infer", "application/json", strings.NewReader(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	bad.Body.Close()
	hb := r.Heartbeat(t0.Add(10 * time.Second))
	m := hb.Models[0]
	if hb.Node != "node-a" || hb.Address != srv.URL || !hb.Ready || m.Model != "adder" || m.Ref != "adder@production" || m.Version != 1 || m.Digest == "" || m.LoadedAt.IsZero() {
		t.Errorf("heartbeat %+v, model %+v", hb, m)
	}
	if m.RequestRate != 5 || m.ErrorRate != 0.1 {
		t.Errorf("rates %v req/s, %v errors/s; want 5 and 0.1 (50 requests, 1 bad, in 10s)", m.RequestRate, m.ErrorRate)
	}
	if m.P99 <= 0 || m.P99 > 1 {
		t.Errorf("p99 %vs", m.P99)
	}
	if m.LastReport == nil || m.LastReport.Version != 1 || !m.LastReport.Passed {
		t.Errorf("last gate report %+v", m.LastReport)
	}

	go r.Run(ctx)
	node := waitNode(t, client, func(n registry.Node) bool { return n.Model("adder") != nil && n.Model("adder").Version == 1 })
	if node.Health != "ready" || node.By != "anonymous" || node.Build != "test" {
		t.Errorf("node as the registry keeps it: %+v", node)
	}
	pushAdder(t, client, "adder", 2, goodExample)
	if _, err := client.SetAlias(ctx, "adder", "production", 2, nil); err != nil {
		t.Fatal(err)
	}
	node = waitNode(t, client, func(n registry.Node) bool { return n.Model("adder").Version == 2 })
	if s := node.Model("adder").LastSwap; s == nil || s.From != 1 || s.To != 2 || s.Load <= 0 || s.Total() <= 0 {
		t.Errorf("last swap %+v", s)
	}
	served, err := client.ModelNodes(ctx, "adder")
	if err != nil || len(served) != 1 || served[0].Node != "node-a" {
		t.Errorf("served by %+v, %v", served, err)
	}
}

// waitNode polls the registry's node list until node-a satisfies ok.
func waitNode(t *testing.T, client *registry.Client, ok func(registry.Node) bool) registry.Node {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last []registry.Node
	for time.Now().Before(deadline) {
		nodes, err := client.ListNodes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		last = nodes
		if len(nodes) == 1 && nodes[0].Node == "node-a" && ok(nodes[0]) {
			return nodes[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("node-a never reported as expected; nodes %+v", last)
	return registry.Node{}
}
