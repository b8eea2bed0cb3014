package registry

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
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

// Limits on what a heartbeat may hold, so that one node cannot grow the
// registry's memory without bound.
const (
	maxHeartbeatBytes = 1 << 20
	maxNodeModels     = 256
	// DefaultMaxNodes is how many nodes a Nodes tracks unless told otherwise.
	DefaultMaxNodes = 10000
)

var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// Nodes keeps the latest heartbeat of each serving node in memory: no
// storage write per heartbeat. A node that has not reported for its TTL
// (the larger of the configured TTL and three of its intervals) is
// forgotten.
type Nodes struct {
	ttl time.Duration
	max int
	now func() time.Time
	mu  sync.Mutex
	by  map[string]*Node
}

// NewNodes returns an empty fleet whose nodes expire after ttl without a
// heartbeat (default 30s).
func NewNodes(ttl time.Duration) *Nodes {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	return &Nodes{ttl: ttl, max: DefaultMaxNodes, now: time.Now, by: map[string]*Node{}}
}

// Report records hb as node id's latest heartbeat, reported by the token
// named by.
func (ns *Nodes) Report(id string, hb Heartbeat, by string) (Node, error) {
	if hb.Node == "" {
		hb.Node = id
	}
	if err := checkHeartbeat(id, &hb); err != nil {
		return Node{}, err
	}
	now := ns.now().UTC()
	n := &Node{Heartbeat: hb, By: by, SeenAt: now}
	n.Health = health(n, now, ns.ttl)
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if _, known := ns.by[id]; !known && len(ns.by) >= ns.max {
		ns.pruneLocked(now)
		if len(ns.by) >= ns.max {
			return Node{}, fmt.Errorf("%w: the registry already tracks %d nodes", ErrConflict, ns.max)
		}
	}
	ns.by[id] = n
	return *n, nil
}

func checkHeartbeat(id string, hb *Heartbeat) error {
	if !nodeIDPattern.MatchString(id) {
		return fmt.Errorf("%w: node id %q: want letters, digits, '.', '_', ':' or '-', at most 128", ErrInvalid, id)
	}
	if hb.Node != id {
		return fmt.Errorf("%w: the heartbeat is for node %q, not %q", ErrInvalid, hb.Node, id)
	}
	u, err := url.Parse(hb.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%w: address %q: want the node's base URL, e.g. http://10.0.0.7:8000", ErrInvalid, hb.Address)
	}
	hb.Address = strings.TrimSuffix(hb.Address, "/")
	if hb.Interval < 0 {
		return fmt.Errorf("%w: interval_seconds must not be negative", ErrInvalid)
	}
	if len(hb.Models) > maxNodeModels {
		return fmt.Errorf("%w: %d models: a heartbeat holds at most %d", ErrInvalid, len(hb.Models), maxNodeModels)
	}
	for _, m := range hb.Models {
		if err := ValidateName(m.Model); err != nil {
			return err
		}
		if m.Role != "" && m.Role != "canary" && m.Role != "shadow" {
			return fmt.Errorf("%w: model %s: role %q: want canary, shadow or none", ErrInvalid, m.Model, m.Role)
		}
		if m.Ref != "" {
			if _, err := ParseRef(m.Ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// health says how the node is doing as of now.
func health(n *Node, now time.Time, ttl time.Duration) string {
	overdue := 3 * n.Interval.Duration()
	if overdue <= 0 {
		overdue = ttl / 2
	}
	switch {
	case now.Sub(n.SeenAt) > overdue:
		return "stale"
	case !n.Ready:
		return "not ready"
	}
	for _, m := range n.Models {
		if m.LastError != "" {
			return "degraded"
		}
	}
	return "ready"
}

// expired reports whether n missed its reports for long enough to be forgotten.
func (ns *Nodes) expired(n *Node, now time.Time) bool {
	return now.Sub(n.SeenAt) > max(ns.ttl, 3*n.Interval.Duration())
}

func (ns *Nodes) pruneLocked(now time.Time) {
	for id, n := range ns.by {
		if ns.expired(n, now) {
			delete(ns.by, id)
		}
	}
}

// List returns the nodes that reported recently, by id, with their health
// as of now.
func (ns *Nodes) List() []Node {
	now := ns.now().UTC()
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ns.pruneLocked(now)
	out := make([]Node, 0, len(ns.by))
	for _, n := range ns.by {
		c := *n
		c.Health = health(&c, now, ns.ttl)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Node) int { return strings.Compare(a.Node, b.Node) })
	return out
}

// Get returns one node, if it reported recently.
func (ns *Nodes) Get(id string) (Node, bool) {
	for _, n := range ns.List() {
		if n.Node == id {
			return n, true
		}
	}
	return Node{}, false
}

// ServedBy returns the nodes that serve model, each with only that
// model's entries (its primary, and its canary or shadow if any).
func (ns *Nodes) ServedBy(model string) []Node {
	out := []Node{}
	for _, n := range ns.List() {
		var mine []NodeModel
		for _, m := range n.Models {
			if m.Model == model {
				mine = append(mine, m)
			}
		}
		if len(mine) > 0 {
			n.Models = mine
			out = append(out, n)
		}
	}
	return out
}
