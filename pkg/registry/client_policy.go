package registry

import (
	"context"
	"net/http"

	"github.com/kilnml/kiln/pkg/validate"
)

// GetPolicy returns a model's validation policy (the zero policy when none
// is set).
func (c *Client) GetPolicy(ctx context.Context, name string) (*validate.Policy, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	var out validate.Policy
	return &out, c.getJSON(ctx, modelPath(name)+"/policy", &out)
}

// SetPolicy replaces a model's validation policy (admin role).
func (c *Client) SetPolicy(ctx context.Context, name string, p validate.Policy) (*validate.Policy, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	var out validate.Policy
	return &out, c.sendJSON(ctx, http.MethodPut, modelPath(name)+"/policy", p, &out)
}

// MoveAlias moves alias as req says. A protected alias whose gates fail
// is refused with an *APIError (ErrConflict) carrying the Report; with
// req.Force (admin role) it moves anyway.
func (c *Client) MoveAlias(ctx context.Context, name, alias string, req SetAliasRequest) (*Alias, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := ValidateAlias(alias); err != nil {
		return nil, err
	}
	var out Alias
	return &out, c.sendJSON(ctx, http.MethodPut, aliasPath(name, alias), req, &out)
}

// RecordValidation stores a validation report on version n.
func (c *Client) RecordValidation(ctx context.Context, name string, n int, r validate.Report) (*Version, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	var out Version
	return &out, c.sendJSON(ctx, http.MethodPost, versionPath(Ref{Name: name, Version: n})+"/validations", r, &out)
}
