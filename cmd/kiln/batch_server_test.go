package main

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// TestBatchThroughServerMatchesInProcess scores the same file in-process
// and through kiln-serve's HTTP handler on loopback, with a bad row, and
// expects the same output and the same errors file.
func TestBatchThroughServerMatchesInProcess(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	t.Setenv("KILN_ORT_LIB", lib)
	if err := runtime.Init(lib); err != nil {
		t.Fatal(err)
	}
	models := serve.NewManager(serve.ManagerOptions{})
	defer models.Close()
	if err := models.Load(serve.Source{Name: "iris", Version: 1, Path: irisExample(t, "model.onnx")}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(serve.NewServer(models, serve.Options{Logger: slog.New(slog.DiscardHandler)}).Handler())
	defer srv.Close()

	dir := t.TempDir()
	data, _ := os.ReadFile(irisExample(t, "iris-named.csv"))
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte(strings.Replace(string(data), "4.7,3.2", "4.7,", 1)), 0o644)
	features := "sepal_length,sepal_width,petal_length,petal_width"
	outputs := map[string]string{}
	for name, args := range map[string][]string{
		"local":  {"--model", irisExample(t, "model.onnx")},
		"server": {"--server", srv.URL, "--model", "iris", "--features", features},
	} {
		out := filepath.Join(dir, name+".csv")
		args = append([]string{"batch", "--input", in, "--output", out, "--on-error", "skip", "--batch-size", "40"}, args...)
		code, _, stderr := kiln(t, "http://127.0.0.1:1", args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		got, _ := os.ReadFile(out)
		bad, _ := os.ReadFile(out + ".errors.jsonl")
		if !strings.Contains(string(bad), `"row":2,`) || strings.Count(string(bad), "\n") != 1 {
			t.Errorf("%s errors file: %s", name, bad)
		}
		outputs[name] = string(got)
	}
	if outputs["local"] != outputs["server"] || strings.Count(outputs["local"], "\n") != 150 {
		t.Errorf("server output differs from in-process output or lacks rows:\n%.300s\n---\n%.300s", outputs["local"], outputs["server"])
	}
}
