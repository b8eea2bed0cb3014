package tests

import (
	"testing"
)

// TestExternalS3 checks the external endpoint and the existing credentials
// Secret reach the registry, and no bundled S3 server renders.
func TestExternalS3(t *testing.T) {
	m := renderDecoded(t, "external-s3-values.yaml")
	if m.Deployments["kiln-s3"] != nil {
		t.Error("external S3 values render the bundled S3 server")
	}
	c := m.Deployments["kiln-registry"].Spec.Template.Spec.Containers[0]
	for name, want := range map[string]string{
		"KILN_STORE":         "s3://ml-models/kiln/prod",
		"KILN_S3_ENDPOINT":   "https://s3.storage.example.internal:9000",
		"KILN_S3_REGION":     "us-east-1",
		"KILN_S3_PATH_STYLE": "true",
		"KILN_AUTH":          "tokens",
		"KILN_TOKENS_FILE":   "/etc/kiln/auth/tokens",
	} {
		if e, ok := envValue(c, name); !ok || e.Value != want {
			t.Errorf("registry env %s = %q, want %q", name, e.Value, want)
		}
	}
	for name, key := range map[string]string{"AWS_ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY"} {
		e, ok := envValue(c, name)
		if !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != "kiln-s3-credentials" || e.ValueFrom.SecretKeyRef.Key != key {
			t.Errorf("registry %s does not come from Secret kiln-s3-credentials key %s: %+v", name, key, e)
		}
	}
	if tokens := volume(m.Deployments["kiln-registry"].Spec.Template.Spec, "tokens"); tokens == nil || tokens.Secret.SecretName != "kiln-registry-tokens" {
		t.Errorf("registry tokens volume: %+v", tokens)
	}
}

// TestBundledS3 checks the trial S3 server: a generated credentials Secret
// shared by the server and the registry, a bucket created on its volume.
func TestBundledS3(t *testing.T) {
	m := renderDecoded(t, "minimal-values.yaml")
	s3 := m.Deployments["kiln-s3"]
	if s3 == nil {
		t.Fatal("minimal values enable the bundled S3 server, but it does not render")
	}
	sec := m.Secrets["kiln-s3"]
	if sec == nil || len(sec.Data["rootUser"]) == 0 || len(sec.Data["rootPassword"]) < 32 {
		t.Fatalf("bundled S3 credentials Secret: %+v", sec)
	}
	server := s3.Spec.Template.Spec.Containers[0]
	if e, _ := envValue(server, "ROOT_ACCESS_KEY_ID"); e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != "kiln-s3" {
		t.Errorf("S3 server root key not from Secret kiln-s3: %+v", e)
	}
	if init := s3.Spec.Template.Spec.InitContainers; len(init) != 1 || init[0].Command[len(init[0].Command)-2] != "/data/buckets/kiln" {
		t.Errorf("init container does not create the bucket folder: %+v", init)
	}
	if m.PVCs["kiln-s3"] == nil || volume(s3.Spec.Template.Spec, "data").PersistentVolumeClaim == nil {
		t.Error("bundled S3 data is not on its PersistentVolumeClaim")
	}
	rc := m.Deployments["kiln-registry"].Spec.Template.Spec.Containers[0]
	if e, _ := envValue(rc, "KILN_S3_ENDPOINT"); e.Value != "http://kiln-s3:7070" {
		t.Errorf("registry KILN_S3_ENDPOINT = %q, want the bundled server", e.Value)
	}
	if e, _ := envValue(rc, "AWS_SECRET_ACCESS_KEY"); e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != "kiln-s3" || e.ValueFrom.SecretKeyRef.Key != "rootPassword" {
		t.Errorf("registry secret key not from the bundled S3 Secret: %+v", e)
	}
}
