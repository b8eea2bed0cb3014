package serve

import (
	"github.com/kilnml/kiln/pkg/registry"
	"slices"
	"strings"
	"time"
)

// ModelStatus is what GET /v2/models/{m}/status reports about a model.
type ModelStatus struct {
	Model string `json:"model"`
	// Ref is the registry reference followed (name@alias or name@N), or "" for local files.
	Ref string `json:"ref,omitempty"`
	// Source is the local file, for models not served from a registry.
	Source   string    `json:"source,omitempty"`
	Version  int64     `json:"version,omitempty"`
	Digest   string    `json:"digest,omitempty"`
	LoadedAt time.Time `json:"loaded_at,omitzero"`
	// LastReport is the validation report of the last version this node tried.
	LastReport any `json:"last_report,omitempty"`
	// LastError says why the last attempt to change versions failed; it is
	// cleared by the next success.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// LastSwap times the steps of the last version change.
	LastSwap *SwapTimings `json:"last_swap,omitempty"`
}

// SwapTimings split the time from noticing a new version to serving it;
// the heartbeats carry the same type to the registry.
type SwapTimings = registry.SwapTimings

// SetStatus changes a model's status under the manager's lock.
func (m *Manager) SetStatus(name string, change func(*ModelStatus)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.changeStatus(name, change)
}

// changeStatus changes a model's status; the caller holds the lock.
func (m *Manager) changeStatus(name string, change func(*ModelStatus)) {
	s := m.status[name]
	if s == nil {
		s = &ModelStatus{Model: name}
		m.status[name] = s
	}
	change(s)
}

// Status returns a copy of a model's status.
func (m *Manager) Status(name string) (ModelStatus, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := m.status[name]
	if s == nil {
		return ModelStatus{}, false
	}
	return *s, true
}

// statuses returns a copy of every model's status, by model name.
func (m *Manager) statuses() []ModelStatus {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]ModelStatus, 0, len(m.status))
	for _, s := range m.status {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b ModelStatus) int { return strings.Compare(a.Model, b.Model) })
	return out
}
