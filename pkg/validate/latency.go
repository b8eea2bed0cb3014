package validate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kilnml/kiln/internal/quantile"
	"github.com/kilnml/kiln/pkg/oip"
)

// percentiles are the latency percentiles a budget can cap.
var percentiles = []struct {
	name string
	q    float64
}{{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}}

// level is one batch size with its budgets, in the order of percentiles.
type level struct {
	batch   int
	budgets [3]Duration
}

// latencyGates measures run latency at batch 1 (and at the budget's larger
// batch) and checks each budgeted percentile.
func latencyGates(ctx context.Context, p Policy, cand Candidate, r Runner) []GateResult {
	l := p.Latency
	levels := []level{{1, [3]Duration{l.P50, l.P95, l.P99}}}
	if b := l.Batch; b != nil {
		levels = append(levels, level{b.Size, [3]Duration{b.P50, b.P95, b.P99}})
	}
	warmup, runs := l.runs()
	base, inputErr := latencyInputs(p, cand)
	var out []GateResult
	for _, lv := range levels {
		if lv.budgets == [3]Duration{} {
			continue // only the batch budget is set
		}
		err := inputErr
		var timings []time.Duration
		if err == nil {
			var inputs []*oip.Tensor
			if inputs, err = withBatch(base, cand.Inputs, lv.batch); err == nil {
				timings, err = measure(ctx, r, inputs, warmup, runs)
			}
		}
		for i, pc := range percentiles {
			budget := lv.budgets[i]
			if budget <= 0 {
				continue
			}
			gate := fmt.Sprintf("latency:%s@%d", pc.name, lv.batch)
			threshold := "<= " + budget.String()
			if err != nil {
				out = append(out, fail(gate, "error", threshold, err.Error()))
				continue
			}
			got := quantile.NearestRank(timings, pc.q)
			over := got - time.Duration(budget)
			detail := fmt.Sprintf("%d runs after %d warm-up", runs, warmup)
			if over > 0 {
				detail = fmt.Sprintf("over budget by %s; %s", over, detail)
			}
			out = append(out, check(over <= 0, gate, got.String(), threshold, detail))
		}
	}
	return out
}

// latencyInputs picks the request whose latency is measured: the version's
// input example, else the smoke test's input, else zeros shaped from the
// signature.
func latencyInputs(p Policy, cand Candidate) ([]*oip.Tensor, error) {
	switch {
	case cand.InputExample != nil:
		return cand.InputExample.Inputs, nil
	case p.Smoke != nil && p.Smoke.Input != nil:
		return p.Smoke.Input.Inputs, nil
	}
	return zeroInputs(cand.Inputs)
}

// measure runs the model warmup times, then times runs runs.
func measure(ctx context.Context, r Runner, inputs []*oip.Tensor, warmup, runs int) ([]time.Duration, error) {
	for range warmup {
		if _, err := r.Run(ctx, inputs, nil); err != nil {
			return nil, fmt.Errorf("warm-up run: %w", err)
		}
	}
	samples := make([]time.Duration, runs)
	for i := range samples {
		start := time.Now()
		_, err := r.Run(ctx, inputs, nil)
		samples[i] = time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
	}
	slices.Sort(samples)
	return samples, nil
}
