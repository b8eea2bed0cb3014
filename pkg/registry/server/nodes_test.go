package server

import (
	"testing"
	"time"

	"github.com/kilnml/kiln/pkg/registry"
)

// TestNodesExpire checks the health words and that a node is forgotten
// after the larger of the TTL and three of its intervals.
func TestNodesExpire(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ns := NewNodes(30 * time.Second)
	ns.now = func() time.Time { return now }
	hb := registry.Heartbeat{Address: "http://10.0.0.7:8000/", Ready: true, Interval: 5, Models: []registry.NodeModel{{Model: "iris", Ref: "iris@production", Version: 1}}}
	n, err := ns.Report("a", hb, "node")
	if err != nil || n.Node != "a" || n.Address != "http://10.0.0.7:8000" || n.Health != "ready" {
		t.Fatalf("report: %+v, %v", n, err)
	}
	slow := hb
	slow.Interval = 60
	slow.Models = append([]registry.NodeModel{}, hb.Models...)
	slow.Models[0].LastError = "download failed"
	if _, err := ns.Report("b", slow, "node"); err != nil {
		t.Fatal(err)
	}
	if got := ns.List(); len(got) != 2 || got[1].Health != "degraded" {
		t.Fatalf("list %+v", got)
	}
	now = now.Add(20 * time.Second)
	if a, _ := ns.Get("a"); a.Health != "stale" {
		t.Errorf("a after 20s (interval 5s): health %q, want stale", a.Health)
	}
	now = now.Add(11 * time.Second)
	if _, ok := ns.Get("a"); ok {
		t.Error("a is still listed after its 30s TTL")
	}
	if _, ok := ns.Get("b"); !ok {
		t.Error("b (interval 60s) was forgotten before three of its intervals")
	}
	if got := ns.ServedBy("iris"); len(got) != 1 || got[0].Node != "b" {
		t.Errorf("served by %+v", got)
	}
	now = now.Add(150 * time.Second)
	if len(ns.List()) != 0 {
		t.Error("b is listed after three of its intervals")
	}

	ns.max = 1
	ns.Report("c", hb, "node")
	if _, err := ns.Report("d", hb, "node"); registry.StatusOf(err) != 409 {
		t.Errorf("a node past the limit: %v", err)
	}
	if _, err := ns.Report("c", hb, "node"); err != nil {
		t.Errorf("a known node past the limit: %v", err)
	}
}
