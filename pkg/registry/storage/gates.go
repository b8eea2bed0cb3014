package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

// gateMove runs the static gates of policy for moving alias from version
// from (0: unset) to cand. A rollback (cand held the alias before) is let
// through the regression gates: going back is how a bad release is undone.
func (s *Service) gateMove(ctx context.Context, policy validate.Policy, alias string, cand *registry.Version, from int) (validate.Report, error) {
	var current *validate.Candidate
	if from != 0 && from != cand.Version {
		v, _, err := s.readVersion(ctx, cand.Name, from)
		if err != nil {
			return validate.Report{}, fmt.Errorf("read %s@%s's current version: %w", cand.Name, alias, err)
		}
		c := registry.CandidateFromVersion(v)
		current = &c
	}
	report := validate.Static(policy, registry.CandidateFromVersion(cand), current)
	report.Where = "registry"
	if !report.Passed && current != nil && failedWithPrefix(report, "regression:") {
		held, err := s.heldBefore(ctx, cand.Name, alias, cand.Version)
		if err != nil {
			return validate.Report{}, err
		}
		if held {
			report.Waive("regression:", fmt.Sprintf("rollback: version %d held %s before", cand.Version, alias))
		}
	}
	return report, nil
}

func failedWithPrefix(r validate.Report, prefix string) bool {
	for _, g := range r.Failed() {
		if strings.HasPrefix(g.Gate, prefix) {
			return true
		}
	}
	return false
}

// heldBefore reports whether the audit log shows alias moved to version.
func (s *Service) heldBefore(ctx context.Context, name, alias string, version int) (bool, error) {
	page := registry.Page{Size: 1000}
	for {
		list, err := s.ListEvents(ctx, name, page)
		if err != nil {
			return false, err
		}
		for _, e := range list.Events {
			if e.Type == registry.EventAliasSet && e.Alias == alias && e.Version == version {
				return true, nil
			}
		}
		if list.NextPageToken == "" {
			return false, nil
		}
		page.Token = list.NextPageToken
	}
}
