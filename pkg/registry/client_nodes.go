package registry

import (
	"context"
	"net/http"
	"net/url"
)

// Heartbeat reports a serving node's state to the registry.
func (c *Client) Heartbeat(ctx context.Context, hb Heartbeat) (*Node, error) {
	var out Node
	return &out, c.sendJSON(ctx, http.MethodPut, "/api/v1/nodes/"+url.PathEscape(hb.Node), hb, &out)
}

// ListNodes returns the serving nodes that reported recently.
func (c *Client) ListNodes(ctx context.Context) ([]Node, error) {
	var out NodeList
	return out.Nodes, c.getJSON(ctx, "/api/v1/nodes", &out)
}

// ModelNodes returns the nodes serving model, each with only that model's entry.
func (c *Client) ModelNodes(ctx context.Context, model string) ([]Node, error) {
	if err := ValidateName(model); err != nil {
		return nil, err
	}
	var out NodeList
	return out.Nodes, c.getJSON(ctx, modelPath(model)+"/nodes", &out)
}
