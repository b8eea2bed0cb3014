package storage

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/kilnml/kiln/pkg/registry"
)

// MaxWatch is the longest a watch of an alias may wait.
const MaxWatch = time.Minute

// storeRecheck is how often a watch reads the store again, for moves made
// by other registry replicas (moves made by this one wake it at once).
const storeRecheck = time.Second

// notifier wakes the watchers of a key when this process changes it.
type notifier struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
}

// changed returns a channel that is closed at the next change of key.
func (n *notifier) changed(key string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.waiting == nil {
		n.waiting = map[string]chan struct{}{}
	}
	ch := n.waiting[key]
	if ch == nil {
		ch = make(chan struct{})
		n.waiting[key] = ch
	}
	return ch
}

// notify wakes the watchers of key.
func (n *notifier) notify(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ch := n.waiting[key]; ch != nil {
		close(ch)
		delete(n.waiting, key)
	}
}

// WatchAlias waits up to wait for alias to have another ETag than etag and
// returns it then (changed true); when the wait ends first it returns
// changed false. An alias that does not exist is ErrNotFound.
func (s *Service) WatchAlias(ctx context.Context, name, alias, etag string, wait time.Duration) (a *registry.Alias, newETag string, changed bool, err error) {
	etag = strings.Trim(etag, `"`)
	deadline := time.Now().Add(min(wait, MaxWatch))
	key := aliasKey(name, alias)
	for {
		moved := s.changes.changed(key) // before reading, so that no move is missed
		a, cur, err := s.GetAlias(ctx, name, alias)
		if err != nil {
			return nil, "", false, err
		}
		if cur != etag {
			return a, cur, true, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, etag, false, nil
		}
		select {
		case <-moved:
		case <-time.After(min(left, storeRecheck)):
		case <-ctx.Done():
			return nil, "", false, ctx.Err()
		}
	}
}
