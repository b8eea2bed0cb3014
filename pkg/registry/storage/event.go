package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kilnml/kiln/pkg/registry"
)

// audit appends e to the model's event log, stamped now unless e.Time is
// set (an alias move carries the time of its swap, so that concurrent
// moves are logged in the order they happened, whichever is audited
// first). The change it records has already happened, so a failure here
// is logged rather than returned.
func (s *Service) audit(ctx context.Context, e registry.Event) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	// Zero-padded nanoseconds sort lexically in time order.
	e.ID = fmt.Sprintf("%020d-%s", e.Time.UnixNano(), hex.EncodeToString(rnd[:]))
	data, err := json.Marshal(e)
	if err == nil {
		_, err = s.store.Create(ctx, eventsDir(e.Model)+e.ID+".json", data)
	}
	if err != nil {
		s.log.Error("audit log write failed", "model", e.Model, "event", e.Type, "version", e.Version, "err", err)
	}
}

// ListEvents returns one page of a model's audit log, oldest first.
func (s *Service) ListEvents(ctx context.Context, name string, page registry.Page) (*registry.EventList, error) {
	if _, err := s.GetModel(ctx, name); err != nil {
		return nil, err
	}
	size := pageSize(page.Size)
	var ids []string
	err := s.store.Iter(ctx, eventsDir(name), func(key string) error {
		id, ok := strings.CutSuffix(strings.TrimPrefix(key, eventsDir(name)), ".json")
		if ok && id > page.Token {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &registry.EventList{Events: []registry.Event{}}
	for _, id := range ids {
		if len(out.Events) == size {
			out.NextPageToken = out.Events[size-1].ID
			break
		}
		var e registry.Event
		if _, err := s.readJSON(ctx, eventsDir(name)+id+".json", &e); err != nil {
			return nil, err
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}
