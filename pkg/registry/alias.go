package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// aliasRecord is an alias as stored; Version 0 marks a deleted alias, kept
// so that every later change is still a compare-and-swap.
type aliasRecord struct {
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	By        string    `json:"by,omitempty"`
}

// GetAlias returns an alias and an ETag that changes whenever it moves.
func (s *Service) GetAlias(ctx context.Context, name, alias string) (*Alias, string, error) {
	if err := ValidateName(name); err != nil {
		return nil, "", err
	}
	if err := ValidateAlias(alias); err != nil {
		return nil, "", err
	}
	rec, etag, err := s.readAlias(ctx, name, alias)
	if err != nil {
		return nil, "", err
	}
	if rec == nil || rec.Version == 0 {
		return nil, "", fmt.Errorf("alias %s@%s: %w", name, alias, ErrNotFound)
	}
	return &Alias{Model: name, Alias: alias, Version: rec.Version, UpdatedAt: rec.UpdatedAt, By: rec.By}, etag, nil
}

// readAlias returns the stored record (nil if never set) and its ETag.
func (s *Service) readAlias(ctx context.Context, name, alias string) (*aliasRecord, string, error) {
	var rec aliasRecord
	etag, err := s.readJSON(ctx, aliasKey(name, alias), &rec)
	if errors.Is(err, ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return &rec, etag, nil
}

// ListAliases returns the model's aliases in name order.
func (s *Service) ListAliases(ctx context.Context, name string) ([]Alias, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	var names []string
	err := s.store.Iter(ctx, aliasesDir(name), func(key string) error {
		alias, ok := strings.CutSuffix(strings.TrimPrefix(key, aliasesDir(name)), ".json")
		if ok && ValidateAlias(alias) == nil {
			names = append(names, alias)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	aliases := []Alias{}
	for _, alias := range names {
		a, _, err := s.GetAlias(ctx, name, alias)
		if errors.Is(err, ErrNotFound) {
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
// an update: each is a compare-and-swap on the alias.
func (s *Service) SetAlias(ctx context.Context, name, alias string, version int, expect *int, by string) (*Alias, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := ValidateAlias(alias); err != nil {
		return nil, err
	}
	if _, _, err := s.readVersion(ctx, name, version); err != nil {
		return nil, fmt.Errorf("set alias %s: %w", alias, err)
	}
	rec := aliasRecord{Version: version, By: by}
	from, err := s.swapAlias(ctx, name, alias, expect, &rec)
	if err != nil {
		return nil, err
	}
	s.log.Info("alias set", "model", name, "alias", alias, "from", from, "version", version, "by", by)
	s.audit(ctx, Event{Type: EventAliasSet, Model: name, Alias: alias, From: from, Version: version, By: by})
	return &Alias{Model: name, Alias: alias, Version: version, UpdatedAt: rec.UpdatedAt, By: by}, nil
}

// DeleteAlias removes alias, under the same expect rule as SetAlias.
func (s *Service) DeleteAlias(ctx context.Context, name, alias string, expect *int, by string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := ValidateAlias(alias); err != nil {
		return err
	}
	from, err := s.swapAlias(ctx, name, alias, expect, &aliasRecord{By: by})
	if err != nil {
		return err
	}
	if from == 0 {
		return fmt.Errorf("alias %s@%s: %w", name, alias, ErrNotFound)
	}
	s.log.Info("alias deleted", "model", name, "alias", alias, "from", from, "by", by)
	s.audit(ctx, Event{Type: EventAliasDelete, Model: name, Alias: alias, From: from, By: by})
	return nil
}

// swapAlias replaces the alias record with next (stamping its time) and
// returns the version it pointed at before (0: none).
func (s *Service) swapAlias(ctx context.Context, name, alias string, expect *int, next *aliasRecord) (int, error) {
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
			return 0, fmt.Errorf("alias %s@%s: %w: it points at version %d, not the expected %d; check the current version and retry", name, alias, ErrConflict, from, *expect)
		}
		if next.Version == 0 && from == 0 {
			return 0, nil // deleting what is not there
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
			return from, nil
		}
		if !errors.Is(err, ErrConflict) {
			return 0, fmt.Errorf("set alias %s@%s: %w", name, alias, err)
		}
	}
	return 0, fmt.Errorf("alias %s@%s: %w: too many concurrent changes, try again", name, alias, ErrConflict)
}
