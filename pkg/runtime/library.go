// Package runtime runs ONNX models with ONNX Runtime (through
// github.com/yalue/onnxruntime_go): the process environment, models loaded
// from files with their signature, and Run over pkg/oip tensors.
package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryName is the file name of the ONNX Runtime shared library.
const LibraryName = "libonnxruntime.so.1"

// FindLibrary returns where to load ONNX Runtime from: explicit (a --ort-lib
// flag) when set, then $KILN_ORT_LIB, then lib/ beside the folder that holds
// the running binary (bin/kiln-serve -> lib/), and otherwise the bare library
// name, left to the system loader's search path.
func FindLibrary(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if env := os.Getenv("KILN_ORT_LIB"); env != "" {
		return env
	}
	if exe, err := os.Executable(); err == nil {
		candidate := filepath.Join(filepath.Dir(filepath.Dir(exe)), "lib", LibraryName)
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
	}
	return LibraryName
}

var env struct {
	sync.Mutex
	path string
}

// Init loads the ONNX Runtime library at path and creates the process-wide
// environment. Later calls do nothing and return nil.
func Init(path string) error {
	env.Lock()
	defer env.Unlock()
	if env.path != "" {
		return nil
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("cannot load ONNX Runtime 1.24 from %s (run scripts/setup-ort.sh, or pass --ort-lib or KILN_ORT_LIB): %w", path, err)
	}
	env.path = path
	return nil
}

// Version returns the version of the loaded ONNX Runtime library.
func Version() string { return ort.GetVersion() }
