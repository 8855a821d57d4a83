package infer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryEnv is the environment variable that names the ONNX Runtime shared library.
const LibraryEnv = "SACRUM_ORT_LIB"

// DefaultLibrary is where scripts/setup.sh puts the library, relative to the repository (or the binary).
const DefaultLibrary = ".cache/onnxruntime-1.30.0/libonnxruntime.so.1"

// FindLibrary returns the ONNX Runtime library to use. Search order:
//  1. configured (config.yaml pipeline.onnxruntime_library), if not empty — it must exist;
//  2. $SACRUM_ORT_LIB, if set — it must exist;
//  3. DefaultLibrary under the working directory or any of its parents (a checkout: tests run in package dirs);
//  4. DefaultLibrary next to the executable, or under its parent directory (bin/sacrum in a checkout).
func FindLibrary(configured string) (string, error) {
	if configured != "" {
		return existing(configured, "pipeline.onnxruntime_library")
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		return existing(env, "$"+LibraryEnv)
	}
	p, err := FindFile(DefaultLibrary)
	if err != nil {
		return "", fmt.Errorf("onnxruntime: library not found (set pipeline.onnxruntime_library or $%s, or run scripts/setup.sh): %w", LibraryEnv, err)
	}
	return p, nil
}

func existing(p, from string) (string, error) {
	if !fileExists(p) {
		return "", fmt.Errorf("onnxruntime: library %s (from %s) not found: run scripts/setup.sh or fix the path", p, from)
	}
	return p, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Runtime is an initialised ONNX Runtime. Sessions made from it may run concurrently.
type Runtime struct {
	Library string
}

// The ONNX Runtime environment of onnxruntime_go is process-global (one OrtEnv per process, library path set
// before initialisation). This is the one place sacrum keeps global state, because the library forces it:
// the first successful Open fixes the library; later Opens with the same path share it.
var env struct {
	sync.Mutex
	library string
}

// Open initialises ONNX Runtime from the shared library at path (see FindLibrary), once per process.
func Open(path string) (*Runtime, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("onnxruntime: %w", err)
	}
	if !fileExists(abs) {
		return nil, fmt.Errorf("onnxruntime: library %s not found: run scripts/setup.sh or set $%s", abs, LibraryEnv)
	}
	env.Lock()
	defer env.Unlock()
	if env.library != "" {
		if env.library != abs {
			return nil, fmt.Errorf("onnxruntime: already initialised with %s, cannot switch to %s in the same process", env.library, abs)
		}
		return &Runtime{Library: abs}, nil
	}
	ort.SetSharedLibraryPath(abs)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return nil, fmt.Errorf("onnxruntime: initialising %s: %w", abs, err)
	}
	env.library = abs
	return &Runtime{Library: abs}, nil
}

// OpenDefault finds the library (FindLibrary with the configured path, possibly empty) and opens it.
func OpenDefault(configured string) (*Runtime, error) {
	p, err := FindLibrary(configured)
	if err != nil {
		return nil, err
	}
	return Open(p)
}

// ErrNotOpen is returned when a model is used without an opened Runtime.
var ErrNotOpen = errors.New("onnxruntime: runtime not opened")
