package validate

import (
	"fmt"
	"strconv"
)

// Static runs the gates that need no runtime: metric thresholds, size,
// signature compatibility and regression. current is the version now behind
// the alias (nil when there is none: the signature and regression gates are
// then skipped).
func Static(p Policy, cand Candidate, current *Candidate) Report {
	r := newReport(cand, current)
	r.add(metricGates(p, cand)...)
	if p.MaxSizeBytes > 0 {
		r.add(sizeGate(p.MaxSizeBytes, cand.SizeBytes))
	}
	if p.Signature {
		r.add(signatureGate(cand, current))
	}
	r.add(regressionGates(p, cand, current)...)
	return r
}

// metricGates checks each metric of the policy against its bounds.
func metricGates(p Policy, cand Candidate) []GateResult {
	var out []GateResult
	for _, name := range sortedKeys(p.Metrics) {
		t := p.Metrics[name]
		gate, threshold := "metric:"+name, t.String()
		v, ok := cand.Metrics[name]
		switch {
		case !ok:
			out = append(out, fail(gate, "", threshold, "the version records no "+name+"; add it with kiln push --metric or a metrics update"))
		case t.Min != nil && v < *t.Min:
			out = append(out, fail(gate, num(v), threshold, fmt.Sprintf("below the minimum by %s", num(*t.Min-v))))
		case t.Max != nil && v > *t.Max:
			out = append(out, fail(gate, num(v), threshold, fmt.Sprintf("above the maximum by %s", num(v-*t.Max))))
		default:
			out = append(out, pass(gate, num(v), threshold))
		}
	}
	return out
}

// String formats the bounds: ">= 0.9", "<= 3.5", "0.1 .. 0.9".
func (t Threshold) String() string {
	switch {
	case t.Min != nil && t.Max != nil:
		return num(*t.Min) + " .. " + num(*t.Max)
	case t.Min != nil:
		return ">= " + num(*t.Min)
	case t.Max != nil:
		return "<= " + num(*t.Max)
	}
	return "any"
}

// lowerIsBetter reports whether the policy bounds the metric from above only.
func (p Policy) lowerIsBetter(metric string) bool {
	t, ok := p.Metrics[metric]
	return ok && t.Max != nil && t.Min == nil
}

func sizeGate(limit, size int64) GateResult {
	return check(size <= limit, "size", bytesString(size), "<= "+bytesString(limit), "the model file is too large")
}

// regressionGates checks that no listed metric worsens against current by
// more than its allowed amount.
func regressionGates(p Policy, cand Candidate, current *Candidate) []GateResult {
	var out []GateResult
	for _, name := range sortedKeys(p.Regression) {
		allowed := p.Regression[name]
		gate := "regression:" + name
		word := "drop"
		if p.lowerIsBetter(name) {
			word = "rise"
		}
		threshold := word + " <= " + num(allowed)
		if current == nil {
			out = append(out, skip(gate, threshold, "no version to compare with"))
			continue
		}
		was, ok := current.Metrics[name]
		if !ok {
			out = append(out, skip(gate, threshold, fmt.Sprintf("version %d records no %s", current.Version, name)))
			continue
		}
		v, ok := cand.Metrics[name]
		if !ok {
			out = append(out, fail(gate, "", threshold, "the version records no "+name))
			continue
		}
		worse := was - v
		if word == "rise" {
			worse = v - was
		}
		measured := fmt.Sprintf("%s -> %s", num(was), num(v))
		out = append(out, check(worse <= allowed, gate, measured, threshold,
			fmt.Sprintf("%s by %s against version %d", word, num(worse), current.Version)))
	}
	return out
}

// num formats a metric value compactly.
func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// bytesString formats a size with a binary unit and its exact byte count.
func bytesString(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d B)", float64(n)/float64(div), "KMGTP"[exp], n)
}
