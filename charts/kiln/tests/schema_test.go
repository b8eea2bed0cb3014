package tests

import (
	"strings"
	"testing"
)

// TestSchemaRejectsMisspeltKey checks that values.schema.json closes every
// object: a typo fails helm lint and helm template instead of being ignored.
func TestSchemaRejectsMisspeltKey(t *testing.T) {
	const values = "tests/testdata/misspelt-values.yaml"
	for _, args := range [][]string{
		{"lint", "--strict", ".", "-f", values},
		{"template", "kiln", ".", "-f", values},
	} {
		_, err := runHelm(t, args...)
		if err == nil {
			t.Errorf("helm %s accepted a misspelt key", args[0])
			continue
		}
		if !strings.Contains(err.Error(), "additional properties 'replicsa' not allowed") {
			t.Errorf("helm %s failed, but not on the misspelt key: %v", args[0], err)
		}
	}
}

// TestSchemaRejectsBadValues checks a few value errors the schema catches
// before anything renders, each with a message that names the key.
func TestSchemaRejectsBadValues(t *testing.T) {
	cases := map[string][]string{
		"model ref without @":   {"models[0].ref=iris", "/models/0/ref"},
		"typo in a model entry": {"models[0].ref=iris@production,models[0].replica=2", "'replica' not allowed"},
		"batching typo":         {"models[0].ref=iris@production,models[0].batching.max_batch=8", "'max_batch' not allowed"},
		"bad log level":         {"registry.logLevel=verbose", "/registry/logLevel"},
		"bad S3 endpoint":       {"s3.endpoint=s3.example.com", "/s3/endpoint"},
		"unknown storage":       {"registry.storage=disk", "/registry/storage"},
		"persistence typo":      {"registry.persistence.sise=1Gi", "'sise' not allowed"},
		"KEDA typo":             {"models[0].autoscaling.keda.treshold=3", "'treshold' not allowed"},
		"KEDA serve typo":       {"serve.autoscaling.keda.enable=true", "'enable' not allowed"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := runHelm(t, "template", "kiln", ".", "-f", ciValues("minimal-values.yaml"), "--set", c[0])
			if err == nil || !strings.Contains(err.Error(), c[1]) {
				t.Errorf("--set %s: want an error naming %q, got %v", c[0], c[1], err)
			}
		})
	}
}

// TestTemplateErrors checks the chart's own checks: missing settings fail
// with a message that says what to set.
func TestTemplateErrors(t *testing.T) {
	cases := map[string][]string{
		"S3 without a bucket": {"registry.storage=s3,s3Server.enabled=false", "s3.bucket is required with registry.storage=s3"},
		"client token alone":  {"auth.tokensSecret=", "auth.clientTokenSecret is set but auth.tokensSecret is not"},
		"no client token":     {"auth.clientTokenSecret=", "auth.clientTokenSecret is required"},
		"no registry URL":     {"registry.enabled=false", "registry.externalURL is required"},
		"two models one name": {"models[1].ref=iris@staging", `two entries are named "iris"`},
		"KEDA without server": {"models[0].autoscaling.keda.enabled=true", "autoscaling.keda.serverAddress is required"},
		"KEDA without autoscaling": {"models[0].autoscaling.enabled=false,models[0].autoscaling.keda.enabled=true,models[0].autoscaling.keda.serverAddress=http://prom:9090",
			"autoscaling.keda.enabled needs autoscaling.enabled"},
		"KEDA and a custom metric": {"models[0].autoscaling.keda.enabled=true,models[0].autoscaling.keda.serverAddress=http://prom:9090,models[0].autoscaling.customMetric.enabled=true",
			"customMetric is an HPA metric"},
		"file storage, redirects":  {"s3Server.enabled=false,registry.redirectDownloads=true", "registry.redirectDownloads hands clients presigned S3 URLs"},
		"file storage, 3 replicas": {"s3Server.enabled=false,registry.replicas=3", "file storage (registry.storage=file) has one volume"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := runHelm(t, "template", "kiln", ".", "-f", ciValues("minimal-values.yaml"), "--set", c[0])
			if err == nil || !strings.Contains(err.Error(), c[1]) {
				t.Errorf("--set %s: want an error containing %q, got %v", c[0], c[1], err)
			}
		})
	}
}
