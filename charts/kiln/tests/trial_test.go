package tests

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestNoValuesTrial: `helm install kiln charts/kiln` with no values renders
// a trial that decodes strictly: one registry on a PersistentVolumeClaim
// with its file store, generated tokens, nothing that needs S3.
func TestNoValuesTrial(t *testing.T) {
	m, err := decodeAll(renderDefaults(t))
	if err != nil {
		t.Fatal(err)
	}
	checkWiring(t, m)
	checkSecurity(t, m)
	reg := m.Deployments["kiln-registry"]
	if reg == nil || len(m.Deployments) != 1 {
		t.Fatalf("want the registry Deployment only, got %v", keys(m.Deployments))
	}
	if reg.Spec.Replicas == nil || *reg.Spec.Replicas != 1 || reg.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("registry on a ReadWriteOnce volume: want 1 replica and the Recreate strategy, got %v and %q", reg.Spec.Replicas, reg.Spec.Strategy.Type)
	}
	pod := reg.Spec.Template.Spec
	data := volume(pod, "data")
	if data == nil || data.PersistentVolumeClaim == nil {
		t.Fatalf("registry has no data volume on a claim: %+v", data)
	}
	pvc := m.PVCs[data.PersistentVolumeClaim.ClaimName]
	if pvc == nil || pvc.Annotations["helm.sh/resource-policy"] != "keep" || pvc.Spec.Resources.Requests.Storage().String() != "10Gi" {
		t.Fatalf("registry claim %s: %+v", data.PersistentVolumeClaim.ClaimName, pvc)
	}
	c := pod.Containers[0]
	mount := slices.IndexFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool { return vm.Name == "data" })
	store, _ := envValue(c, "KILN_STORE")
	if mount < 0 || !strings.HasPrefix(store.Value, "file://"+c.VolumeMounts[mount].MountPath+"/") {
		t.Errorf("KILN_STORE %q is not a folder on the data volume (mounts %+v)", store.Value, c.VolumeMounts)
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "KILN_S3_") || strings.HasPrefix(e.Name, "AWS_") {
			t.Errorf("file storage, yet the registry gets %s", e.Name)
		}
	}
	if m.Deployments["kiln-s3"] != nil || len(m.HPAs) != 0 {
		t.Error("the trial renders an S3 server or an HPA")
	}
	if sec := m.Secrets["kiln-tokens"]; sec == nil || len(sec.Data["admin"]) < 40 || len(sec.Data["reader"]) < 40 || sec.Data["tokens"] == nil {
		t.Errorf("generated tokens Secret: %+v", sec)
	}
}

// TestNoValuesTemplateErrors: the trial's own limits fail with a message
// that says what to do.
func TestNoValuesTemplateErrors(t *testing.T) {
	cases := map[string][]string{
		"more replicas":    {"registry.replicas=2", "set it to 1, or keep models in S3"},
		"own client token": {"auth.clientTokenSecret=mine", "set auth.tokensSecret too, or leave both empty"},
		"explicit S3":      {"registry.storage=s3", "s3.bucket is required"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := runHelm(t, "template", "kiln", ".", "--set", c[0])
			if err == nil || !strings.Contains(err.Error(), c[1]) {
				t.Errorf("--set %s: want an error containing %q, got %v", c[0], c[1], err)
			}
		})
	}
	// The ways out of the trial render: S3 gets two registry replicas and no claim.
	m, err := decodeAll(renderDefaults(t, "--set", "s3.bucket=models"))
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Deployments["kiln-registry"]; *r.Spec.Replicas != 2 || len(m.PVCs) != 0 {
		t.Errorf("s3.bucket set: want 2 replicas and no claim, got %d and %v", *r.Spec.Replicas, keys(m.PVCs))
	}
}

