package server

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kilnml/kiln/pkg/registry"
)

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
	by  map[string]*registry.Node
}

// NewNodes returns an empty fleet whose nodes expire after ttl without a
// heartbeat (default 30s).
func NewNodes(ttl time.Duration) *Nodes {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	return &Nodes{ttl: ttl, max: DefaultMaxNodes, now: time.Now, by: map[string]*registry.Node{}}
}

// Report records hb as node id's latest heartbeat, reported by the token
// named by.
func (ns *Nodes) Report(id string, hb registry.Heartbeat, by string) (registry.Node, error) {
	if hb.Node == "" {
		hb.Node = id
	}
	if err := checkHeartbeat(id, &hb); err != nil {
		return registry.Node{}, err
	}
	now := ns.now().UTC()
	n := &registry.Node{Heartbeat: hb, By: by, SeenAt: now}
	n.Health = health(n, now, ns.ttl)
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if _, known := ns.by[id]; !known && len(ns.by) >= ns.max {
		ns.pruneLocked(now)
		if len(ns.by) >= ns.max {
			return registry.Node{}, fmt.Errorf("%w: the registry already tracks %d nodes", registry.ErrConflict, ns.max)
		}
	}
	ns.by[id] = n
	return *n, nil
}

func checkHeartbeat(id string, hb *registry.Heartbeat) error {
	if !nodeIDPattern.MatchString(id) {
		return fmt.Errorf("%w: node id %q: want letters, digits, '.', '_', ':' or '-', at most 128", registry.ErrInvalid, id)
	}
	if hb.Node != id {
		return fmt.Errorf("%w: the heartbeat is for node %q, not %q", registry.ErrInvalid, hb.Node, id)
	}
	u, err := url.Parse(hb.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%w: address %q: want the node's base URL, e.g. http://10.0.0.7:8000", registry.ErrInvalid, hb.Address)
	}
	hb.Address = strings.TrimSuffix(hb.Address, "/")
	if hb.Interval < 0 {
		return fmt.Errorf("%w: interval_seconds must not be negative", registry.ErrInvalid)
	}
	if len(hb.Models) > maxNodeModels {
		return fmt.Errorf("%w: %d models: a heartbeat holds at most %d", registry.ErrInvalid, len(hb.Models), maxNodeModels)
	}
	for _, m := range hb.Models {
		if err := registry.ValidateName(m.Model); err != nil {
			return err
		}
		if m.Role != "" && m.Role != "canary" && m.Role != "shadow" {
			return fmt.Errorf("%w: model %s: role %q: want canary, shadow or none", registry.ErrInvalid, m.Model, m.Role)
		}
		if m.Ref != "" {
			if _, err := registry.ParseRef(m.Ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// health says how the node is doing as of now.
func health(n *registry.Node, now time.Time, ttl time.Duration) string {
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
func (ns *Nodes) expired(n *registry.Node, now time.Time) bool {
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
func (ns *Nodes) List() []registry.Node {
	now := ns.now().UTC()
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ns.pruneLocked(now)
	out := make([]registry.Node, 0, len(ns.by))
	for _, n := range ns.by {
		c := *n
		c.Health = health(&c, now, ns.ttl)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b registry.Node) int { return strings.Compare(a.Node, b.Node) })
	return out
}

// Get returns one node, if it reported recently.
func (ns *Nodes) Get(id string) (registry.Node, bool) {
	for _, n := range ns.List() {
		if n.Node == id {
			return n, true
		}
	}
	return registry.Node{}, false
}

// ServedBy returns the nodes that serve model, each with only that
// model's entries (its primary, and its canary or shadow if any).
func (ns *Nodes) ServedBy(model string) []registry.Node {
	out := []registry.Node{}
	for _, n := range ns.List() {
		var mine []registry.NodeModel
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
