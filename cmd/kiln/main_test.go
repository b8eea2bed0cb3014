package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/registry"
	regserver "github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
)

// startRegistry serves a registry over a temporary folder on loopback.
func startRegistry(t *testing.T) (url, dataDir string) {
	t.Helper()
	dataDir = t.TempDir()
	return testenv.StartRegistry(t, testenv.FolderStore(t, dataDir), storage.Options{}, regserver.Options{}).URL, dataDir
}

// kiln runs the CLI and returns its exit code, stdout and stderr.
func kiln(t *testing.T, reg string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(context.Background(), append([]string{"--registry", reg}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeModel(t *testing.T, dir string, seed float32) string {
	t.Helper()
	path := filepath.Join(dir, "model.onnx")
	if err := testenv.AdderModel(t, seed).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPushAliasShowPull(t *testing.T) {
	reg, _ := startRegistry(t)
	dir := t.TempDir()
	model := writeModel(t, dir, 1)
	metricsFile := filepath.Join(dir, "metrics.json")
	os.WriteFile(metricsFile, []byte(`{"auc": 0.8, "accuracy": 0.5}`), 0o644)
	example := filepath.Join(dir, "example.json")
	os.WriteFile(example, []byte(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`), 0o644)

	code, out, stderr := kiln(t, reg, "push", "iris", model, "--json", "--metric", "accuracy=0.97", "--metrics", metricsFile,
		"--param", "depth=3", "--tag", "team=ml", "--description", "first", "--input-example", example, "--alias", "staging")
	if code != 0 {
		t.Fatalf("push: exit %d: %s", code, stderr)
	}
	var pushed struct {
		Name    string
		Version int
		Digest  string
	}
	if err := json.Unmarshal([]byte(out), &pushed); err != nil || pushed.Name != "iris" || pushed.Version != 1 || !strings.HasPrefix(pushed.Digest, "sha256:") {
		t.Fatalf("push --json printed %q (%v)", out, err)
	}

	code, out, _ = kiln(t, reg, "show", "iris@staging", "--json")
	var v registry.Version
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Metrics["accuracy"] != 0.97 || v.Metrics["auc"] != 0.8 || v.Params["depth"] != "3" || v.Tags["team"] != "ml" || v.Description != "first" || len(v.InputExample) == 0 {
		t.Fatalf("show: exit %d: %s", code, out)
	}
	if code, out, _ = kiln(t, reg, "show", "iris@1"); code != 0 || !strings.Contains(out, "input:") || !strings.Contains(out, "accuracy=0.97") {
		t.Fatalf("show table: %s", out)
	}

	model2 := writeModel(t, t.TempDir(), 2)
	if code, out, _ = kiln(t, reg, "push", "iris", model2); code != 0 || !strings.Contains(out, "pushed iris@2") {
		t.Fatalf("second push: %d %s", code, out)
	}
	if code, out, _ = kiln(t, reg, "models"); code != 0 || !strings.Contains(out, "iris") || !strings.Contains(out, "staging=1") {
		t.Fatalf("models: %s", out)
	}
	if code, out, _ = kiln(t, reg, "versions", "iris"); code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("versions: %s", out)
	}

	// A move with a stale expected version fails and changes nothing.
	code, _, stderr = kiln(t, reg, "alias", "set", "iris", "staging", "2", "--expect", "2")
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "not the expected 2") {
		t.Fatalf("stale alias set: exit %d, stderr %q", code, stderr)
	}
	if code, out, _ = kiln(t, reg, "alias", "set", "iris", "staging", "2", "--expect", "1"); code != 0 || out != "iris@staging -> 2\n" {
		t.Fatalf("alias set: %d %q", code, out)
	}

	target := filepath.Join(t.TempDir(), "pulled.onnx")
	if code, _, stderr = kiln(t, reg, "pull", "iris@staging", "-o", target); code != 0 {
		t.Fatalf("pull: %s", stderr)
	}
	want, _ := os.ReadFile(model2)
	if got, _ := os.ReadFile(target); !bytes.Equal(got, want) {
		t.Fatal("pulled file differs from the pushed one")
	}

	if code, _, _ = kiln(t, reg, "alias", "rm", "iris", "staging"); code != 0 {
		t.Fatal("alias rm failed")
	}
	code, out, _ = kiln(t, reg, "events", "iris", "--json")
	var events registry.EventList
	if code != 0 || json.Unmarshal([]byte(out), &events) != nil || len(events.Events) != 5 {
		t.Fatalf("events: %s", out)
	}
}

func TestPullRefusesCorruptDownload(t *testing.T) {
	reg, dataDir := startRegistry(t)
	model := writeModel(t, t.TempDir(), 1)
	if code, _, stderr := kiln(t, reg, "push", "m", model); code != 0 {
		t.Fatal(stderr)
	}
	digest, _ := registry.FileDigest(model)
	blob := filepath.Join(dataDir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
	data, _ := os.ReadFile(model)
	data[len(data)-1] ^= 0xff // same size, different bytes
	os.WriteFile(blob, data, 0o644)
	outDir := t.TempDir()
	target := filepath.Join(outDir, "m.onnx")
	code, _, stderr := kiln(t, reg, "pull", "m@1", "-o", target)
	if code != 1 || !strings.Contains(stderr, "digest mismatch") {
		t.Fatalf("corrupt pull: exit %d, %q", code, stderr)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Fatalf("a corrupt pull left %v behind", entries)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	reg, _ := startRegistry(t)
	for _, args := range [][]string{
		{"push", "iris"},
		{"push", "Bad/Name", "x.onnx"},
		{"show", "iris"},
		{"show", "iris@../x"},
		{"alias", "set", "iris", "123", "1"},
		{"alias", "set", "iris", "prod", "one"},
		{"pull", "iris@1", "--nope"},
		{"push", "iris", "x.onnx", "--metric", "acc=high"},
	} {
		code, _, stderr := kiln(t, reg, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
	code, _, stderr := kiln(t, "http://127.0.0.1:1", "models")
	if code != 1 || !strings.Contains(stderr, "KILN_REGISTRY") {
		t.Errorf("unreachable registry: exit %d, %q", code, stderr)
	}
}
