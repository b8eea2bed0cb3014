package storage

import (
	"context"
	"fmt"

	"github.com/kilnml/kiln/pkg/registry"
)

// RecordRolloutStop audits a serving node's report that its rollback rules
// stopped a canary or a shadow of the model.
func (s *Service) RecordRolloutStop(ctx context.Context, name string, r registry.RolloutReport, by string) (*registry.Event, error) {
	if r.Role != "canary" && r.Role != "shadow" {
		return nil, fmt.Errorf("%w: role %q: want canary or shadow", registry.ErrInvalid, r.Role)
	}
	if r.Reason == "" {
		return nil, fmt.Errorf("%w: a rollout report needs a reason", registry.ErrInvalid)
	}
	if _, err := s.GetModel(ctx, name); err != nil {
		return nil, err
	}
	e := registry.Event{Type: registry.EventRolloutStopped, Model: name, Version: r.Version, Role: r.Role, Node: r.Node, Reason: r.Reason, By: by}
	s.log.Warn("rollout stopped on a node", "model", name, "role", r.Role, "version", r.Version, "node", r.Node, "reason", r.Reason)
	s.audit(ctx, e)
	return &e, nil
}
