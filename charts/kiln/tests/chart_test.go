package tests

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// renderDecoded renders the chart over a CI values file and decodes it strictly.
func renderDecoded(t *testing.T, values string) *manifests {
	t.Helper()
	m, err := decodeAll(render(t, ciValues(values)))
	if err != nil {
		t.Fatalf("%s: %v", values, err)
	}
	return m
}

// TestStrictDecode renders every CI values file and decodes every manifest
// strictly; it also checks the pieces that must be there whatever the values.
func TestStrictDecode(t *testing.T) {
	for _, values := range valuesFiles {
		t.Run(values, func(t *testing.T) {
			m := renderDecoded(t, values)
			if len(m.Deployments) < 2 {
				t.Errorf("want the registry and a serving Deployment, got %d Deployments", len(m.Deployments))
			}
			checkWiring(t, m)
			checkSecurity(t, m)
		})
	}
}

// TestDecodeRejectsUnknownField proves the decoder is strict: a field the
// Kubernetes type lacks (a typo in a template) fails.
func TestDecodeRejectsUnknownField(t *testing.T) {
	doc := "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  selectr: {a: b}\n"
	if _, err := decodeAll(doc); err == nil || !strings.Contains(err.Error(), "selectr") {
		t.Fatalf("decodeAll accepted an unknown field: err=%v", err)
	}
	if _, err := decodeAll("apiVersion: v9\nkind: Gadget\nmetadata:\n  name: x\n"); err == nil {
		t.Fatal("decodeAll accepted a kind it has no type for")
	}
}

// checkWiring checks that selectors, ports and references point at objects
// the chart renders.
func checkWiring(t *testing.T, m *manifests) {
	t.Helper()
	for name, d := range m.Deployments {
		sel := labels.SelectorFromSet(d.Spec.Selector.MatchLabels)
		if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Deployment %s: selector %v does not match its pod labels %v", name, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.ConfigMap != nil && m.ConfigMaps[v.ConfigMap.Name] == nil {
				t.Errorf("Deployment %s mounts ConfigMap %s, which the chart does not render", name, v.ConfigMap.Name)
			}
		}
		if sa := d.Spec.Template.Spec.ServiceAccountName; sa != "" && len(m.ServiceAccounts) > 0 && m.ServiceAccounts[sa] == nil {
			t.Errorf("Deployment %s uses ServiceAccount %s, which the chart does not render", name, sa)
		}
	}
	for name, s := range m.Services {
		d := deploymentFor(m, s.Spec.Selector)
		if d == nil {
			t.Errorf("Service %s: selector %v matches no Deployment", name, s.Spec.Selector)
			continue
		}
		for _, p := range s.Spec.Ports {
			if !hasPort(d.Spec.Template.Spec.Containers[0], p.TargetPort.String()) {
				t.Errorf("Service %s: targetPort %s is not a port of Deployment %s", name, p.TargetPort.String(), d.Name)
			}
		}
	}
	for name, h := range m.HPAs {
		d := m.Deployments[h.Spec.ScaleTargetRef.Name]
		if d == nil || h.Spec.ScaleTargetRef.Kind != "Deployment" {
			t.Errorf("HPA %s targets %s %s, which the chart does not render", name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
			continue
		}
		if d.Spec.Replicas != nil {
			t.Errorf("Deployment %s sets replicas while HPA %s scales it: every helm upgrade would reset the scale", d.Name, name)
		}
		if h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			t.Errorf("HPA %s: maxReplicas %d < minReplicas %d", name, h.Spec.MaxReplicas, *h.Spec.MinReplicas)
		}
	}
	for name, so := range m.ScaledObjects {
		ref := so.Spec.ScaleTargetRef
		d := m.Deployments[ref.Name]
		if d == nil || ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" {
			t.Errorf("ScaledObject %s targets %s %s %s, which the chart does not render", name, ref.APIVersion, ref.Kind, ref.Name)
			continue
		}
		if d.Spec.Replicas != nil {
			t.Errorf("Deployment %s sets replicas while ScaledObject %s scales it", d.Name, name)
		}
		for hname, h := range m.HPAs {
			if h.Spec.ScaleTargetRef.Name == ref.Name {
				t.Errorf("Deployment %s is scaled by both HPA %s and ScaledObject %s (KEDA makes its own HPA)", ref.Name, hname, name)
			}
		}
		if so.Spec.MinReplicaCount == nil || so.Spec.MaxReplicaCount == nil || *so.Spec.MaxReplicaCount < *so.Spec.MinReplicaCount {
			t.Errorf("ScaledObject %s: replica bounds %v..%v", name, so.Spec.MinReplicaCount, so.Spec.MaxReplicaCount)
		}
		for _, tr := range so.Spec.Triggers {
			known, ok := triggerMetadataKeys[tr.Type]
			if !ok {
				t.Errorf("ScaledObject %s: trigger type %q has no known metadata keys: add them to triggerMetadataKeys", name, tr.Type)
			}
			for k := range tr.Metadata {
				if !known[k] {
					t.Errorf("ScaledObject %s: %s trigger metadata %q is not a setting of KEDA's %s scaler", name, tr.Type, k, tr.Type)
				}
			}
		}
	}
	for name, p := range m.PDBs {
		if deploymentFor(m, p.Spec.Selector.MatchLabels) == nil {
			t.Errorf("PodDisruptionBudget %s: selector matches no Deployment", name)
		}
	}
	for name, sm := range m.ServiceMonitors {
		sel := labels.SelectorFromSet(sm.Spec.Selector.MatchLabels)
		for _, s := range m.Services {
			component := s.Labels["app.kubernetes.io/component"]
			if component != "registry" && component != "serve" {
				continue
			}
			port := sm.Spec.Endpoints[0].Port
			if !sel.Matches(labels.Set(s.Labels)) || !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == port }) {
				t.Errorf("ServiceMonitor %s does not scrape port %q of Service %s", name, port, s.Name)
			}
		}
	}
}

// checkSecurity checks that every Kiln pod runs as non-root on a read-only
// root filesystem, with probes on its health endpoints.
func checkSecurity(t *testing.T, m *manifests) {
	t.Helper()
	pods := map[string]corev1.PodSpec{}
	for name, d := range m.Deployments {
		pods["Deployment "+name] = d.Spec.Template.Spec
	}
	for name, j := range m.Jobs {
		pods["Job "+name] = j.Spec.Template.Spec
	}
	for name, pod := range pods {
		if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: pod does not set runAsNonRoot", name)
		}
		for _, c := range slices.Concat(pod.InitContainers, pod.Containers) {
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s: container %s has a writable root filesystem", name, c.Name)
			}
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: container %s allows privilege escalation", name, c.Name)
			}
			if c.Resources.Requests.Memory().IsZero() {
				t.Errorf("%s: container %s requests no memory", name, c.Name)
			}
		}
	}
}

// deploymentFor returns the Deployment whose pods the selector matches.
func deploymentFor(m *manifests, selector map[string]string) *appsv1.Deployment {
	if len(selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(selector)
	for _, d := range m.Deployments {
		if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			return d
		}
	}
	return nil
}

func hasPort(c corev1.Container, name string) bool {
	return slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == name })
}

func envValue(c corev1.Container, name string) (corev1.EnvVar, bool) {
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
	if i < 0 {
		return corev1.EnvVar{}, false
	}
	return c.Env[i], true
}

// unmarshalYAML decodes a YAML string strictly into a generic value.
func unmarshalYAML(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := yaml.UnmarshalStrict([]byte(s), &v); err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}
