// Package testenv holds test helpers: where the ONNX Runtime library is,
// fixture models built with pkg/onnx, and real servers started on loopback.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the module's root folder (the one holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// ORTLibrary returns the ONNX Runtime library for tests: $KILN_ORT_LIB, else
// lib/libonnxruntime.so.1 in the repository (installed by scripts/setup-ort.sh).
// It fails the test with the fix when neither exists.
func ORTLibrary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("KILN_ORT_LIB")
	if path == "" {
		path = filepath.Join(RepoRoot(t), "lib", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("ONNX Runtime library not found at %s: run scripts/setup-ort.sh (make setup) or set KILN_ORT_LIB", path)
	}
	return path
}
