package validate

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of running a policy's gates on one version.
type Report struct {
	Model   string `json:"model"`
	Version int    `json:"version"`
	// Passed is true when no gate failed (skipped gates do not fail).
	Passed bool         `json:"passed"`
	Gates  []GateResult `json:"gates"`
	// CheckedAt is when the gates ran (UTC).
	CheckedAt time.Time `json:"checked_at"`
	// Where names what ran the gates: "registry", "node <host>", "cli <host>".
	Where string `json:"where,omitempty"`
	// Against is the version compared with (signature, regression); 0: none.
	Against int `json:"against,omitempty"`
}

// GateResult is one gate's outcome, with what was measured and the bound.
type GateResult struct {
	// Gate names the gate: "metric:accuracy", "size", "signature",
	// "regression:accuracy", "smoke", "latency:p99@1".
	Gate      string `json:"gate"`
	Passed    bool   `json:"passed"`
	Measured  string `json:"measured,omitempty"`
	Threshold string `json:"threshold,omitempty"`
	Detail    string `json:"detail,omitempty"`
	// Skipped marks a gate that could not apply (e.g. no version to compare
	// with); a skipped gate counts as passed.
	Skipped bool `json:"skipped,omitempty"`
}

// newReport starts a report for cand.
func newReport(cand Candidate, current *Candidate) Report {
	r := Report{Model: cand.Name, Version: cand.Version, Passed: true, Gates: []GateResult{}, CheckedAt: time.Now().UTC()}
	if current != nil {
		r.Against = current.Version
	}
	return r
}

// add appends results and updates Passed.
func (r *Report) add(gates ...GateResult) {
	for _, g := range gates {
		r.Gates = append(r.Gates, g)
		if !g.Passed {
			r.Passed = false
		}
	}
}

// Merge appends the gates of other to r (same model and version).
func (r *Report) Merge(other Report) {
	r.add(other.Gates...)
	if r.Against == 0 {
		r.Against = other.Against
	}
}

// Failed returns the gates that failed.
func (r Report) Failed() []GateResult {
	var out []GateResult
	for _, g := range r.Gates {
		if !g.Passed {
			out = append(out, g)
		}
	}
	return out
}

// Summary is one line: "churn@3: FAILED 1 of 5 gates (metric:accuracy)".
func (r Report) Summary() string {
	failed := r.Failed()
	if len(failed) == 0 {
		return fmt.Sprintf("%s@%d: passed %d of %d gates", r.Model, r.Version, len(r.Gates)-len(failed), len(r.Gates))
	}
	names := make([]string, len(failed))
	for i, g := range failed {
		names[i] = g.Gate
	}
	return fmt.Sprintf("%s@%d: FAILED %d of %d gates (%s)", r.Model, r.Version, len(failed), len(r.Gates), strings.Join(names, ", "))
}

// Table formats the report for a terminal: one row per gate, then the summary.
func (r Report) Table() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GATE\tRESULT\tMEASURED\tTHRESHOLD\tDETAIL")
	for _, g := range r.Gates {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Gate, g.result(), dash(g.Measured), dash(g.Threshold), g.Detail)
	}
	tw.Flush()
	if len(r.Gates) == 0 {
		b.Reset()
		b.WriteString("no gates: the policy sets none\n")
	}
	b.WriteString(r.Summary())
	if r.Against != 0 {
		fmt.Fprintf(&b, ", compared with version %d", r.Against)
	}
	if r.Where != "" {
		fmt.Fprintf(&b, ", checked by %s", r.Where)
	}
	b.WriteString("\n")
	return b.String()
}

func (g GateResult) result() string {
	switch {
	case g.Skipped:
		return "skip"
	case g.Passed:
		return "pass"
	}
	return "FAIL"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func pass(gate, measured, threshold string) GateResult {
	return GateResult{Gate: gate, Passed: true, Measured: measured, Threshold: threshold}
}

func fail(gate, measured, threshold, detail string) GateResult {
	return GateResult{Gate: gate, Measured: measured, Threshold: threshold, Detail: detail}
}

func skip(gate, threshold, detail string) GateResult {
	return GateResult{Gate: gate, Passed: true, Skipped: true, Threshold: threshold, Detail: detail}
}

// check returns a passing or failing result depending on ok.
func check(ok bool, gate, measured, threshold, detail string) GateResult {
	if ok {
		return pass(gate, measured, threshold)
	}
	return fail(gate, measured, threshold, detail)
}

// Waive turns the failed gates whose names start with prefix into skipped
// ones with the given reason, and recomputes Passed. The registry uses it to
// let a rollback through the regression gates.
func (r *Report) Waive(prefix, reason string) {
	r.Passed = true
	for i := range r.Gates {
		g := &r.Gates[i]
		if !g.Passed && strings.HasPrefix(g.Gate, prefix) {
			g.Passed, g.Skipped, g.Detail = true, true, reason+" ("+g.Detail+")"
		}
		r.Passed = r.Passed && g.Passed
	}
}
