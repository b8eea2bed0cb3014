package storage

import (
	"context"
	"slices"
	"strings"

	"github.com/kilnml/kiln/pkg/registry"
)

// LatestEvents returns up to n of a model's newest events, newest first.
func (s *Service) LatestEvents(ctx context.Context, name string, n int) ([]registry.Event, error) {
	if _, _, err := s.readModel(ctx, name); err != nil {
		return nil, err
	}
	var ids []string
	err := s.store.Iter(ctx, eventsDir(name), func(key string) error {
		if id, ok := strings.CutSuffix(strings.TrimPrefix(key, eventsDir(name)), ".json"); ok {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	ids = ids[max(len(ids)-n, 0):]
	out := make([]registry.Event, 0, len(ids))
	for _, id := range slices.Backward(ids) {
		var e registry.Event
		if _, err := s.readJSON(ctx, eventsDir(name)+id+".json", &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
