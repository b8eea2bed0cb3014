package registry

import (
	"context"
	"net/http"
)

// ReportRolloutStop tells the registry that this node stopped a canary or a shadow of name.
func (c *Client) ReportRolloutStop(ctx context.Context, name string, r RolloutReport) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	return c.sendJSON(ctx, http.MethodPost, modelPath(name)+"/rollout-events", r, nil)
}
