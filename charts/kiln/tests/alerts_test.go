package tests

import (
	"strings"
	"testing"
)

// TestAlertRules checks the PrometheusRule carries one alert per failure the
// monitoring issue names, each on its metric, with the thresholds from values.
func TestAlertRules(t *testing.T) {
	m := renderDecoded(t, "full-values.yaml")
	rule := m.PrometheusRules["kiln"]
	if rule == nil || len(rule.Spec.Groups) != 1 {
		t.Fatalf("want PrometheusRule kiln with one group, got %+v", rule)
	}
	want := map[string][]string{
		"KilnDataDrift":            {"kiln_dataset_drift_share", "> 0.3"},
		"KilnPredictionDrift":      {"kiln_drift_detected{feature=~"},
		"KilnLatencyP99OverBudget": {"histogram_quantile(0.99", "kiln_inference_request_duration_seconds_bucket", "> 0.25"},
		"KilnHighErrorRate":        {`kiln_inference_requests_total{code=~"5.."}`, "> 0.02"},
		"KilnModelLoadFailure":     {"kiln_model_load_failures_total"},
	}
	for _, r := range rule.Spec.Groups[0].Rules {
		parts, ok := want[r.Alert]
		if !ok {
			t.Errorf("unexpected alert %q", r.Alert)
			continue
		}
		delete(want, r.Alert)
		expr := r.Expr.String()
		for _, p := range parts {
			if !strings.Contains(expr, p) {
				t.Errorf("%s: expr %q lacks %q", r.Alert, expr, p)
			}
		}
		if strings.Count(expr, "(") != strings.Count(expr, ")") {
			t.Errorf("%s: unbalanced parentheses in %q", r.Alert, expr)
		}
		if r.Labels["severity"] == "" || r.Labels["team"] != "ml-platform" {
			t.Errorf("%s: labels %v, want a severity and the values' alertLabels", r.Alert, r.Labels)
		}
		if !strings.Contains(r.Annotations["summary"], "{{ $labels.model }}") {
			t.Errorf("%s: summary %q does not name the model", r.Alert, r.Annotations["summary"])
		}
	}
	for alert := range want {
		t.Errorf("alert %s is missing", alert)
	}
}

// TestMonitoringOffByDefault checks that clusters without the Prometheus
// Operator CRDs get no monitoring.coreos.com objects unless asked.
func TestMonitoringOffByDefault(t *testing.T) {
	m := renderDecoded(t, "minimal-values.yaml")
	if len(m.ServiceMonitors)+len(m.PrometheusRules) != 0 {
		t.Errorf("minimal values render %d ServiceMonitors and %d PrometheusRules", len(m.ServiceMonitors), len(m.PrometheusRules))
	}
}
