package registry

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// RecordRolloutStop audits a serving node's report that its rollback rules
// stopped a canary or a shadow of the model.
func (s *Service) RecordRolloutStop(ctx context.Context, name string, r RolloutReport, by string) (*Event, error) {
	if r.Role != "canary" && r.Role != "shadow" {
		return nil, fmt.Errorf("%w: role %q: want canary or shadow", ErrInvalid, r.Role)
	}
	if r.Reason == "" {
		return nil, fmt.Errorf("%w: a rollout report needs a reason", ErrInvalid)
	}
	if _, err := s.GetModel(ctx, name); err != nil {
		return nil, err
	}
	e := Event{Type: EventRolloutStopped, Model: name, Version: r.Version, Role: r.Role, Node: r.Node, Reason: r.Reason, By: by}
	s.log.Warn("rollout stopped on a node", "model", name, "role", r.Role, "version", r.Version, "node", r.Node, "reason", r.Reason)
	s.audit(ctx, e)
	return &e, nil
}

// recordRolloutStop takes a node's report; the reader role may send it, so
// that nodes need no write token.
func (a *api) recordRolloutStop(c *gin.Context) {
	var r RolloutReport
	if err := decodeJSON(c, &r); err != nil {
		a.fail(c, err)
		return
	}
	e, err := a.svc.RecordRolloutStop(c.Request.Context(), c.Param("name"), r, caller(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, e)
}

// ReportRolloutStop tells the registry that this node stopped a canary or a shadow of name.
func (c *Client) ReportRolloutStop(ctx context.Context, name string, r RolloutReport) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	return c.sendJSON(ctx, http.MethodPost, modelPath(name)+"/rollout-events", r, nil)
}