// TestNoValuesRegistryRuns starts a real kiln-registry (built here, as its
// image builds it) with the container's rendered command, arguments and
// environment, its volumes stood in for by folders (the rendered Secrets
// written into theirs), and checks that the probes pass, that the
// generated tokens are the ones the generated tokens file accepts, and that
// a pushed model lands on the data volume.
func TestNoValuesRegistryRuns(t *testing.T) {
	m, err := decodeAll(renderDefaults(t))
	if err != nil {
		t.Fatal(err)
	}
	reg := m.Deployments["kiln-registry"]
	pod := reg.Spec.Template.Spec
	c := pod.Containers[0]
	root := t.TempDir()
	mounts := map[string]string{}
	for _, vm := range c.VolumeMounts {
		dir := filepath.Join(root, "volumes", vm.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		mounts[vm.MountPath] = dir
		v := volume(pod, vm.Name)
		switch {
		case v == nil:
			t.Fatalf("mount %s names no volume", vm.Name)
		case v.Secret != nil:
			sec := m.Secrets[v.Secret.SecretName]
			if sec == nil {
				t.Fatalf("volume %s: Secret %s is not rendered", vm.Name, v.Secret.SecretName)
			}
			for key, data := range sec.Data {
				if err := os.WriteFile(filepath.Join(dir, key), data, 0o440); err != nil {
					t.Fatal(err)
				}
			}
		case v.PersistentVolumeClaim != nil:
			if m.PVCs[v.PersistentVolumeClaim.ClaimName] == nil {
				t.Fatalf("volume %s: claim %s is not rendered", vm.Name, v.PersistentVolumeClaim.ClaimName)
			}
		case v.EmptyDir != nil:
		default:
			t.Fatalf("volume %s: no stand-in for %+v", vm.Name, v.VolumeSource)
		}
	}
	port := freePort(t)
	var env []string
	for _, e := range c.Env {
		value := e.Value
		if e.ValueFrom != nil {
			ref := e.ValueFrom.SecretKeyRef
			if ref == nil || m.Secrets[ref.Name] == nil {
				t.Fatalf("env %s: only values from rendered Secrets are supported, got %+v", e.Name, e.ValueFrom)
			}
			value = string(m.Secrets[ref.Name].Data[ref.Key])
		}
		if e.Name == "KILN_ADDR" {
			// The container listens on its port on all interfaces; here, on loopback.
			if value != fmt.Sprintf(":%d", c.Ports[0].ContainerPort) {
				t.Errorf("KILN_ADDR %q is not the container port %d", value, c.Ports[0].ContainerPort)
			}
			value = fmt.Sprintf("127.0.0.1:%d", port)
		}
		env = append(env, e.Name+"="+localPaths(value, mounts))
	}
	if len(c.Command) > 0 {
		t.Fatalf("container command %v: the test runs the image's entrypoint, kiln-registry", c.Command)
	}
	cmd := exec.Command(buildRegistry(t), c.Args...)
	cmd.Env = env
	cmd.Dir = root
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for _, probe := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
		waitOK(t, base+probe.HTTPGet.Path, exited, &waitErr, &logs)
	}

	tokens := m.Secrets["kiln-tokens"].Data
	admin, reader := string(tokens["admin"]), string(tokens["reader"])
	for token, want := range map[string]int{"": http.StatusUnauthorized, "kiln_wrong": http.StatusUnauthorized, admin: http.StatusOK, reader: http.StatusOK} {
		if got := get(t, base+"/api/v1/models", token); got != want {
			t.Errorf("GET /api/v1/models with token %.8q: %d, want %d", token, got, want)
		}
	}
	model, err := os.ReadFile(filepath.Join(chartDir, "..", "..", "examples", "drift", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if got := push(t, base, reader, model); got != http.StatusForbidden {
		t.Errorf("push with the reader token: %d, want 403", got)
	}
	if got := push(t, base, admin, model); got != http.StatusCreated {
		t.Fatalf("push with the admin token: %d, want 201; registry log:\n%s", got, logs.String())
	}
	sum := sha256.Sum256(model)
	blob := filepath.Join(mounts["/var/lib/kiln"], "models", "blobs", "sha256", hex.EncodeToString(sum[:]))
	if _, err := os.Stat(blob); err != nil {
		t.Errorf("the pushed model is not on the data volume: %v", err)
	}
}

// localPaths rewrites the container paths in value (mount points, whole
// path elements) to the folders that stand in for them, in one pass.
func localPaths(value string, mounts map[string]string) string {
	var paths []string
	for p := range mounts {
		paths = append(paths, p)
	}
	slices.SortFunc(paths, func(a, b string) int { return len(b) - len(a) })
	var b strings.Builder
	for i := 0; i < len(value); {
		matched := false
		for _, p := range paths {
			end := i + len(p)
			if strings.HasPrefix(value[i:], p) && (end == len(value) || value[end] == '/') && (i == 0 || !isWordByte(value[i-1])) {
				b.WriteString(mounts[p])
				i, matched = end, true
				break
			}
		}
		if !matched {
			b.WriteByte(value[i])
			i++
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

var (
	registryOnce sync.Once
	registryBin  string
	registryErr  error
)

// buildRegistry compiles kiln-registry from the repository root without cgo,
// as the image does, once per test run.
func buildRegistry(t *testing.T) string {
	t.Helper()
	registryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kiln-chart-registry")
		if err != nil {
			registryErr = err
			return
		}
		registryBin = filepath.Join(dir, "kiln-registry")
		cmd := exec.Command("go", "build", "-o", registryBin, "./cmd/registry")
		cmd.Dir = filepath.Join(chartDir, "..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			registryErr = fmt.Errorf("go build ./cmd/registry: %w\n%s", err, out)
		}
	})
	if registryErr != nil {
		t.Fatal(registryErr)
	}
	return registryBin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitOK polls url until it answers 200, for at most 30 seconds.
func waitOK(t *testing.T, url string, exited <-chan struct{}, waitErr *error, logs *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("kiln-registry exited (%v) before %s answered:\n%s", *waitErr, url, logs.String())
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 (last: %v %v); registry log:\n%s", url, resp, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return do(t, req, token)
}

// push sends model as version 1..N of model "trial" (docs/api.md, Push).
func push(t *testing.T, base, token string, model []byte) int {
	t.Helper()
	sum := sha256.Sum256(model)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("meta", `{"digest":"sha256:`+hex.EncodeToString(sum[:])+`"}`)
	part, _ := w.CreateFormFile("model", "model.onnx")
	part.Write(model)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/models/trial/versions", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return do(t, req, token)
}

func do(t *testing.T, req *http.Request, token string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
