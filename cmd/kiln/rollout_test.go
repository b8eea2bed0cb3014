package main

import (
	"context"
	"strings"
	"testing"

	"github.com/kilnml/kiln/pkg/registry"
)

// TestCanaryAndRolloutStatus sets a canary with kiln alias set --canary,
// reads it back with kiln rollout status, and sees a node's stop report there.
func TestCanaryAndRolloutStatus(t *testing.T) {
	reg, _ := startRegistry(t)
	for seed := 1; seed <= 2; seed++ {
		if code, _, stderr := kiln(t, reg, "push", "iris", writeModel(t, t.TempDir(), float32(seed))); code != 0 {
			t.Fatalf("push: %s", stderr)
		}
	}
	kiln(t, reg, "alias", "set", "iris", "production", "1")
	code, out, stderr := kiln(t, reg, "alias", "set", "iris", "production", "2", "--canary", "10")
	for _, want := range []string{"iris@candidate -> 2", "canary: {ref: iris@candidate, percent: 10}", "kiln alias set iris production 2", "kiln alias rm iris candidate", "kiln rollout status iris"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("--canary: exit %d, output lacks %q:\n%s%s", code, want, out, stderr)
		}
	}
	if code, _, stderr = kiln(t, reg, "alias", "set", "iris", "production", "2", "--canary", "150"); code != 2 || !strings.Contains(stderr, "--canary") {
		t.Errorf("--canary 150: exit %d, %q", code, stderr)
	}
	code, out, _ = kiln(t, reg, "rollout", "status", "iris")
	if code != 0 || !strings.Contains(out, "candidate") || !strings.Contains(out, "production") || !strings.Contains(out, "No node has stopped") {
		t.Errorf("rollout status: exit %d:\n%s", code, out)
	}
	client := registry.NewClient(reg, "", nil)
	if err := client.ReportRolloutStop(context.Background(), "iris", registry.RolloutReport{Role: "canary", Version: 2, Node: "node-a 10.0.0.7:8000", Reason: "canary error rate: 3 of the last 60 requests failed (more than 1%)"}); err != nil {
		t.Fatal(err)
	}
	code, out, _ = kiln(t, reg, "rollout", "status", "iris")
	if code != 0 || !strings.Contains(out, "node-a 10.0.0.7:8000") || !strings.Contains(out, "canary error rate") {
		t.Errorf("rollout status after a stop: exit %d:\n%s", code, out)
	}
	if code, out, _ = kiln(t, reg, "events", "iris"); code != 0 || !strings.Contains(out, "rollout.stopped") || !strings.Contains(out, "canary stopped on node-a") {
		t.Errorf("events: %s", out)
	}
	// A node's heartbeat: its primary and its canary of iris.
	hb := registry.Heartbeat{Node: "node-a", Address: "http://10.0.0.7:8000", Ready: true, Interval: 5, Models: []registry.NodeModel{
		{Model: "iris", Ref: "iris@production", Version: 1, RequestRate: 90},
		{Model: "iris", Role: "canary", Ref: "iris@candidate", Version: 2, RequestRate: 10},
	}}
	if _, err := client.Heartbeat(context.Background(), hb); err != nil {
		t.Fatal(err)
	}
	code, out, _ = kiln(t, reg, "rollout", "status", "iris")
	if code != 0 || !strings.Contains(out, "Served now") || !strings.Contains(out, "iris@candidate") || !strings.Contains(out, "canary") || !strings.Contains(out, "90.0") {
		t.Errorf("rollout status with a node: exit %d:\n%s", code, out)
	}
	if err := client.ReportRolloutStop(context.Background(), "iris", registry.RolloutReport{Role: "primary", Reason: "x"}); err == nil {
		t.Error("a report for role primary was taken")
	}
}
