package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestKEDA checks the KEDA variant (ci/keda-values.yaml): the model that
// KEDA scales gets a strictly decoded ScaledObject and no HPA, its
// Prometheus query asks for the queue depth of exactly that Deployment's
// pods, and the model that turned KEDA off keeps its HPA.
func TestKEDA(t *testing.T) {
	m := renderDecoded(t, "keda-values.yaml")
	so := m.ScaledObjects["kiln-serve-iris"]
	if so == nil {
		t.Fatalf("no ScaledObject kiln-serve-iris; have %v", keys(m.ScaledObjects))
	}
	if m.HPAs["kiln-serve-iris"] != nil {
		t.Error("iris is scaled by KEDA, yet its HPA renders too")
	}
	if m.ScaledObjects["kiln-serve-fraud"] != nil || m.HPAs["kiln-serve-fraud"] == nil {
		t.Error("fraud turned KEDA off: want its HPA and no ScaledObject")
	}
	if *so.Spec.MinReplicaCount != 1 || *so.Spec.MaxReplicaCount != 20 {
		t.Errorf("replica bounds %d..%d, want serve.autoscaling's 1..20", *so.Spec.MinReplicaCount, *so.Spec.MaxReplicaCount)
	}
	if b := so.Spec.Advanced.HorizontalPodAutoscalerConfig.Behavior; b == nil || *b.ScaleDown.StabilizationWindowSeconds != 300 {
		t.Errorf("KEDA's HPA should scale down slowly, as the chart's HPA does: %+v", b)
	}
	if len(so.Spec.Triggers) != 2 {
		t.Fatalf("want a prometheus and a cpu trigger, got %+v", so.Spec.Triggers)
	}
	prom, cpu := so.Spec.Triggers[0], so.Spec.Triggers[1]
	if prom.Type != "prometheus" || prom.MetricType != "AverageValue" || prom.Metadata["threshold"] != "16" ||
		prom.Metadata["serverAddress"] != "http://prometheus-operated.monitoring.svc:9090" {
		t.Errorf("prometheus trigger %+v", prom)
	}
	if cpu.Type != "cpu" || cpu.MetricType != "Utilization" || cpu.Metadata["value"] != "70" {
		t.Errorf("cpu trigger %+v, want 70%% utilization as the HPA", cpu)
	}

	// The query sums a gauge kiln-serve exports over the pods behind the
	// model's own Service, the labels the chart's ServiceMonitor gives them.
	q := prom.Metadata["query"]
	match := regexp.MustCompile(`^sum\((kiln_[a-z_]+)\{namespace="([^"]+)", service="([^"]+)"\}\)$`).FindStringSubmatch(q)
	if match == nil {
		t.Fatalf("query %q is not sum(METRIC{namespace=..., service=...})", q)
	}
	metric, ns, svc := match[1], match[2], match[3]
	if ns != "ml" || m.Services[svc] == nil || m.Services[svc].Labels["kiln.dev/model"] != "iris" {
		t.Errorf("query selects namespace %q service %q; want the release namespace and iris's Service", ns, svc)
	}
	if deploymentFor(m, m.Services[svc].Spec.Selector) != m.Deployments[so.Spec.ScaleTargetRef.Name] {
		t.Errorf("Service %s in the query does not select the scaled Deployment %s", svc, so.Spec.ScaleTargetRef.Name)
	}
	metrics, err := os.ReadFile(filepath.Join(chartDir, "..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(metrics), "| `"+metric+"` | gauge |") {
		t.Errorf("query metric %s is not a gauge in docs/metrics.md", metric)
	}
}

// TestKEDAQueryOverride: a query of one's own replaces the default one.
func TestKEDAQueryOverride(t *testing.T) {
	const q = `sum(rate(kiln_inference_requests_total{service="kiln-serve-iris"}[2m]))`
	m, err := decodeAll(render(t, ciValues("keda-values.yaml"), "--set-string", "models[0].autoscaling.keda.query="+q))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.ScaledObjects["kiln-serve-iris"].Spec.Triggers[0].Metadata["query"]; got != q {
		t.Errorf("query %q, want %q", got, q)
	}
}
