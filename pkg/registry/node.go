package registry

import (
	"time"

	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/validate"
)

// Heartbeat is what a serving node reports about itself every few seconds
// (PUT /api/v1/nodes/{node}).
type Heartbeat struct {
	// Node identifies the node; it must match the path.
	Node string `json:"node"`
	// Address is the base URL of the node's REST API, e.g. "http://10.0.0.7:8000".
	Address string `json:"address"`
	// Build is the kiln-serve version.
	Build string `json:"build,omitempty"`
	// Ready is the node's readiness (/v2/health/ready).
	Ready bool `json:"ready"`
	// Interval is how often the node reports; the registry forgets a node
	// that missed three reports (and at least its TTL).
	Interval Seconds `json:"interval_seconds"`
	// StartedAt is when the node process started.
	StartedAt time.Time   `json:"started_at,omitzero"`
	Models    []NodeModel `json:"models"`
}

// NodeModel is one model as a node serves it.
type NodeModel struct {
	Model string `json:"model"`
	// Role is the part this version plays in the model's rollout on the
	// node: empty for the primary, "canary" or "shadow".
	Role string `json:"role,omitempty"`
	// Ref is the registry reference the node follows (name@alias or
	// name@N); empty for a model served from a local file.
	Ref string `json:"ref,omitempty"`
	// Version is the version served (0: none yet).
	Version  int       `json:"version,omitempty"`
	Digest   string    `json:"digest,omitempty"`
	LoadedAt time.Time `json:"loaded_at,omitzero"`
	// LastSwap times the steps of the node's last version change.
	LastSwap *SwapTimings `json:"last_swap,omitempty"`
	// LastReport is the gate report of the last version the node checked.
	LastReport *validate.Report `json:"last_report,omitempty"`
	// LastError says why the node's last attempt to change versions failed.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Drift is the served version's drift monitoring (nil: none).
	Drift *NodeDrift `json:"drift,omitempty"`
	// RequestRate, ErrorRate (requests per second) and P99 (seconds) are
	// measured over the last minute.
	RequestRate float64 `json:"requests_per_second"`
	ErrorRate   float64 `json:"errors_per_second"`
	P99         float64 `json:"p99_seconds"`
}

// SwapTimings split a node's last version change into its steps
// (durations in nanoseconds); kiln-serve's model status uses the same type.
type SwapTimings struct {
	From      int           `json:"from_version"`
	To        int           `json:"to_version"`
	NoticedAt time.Time     `json:"noticed_at"`
	Detect    time.Duration `json:"detect_ns"`
	Download  time.Duration `json:"download_ns"`
	Load      time.Duration `json:"load_ns"`
	Validate  time.Duration `json:"validate_ns"`
	Warmup    time.Duration `json:"warmup_ns"`
	Swap      time.Duration `json:"swap_ns"`
	ServingAt time.Time     `json:"serving_at"`
}

// Total is the time from noticing the version to serving it.
func (t SwapTimings) Total() time.Duration { return t.ServingAt.Sub(t.NoticedAt) }

// NodeDrift is a node's drift monitoring of one model version.
type NodeDrift struct {
	// WindowRows is the number of rows in the open window.
	WindowRows int `json:"window_rows"`
	// DroppedRows counts rows not monitored because the queue was full.
	DroppedRows int64 `json:"dropped_rows"`
	// Report is the latest closed window's report (nil before the first).
	Report *drift.Report `json:"report,omitempty"`
}

// Seconds is a duration that travels as a number of seconds.
type Seconds float64

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// Node is the latest heartbeat of a serving node, as the registry keeps it.
type Node struct {
	Heartbeat
	// By names the token that reported it ("anonymous" without auth).
	By string `json:"by,omitempty"`
	// SeenAt is when the registry received the heartbeat.
	SeenAt time.Time `json:"seen_at"`
	// Health is "ready", "not ready" (the node says so), "degraded" (a
	// model's last update failed) or "stale" (a report is overdue).
	Health string `json:"health"`
}

// Model returns the node's entry for model's primary version, or nil.
func (n *Node) Model(model string) *NodeModel {
	for i := range n.Models {
		if n.Models[i].Model == model && n.Models[i].Role == "" {
			return &n.Models[i]
		}
	}
	return nil
}

// NodeList is the fleet of serving nodes that reported recently.
type NodeList struct {
	Nodes []Node `json:"nodes"`
}
