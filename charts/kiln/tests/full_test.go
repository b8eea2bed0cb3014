package tests

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestFullValues checks what the full values ask for is what renders: the
// serving nodes' flags and settings, autoscaling, monitoring and the batch job.
func TestFullValues(t *testing.T) {
	m := renderDecoded(t, "full-values.yaml")

	iris := m.Deployments["kiln-serve-iris"]
	if iris == nil {
		t.Fatalf("no kiln-serve-iris Deployment; have %v", keys(m.Deployments))
	}
	c := iris.Spec.Template.Spec.Containers[0]
	if !strings.Contains(strings.Join(c.Args, " "), "--model=iris@production") {
		t.Errorf("serve args %v lack --model=iris@production", c.Args)
	}
	want := map[string]string{
		"KILN_ADDR":       ":8000",
		"KILN_GRPC_ADDR":  ":8001",
		"KILN_REGISTRY":   "http://kiln-registry:8081",
		"KILN_CONFIG":     "/etc/kiln/config/config.yaml",
		"KILN_CACHE_DIR":  "/var/cache/kiln",
		"KILN_LOG_FORMAT": "json",
		// three quarters of the 4Gi cache emptyDir
		"KILN_CACHE_MAX_BYTES": "3221225472",
	}
	for name, value := range want {
		if e, ok := envValue(c, name); !ok || e.Value != value {
			t.Errorf("serve env %s = %q, want %q", name, e.Value, value)
		}
	}
	// gRPC: a container port, and a port of the model's Service that targets it.
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "grpc" && p.ContainerPort == 8001 }) {
		t.Errorf("serve container ports %+v lack grpc 8001", c.Ports)
	}
	svc := m.Services["kiln-serve-iris"]
	if svc == nil || !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool {
		return p.Name == "grpc" && p.Port == 8001 && p.TargetPort.StrVal == "grpc" && p.AppProtocol != nil && *p.AppProtocol == "grpc"
	}) {
		t.Errorf("Service kiln-serve-iris does not expose gRPC: %+v", svc)
	}
	if e, ok := envValue(c, "KILN_TOKEN"); !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != "kiln-client-token" {
		t.Errorf("serve KILN_TOKEN does not come from Secret kiln-client-token: %+v", e)
	}
	if c.LivenessProbe.HTTPGet.Path != "/v2/health/live" || c.ReadinessProbe.HTTPGet.Path != "/v2/health/ready" {
		t.Errorf("serve probes: liveness %s, readiness %s", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
	if got := c.Resources.Limits.Memory().String(); got != "1Gi" {
		t.Errorf("iris memory limit %s, want the entry's override 1Gi", got)
	}
	if got := c.Resources.Requests.Cpu().String(); got != "500m" {
		t.Errorf("iris cpu request %s, want the serve default 500m kept beside the override", got)
	}
	if cache := volume(iris.Spec.Template.Spec, "cache"); cache == nil || cache.EmptyDir == nil || cache.EmptyDir.SizeLimit.String() != "4Gi" {
		t.Errorf("iris model cache is not a 4Gi emptyDir: %+v", cache)
	}

	cfg := unmarshalYAML(t, m.ConfigMaps["kiln-serve-iris"].Data["config.yaml"])
	batching := cfg["models"].(map[string]any)["iris"].(map[string]any)["batching"].(map[string]any)
	if batching["max_batch_size"] != float64(32) || batching["max_queue_delay"] != "5ms" {
		t.Errorf("iris settings file batching = %v", batching)
	}
	irisCfg := cfg["models"].(map[string]any)["iris"].(map[string]any)
	canary, _ := irisCfg["canary"].(map[string]any)
	sticky, _ := irisCfg["sticky"].(map[string]any)
	if canary["ref"] != "iris@candidate" || canary["percent"] != float64(10) || sticky["header"] != "X-User-Id" || irisCfg["shadow"] == nil || irisCfg["rollback"] == nil {
		t.Errorf("iris settings file rollout = canary %v, shadow %v, sticky %v, rollback %v", canary, irisCfg["shadow"], sticky, irisCfg["rollback"])
	}
	defaults, _ := cfg["defaults"].(map[string]any)
	if defaults["request_timeout"] != "30s" {
		t.Errorf("iris settings file defaults = %v, want serve.modelDefaults", defaults)
	}
	pinnedCfg := unmarshalYAML(t, m.ConfigMaps["kiln-serve-fraud-pinned"].Data["config.yaml"])
	fraud := pinnedCfg["models"].(map[string]any)["fraud"].(map[string]any)
	if fraud["request_timeout"] != "2s" || fraud["batching"].(map[string]any)["enabled"] != false {
		t.Errorf("fraud-pinned settings = %v", fraud)
	}

	pinned := m.Deployments["kiln-serve-fraud-pinned"]
	if pinned == nil || pinned.Spec.Replicas == nil || *pinned.Spec.Replicas != 1 {
		t.Fatalf("kiln-serve-fraud-pinned: want 1 fixed replica (autoscaling off), got %+v", pinned)
	}
	if m.HPAs["kiln-serve-fraud-pinned"] != nil || m.PDBs["kiln-serve-fraud-pinned"] != nil {
		t.Error("fraud-pinned turned autoscaling and its PDB off, yet they render")
	}
	if cache := volume(pinned.Spec.Template.Spec, "cache"); cache.EmptyDir.Medium != corev1.StorageMediumMemory {
		t.Error("fraud-pinned asked for an in-memory model cache")
	}
	if e, _ := envValue(pinned.Spec.Template.Spec.Containers[0], "KILN_CACHE_MAX_BYTES"); e.Value != "16106127360" {
		t.Errorf("fraud-pinned KILN_CACHE_MAX_BYTES = %q, want three quarters of its 20Gi cache", e.Value)
	}

	hpa := m.HPAs["kiln-serve-iris"]
	if hpa == nil || len(hpa.Spec.Metrics) != 2 || hpa.Spec.Metrics[1].Pods.Metric.Name != "kiln_inference_requests_per_second" {
		t.Errorf("iris HPA should scale on CPU and the custom metric: %+v", hpa)
	}

	reg := m.Deployments["kiln-registry"]
	if *reg.Spec.Replicas != 3 {
		t.Errorf("registry replicas %d, want 3", *reg.Spec.Replicas)
	}
	rc := reg.Spec.Template.Spec.Containers[0]
	if e, _ := envValue(rc, "KILN_STORE"); e.Value != "s3://acme-ml-models/kiln" {
		t.Errorf("registry KILN_STORE = %q", e.Value)
	}
	if _, ok := envValue(rc, "AWS_ACCESS_KEY_ID"); ok {
		t.Error("full values use IRSA, yet the registry gets static keys")
	}
	if sa := m.ServiceAccounts["kiln"]; sa == nil || sa.Annotations["eks.amazonaws.com/role-arn"] == "" {
		t.Error("ServiceAccount kiln lacks the IRSA role annotation")
	}

	job := m.Jobs["kiln-batch-score-2026-01"]
	if job == nil {
		t.Fatalf("no batch Job; have %v", keys(m.Jobs))
	}
	if *job.Spec.CompletionMode != "Indexed" || *job.Spec.Completions != 8 || *job.Spec.Parallelism != 4 {
		t.Errorf("batch Job: mode %s completions %d parallelism %d", *job.Spec.CompletionMode, *job.Spec.Completions, *job.Spec.Parallelism)
	}
	jc := job.Spec.Template.Spec.Containers[0]
	if args := strings.Join(jc.Args, " "); !strings.HasPrefix(args, "batch --model=fraud@production") || !strings.Contains(args, "--shard=$(SHARD)/8") {
		t.Errorf("batch args %q", args)
	}
	if e, _ := envValue(jc, "SHARD"); e.ValueFrom == nil || !strings.Contains(e.ValueFrom.FieldRef.FieldPath, "job-completion-index") {
		t.Errorf("SHARD does not come from the completion index: %+v", e)
	}

	if len(m.ServiceMonitors) != 1 || len(m.PrometheusRules) != 1 {
		t.Errorf("want one ServiceMonitor and one PrometheusRule, got %d and %d", len(m.ServiceMonitors), len(m.PrometheusRules))
	}
}

func volume(pod corev1.PodSpec, name string) *corev1.Volume {
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}

func keys[T any](m map[string]T) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
