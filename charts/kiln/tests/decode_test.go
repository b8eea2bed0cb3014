package tests

import (
	"fmt"
	"regexp"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// manifests is a rendered chart, every object decoded into its own type.
type manifests struct {
	Deployments     map[string]*appsv1.Deployment
	Services        map[string]*corev1.Service
	ConfigMaps      map[string]*corev1.ConfigMap
	Secrets         map[string]*corev1.Secret
	ServiceAccounts map[string]*corev1.ServiceAccount
	PVCs            map[string]*corev1.PersistentVolumeClaim
	HPAs            map[string]*autoscalingv2.HorizontalPodAutoscaler
	PDBs            map[string]*policyv1.PodDisruptionBudget
	Jobs            map[string]*batchv1.Job
	ServiceMonitors map[string]*monitoringv1.ServiceMonitor
	PrometheusRules map[string]*monitoringv1.PrometheusRule
	ScaledObjects   map[string]*ScaledObject
}

// header is what every manifest starts with.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// decodeAll splits helm's output into documents and decodes each strictly
// into the Go type of its apiVersion and kind: an unknown or duplicate field,
// a wrong value type or an unexpected kind is an error.
func decodeAll(rendered string) (*manifests, error) {
	m := &manifests{
		Deployments: map[string]*appsv1.Deployment{}, Services: map[string]*corev1.Service{},
		ConfigMaps: map[string]*corev1.ConfigMap{}, Secrets: map[string]*corev1.Secret{},
		ServiceAccounts: map[string]*corev1.ServiceAccount{}, PVCs: map[string]*corev1.PersistentVolumeClaim{},
		HPAs: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, PDBs: map[string]*policyv1.PodDisruptionBudget{},
		Jobs: map[string]*batchv1.Job{}, ServiceMonitors: map[string]*monitoringv1.ServiceMonitor{},
		PrometheusRules: map[string]*monitoringv1.PrometheusRule{}, ScaledObjects: map[string]*ScaledObject{},
	}
	for i, doc := range docSeparator.Split(rendered, -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var h header
		if err := yaml.Unmarshal([]byte(doc), &h); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if h.Metadata.Name == "" {
			return nil, fmt.Errorf("document %d (%s %s): no metadata.name", i, h.APIVersion, h.Kind)
		}
		key := h.APIVersion + " " + h.Kind
		var err error
		switch key {
		case "apps/v1 Deployment":
			err = decodeInto(doc, h, m.Deployments)
		case "v1 Service":
			err = decodeInto(doc, h, m.Services)
		case "v1 ConfigMap":
			err = decodeInto(doc, h, m.ConfigMaps)
		case "v1 Secret":
			err = decodeInto(doc, h, m.Secrets)
		case "v1 ServiceAccount":
			err = decodeInto(doc, h, m.ServiceAccounts)
		case "v1 PersistentVolumeClaim":
			err = decodeInto(doc, h, m.PVCs)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			err = decodeInto(doc, h, m.HPAs)
		case "policy/v1 PodDisruptionBudget":
			err = decodeInto(doc, h, m.PDBs)
		case "batch/v1 Job":
			err = decodeInto(doc, h, m.Jobs)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			err = decodeInto(doc, h, m.ServiceMonitors)
		case "monitoring.coreos.com/v1 PrometheusRule":
			err = decodeInto(doc, h, m.PrometheusRules)
		case "keda.sh/v1alpha1 ScaledObject":
			err = decodeInto(doc, h, m.ScaledObjects)
		default:
			err = fmt.Errorf("no Go type known for %s: add it to decodeAll", key)
		}
		if err != nil {
			return nil, fmt.Errorf("document %d (%s %s): %w", i, h.Kind, h.Metadata.Name, err)
		}
	}
	return m, nil
}

// decodeInto decodes doc strictly into a new T and files it by name; a
// second object of the same kind and name is an error.
func decodeInto[T any](doc string, h header, into map[string]*T) error {
	obj := new(T)
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		return err
	}
	if _, dup := into[h.Metadata.Name]; dup {
		return fmt.Errorf("rendered twice")
	}
	into[h.Metadata.Name] = obj
	return nil
}

// stripComments drops whole-line YAML comments (helm's "# Source:" lines).
func stripComments(doc string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
