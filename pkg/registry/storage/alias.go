package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

// aliasRecord is an alias as stored; Version 0 marks a deleted alias, kept
// so that every later change is still a compare-and-swap.
type aliasRecord struct {
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	By        string    `json:"by,omitempty"`
}

// GetAlias returns an alias and an ETag that changes whenever it moves.
func (s *Service) GetAlias(ctx context.Context, name, alias string) (*registry.Alias, string, error) {
	if err := registry.ValidateName(name); err != nil {
		return nil, "", err
	}
	if err := registry.ValidateAlias(alias); err != nil {
		return nil, "", err
	}
	rec, etag, err := s.readAlias(ctx, name, alias)
	if err != nil {
		return nil, "", err
	}
	if rec == nil || rec.Version == 0 {
		return nil, "", fmt.Errorf("alias %s@%s: %w", name, alias, registry.ErrNotFound)
	}
	return &registry.Alias{Model: name, Alias: alias, Version: rec.Version, UpdatedAt: rec.UpdatedAt, By: rec.By}, etag, nil
}

// readAlias returns the stored record (nil if never set) and its ETag.
func (s *Service) readAlias(ctx context.Context, name, alias string) (*aliasRecord, string, error) {
	var rec aliasRecord
	etag, err := s.readJSON(ctx, aliasKey(name, alias), &rec)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return &rec, etag, nil
}

// ListAliases returns the model's aliases in name order.
func (s *Service) ListAliases(ctx context.Context, name string) ([]registry.Alias, error) {
	if err := registry.ValidateName(name); err != nil {
		return nil, err
	}
	var names []string
	err := s.store.Iter(ctx, aliasesDir(name), func(key string) error {
		alias, ok := strings.CutSuffix(strings.TrimPrefix(key, aliasesDir(name)), ".json")
		if ok && registry.ValidateAlias(alias) == nil {
			names = append(names, alias)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	aliases := []registry.Alias{}
	for _, alias := range names {
		a, _, err := s.GetAlias(ctx, name, alias)
		if errors.Is(err, registry.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		aliases = append(aliases, *a)
	}
	return aliases, nil
}

// SetAlias points alias at version. With expect non-nil the move happens
// only while the alias is at *expect (0: does not exist); otherwise it
// fails with ErrConflict and changes nothing. Concurrent moves never lose
// an update: each is a compare-and-swap on the alias. Moving a protected
// alias runs the policy's gates (see MoveAlias).
func (s *Service) SetAlias(ctx context.Context, name, alias string, version int, expect *int, by string) (*registry.Alias, error) {
	return s.MoveAlias(ctx, name, alias, registry.SetAliasRequest{Version: version, Expect: expect}, by)
}

// MoveAlias points alias at req.Version under req.Expect, as SetAlias. When
// the model's policy protects alias, the static gates run against the
// version the alias is moving from; if one fails the move is refused with a
// *GateError (ErrConflict) and audited, unless req.Force is set (the caller
// checks the admin role), which moves anyway and audits a forced move.
func (s *Service) MoveAlias(ctx context.Context, name, alias string, req registry.SetAliasRequest, by string) (*registry.Alias, error) {
	if err := registry.ValidateName(name); err != nil {
		return nil, err
	}
	if err := registry.ValidateAlias(alias); err != nil {
		return nil, err
	}
	cand, _, err := s.readVersion(ctx, name, req.Version)
	if err != nil {
		return nil, fmt.Errorf("set alias %s: %w", alias, err)
	}
	policy, err := s.GetPolicy(ctx, name)
	if err != nil {
		return nil, err
	}
	var report *validate.Report
	gates := func(from int) error {
		report = nil
		if !policy.Protects(alias) {
			return nil
		}
		r, err := s.gateMove(ctx, *policy, alias, cand, from)
		if err != nil {
			return err
		}
		report = &r
		if !r.Passed && !req.Force {
			return &registry.GateError{Model: name, Alias: alias, From: from, Version: req.Version, Report: r}
		}
		return nil
	}
	rec := aliasRecord{Version: req.Version, By: by}
	from, err := s.swapAlias(ctx, name, alias, req.Expect, &rec, gates)
	var refused *registry.GateError
	if errors.As(err, &refused) {
		s.log.Warn("alias move refused", "model", name, "alias", alias, "version", req.Version, "by", by, "report", refused.Report.Summary())
		s.audit(ctx, registry.Event{Type: registry.EventAliasRefused, Model: name, Alias: alias, From: refused.From, Version: req.Version, Report: &refused.Report, By: by})
	}
	if err != nil {
		return nil, err
	}
	forced := report != nil && !report.Passed
	s.log.Info("alias set", "model", name, "alias", alias, "from", from, "version", req.Version, "by", by, "forced", forced)
	s.audit(ctx, registry.Event{Type: registry.EventAliasSet, Model: name, Alias: alias, From: from, Version: req.Version, By: by, Forced: forced, Report: report, Time: rec.UpdatedAt})
	return &registry.Alias{Model: name, Alias: alias, Version: req.Version, UpdatedAt: rec.UpdatedAt, By: by, Report: report}, nil
}

// DeleteAlias removes alias, under the same expect rule as SetAlias.
func (s *Service) DeleteAlias(ctx context.Context, name, alias string, expect *int, by string) error {
	if err := registry.ValidateName(name); err != nil {
		return err
	}
	if err := registry.ValidateAlias(alias); err != nil {
		return err
	}
	rec := aliasRecord{By: by}
	from, err := s.swapAlias(ctx, name, alias, expect, &rec, nil)
	if err != nil {
		return err
	}
	if from == 0 {
		return fmt.Errorf("alias %s@%s: %w", name, alias, registry.ErrNotFound)
	}
	s.log.Info("alias deleted", "model", name, "alias", alias, "from", from, "by", by)
	s.audit(ctx, registry.Event{Type: registry.EventAliasDelete, Model: name, Alias: alias, From: from, By: by, Time: rec.UpdatedAt})
	return nil
}

// swapAlias replaces the alias record with next (stamping its time) and
// returns the version it pointed at before (0: none). check, when not nil,
// runs on every attempt with the version the swap would replace; an error
// from it stops the swap, so the gates always judge the version replaced.
func (s *Service) swapAlias(ctx context.Context, name, alias string, expect *int, next *aliasRecord, check func(from int) error) (int, error) {
	key := aliasKey(name, alias)
	for range maxSwapAttempts {
		cur, etag, err := s.readAlias(ctx, name, alias)
		if err != nil {
			return 0, err
		}
		from := 0
		if cur != nil {
			from = cur.Version
		}
		if expect != nil && *expect != from {
			return 0, fmt.Errorf("alias %s@%s: %w: it points at version %d, not the expected %d; check the current version and retry", name, alias, registry.ErrConflict, from, *expect)
		}
		if next.Version == 0 && from == 0 {
			return 0, nil // deleting what is not there
		}
		if check != nil {
			if err := check(from); err != nil {
				return 0, err
			}
		}
		next.UpdatedAt = s.now()
		data, err := json.Marshal(next)
		if err != nil {
			return 0, err
		}
		if cur == nil {
			_, err = s.store.Create(ctx, key, data)
		} else {
			_, err = s.store.Swap(ctx, key, data, etag)
		}
		if err == nil {
			s.changes.notify(key)
			return from, nil
		}
		if !errors.Is(err, registry.ErrConflict) {
			return 0, fmt.Errorf("set alias %s@%s: %w", name, alias, err)
		}
	}
	return 0, fmt.Errorf("alias %s@%s: %w: too many concurrent changes, try again", name, alias, registry.ErrConflict)
}
