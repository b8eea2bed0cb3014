package serve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/validate"
)

// PolicyGates runs a model's validation policy, kept in the registry, on
// each new version on this node: the static gates against the version
// served now, and the runtime gates (smoke test, latency budget) measured
// here, on this node's hardware.
type PolicyGates struct {
	Client *registry.Client
	// Config overrides the policy's latency budget for this node.
	Config GatesConfig
}

// Check implements Gates; the report is a validate.Report.
func (g PolicyGates) Check(ctx context.Context, candidate, current *registry.Version, m *runtime.Model) (any, error) {
	p, err := g.Client.GetPolicy(ctx, candidate.Name)
	if err != nil {
		return nil, fmt.Errorf("policy of %s: %w", candidate.Name, err)
	}
	report := registry.CheckVersion(ctx, g.Config.apply(*p), candidate, current, m, "node")
	if !report.Passed {
		return report, errors.New(report.Summary())
	}
	return report, nil
}

// apply puts the node's latency budget in place of the policy's.
func (c GatesConfig) apply(p validate.Policy) validate.Policy {
	if c.LatencyP50 == 0 && c.LatencyP95 == 0 && c.LatencyP99 == 0 {
		return p
	}
	budget := validate.LatencyBudget{}
	if p.Latency != nil {
		budget = *p.Latency
	}
	budget.P50 = validate.Duration(time.Duration(c.LatencyP50))
	budget.P95 = validate.Duration(time.Duration(c.LatencyP95))
	budget.P99 = validate.Duration(time.Duration(c.LatencyP99))
	p.Latency = &budget
	return p
}

func (c GatesConfig) enabled() bool { return c.Enabled == nil || *c.Enabled }

// GatesFor returns the gates for a model: its policy from the registry
// unless its settings turn the node's gates off.
func GatesFor(client *registry.Client, cfg *Config, model string) Gates {
	gc := cfg.For(model).Gates
	if !gc.enabled() {
		return nil
	}
	return PolicyGates{Client: client, Config: gc}
}
