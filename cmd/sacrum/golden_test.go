package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// goldenCases runs each case of testdata/<command>/<case>/ as a subtest, with the text of the case's
// "args" file; directories without one (shared inputs) are not cases.
func goldenCases(t *testing.T, command string, run func(t *testing.T, dir, args string)) {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", command, "*", "args"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases under testdata/%s: %v", command, err)
	}
	for _, a := range dirs {
		dir := filepath.Dir(a)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(a)
			if err != nil {
				t.Fatal(err)
			}
			run(t, dir, string(raw))
		})
	}
}

// resetGolden removes a case's golden outputs before an -update-* run rewrites them, so a case
// whose outcome changed (stdout ↔ error) keeps only the current one.
func resetGolden(dir string, names ...string) {
	for _, name := range names {
		os.Remove(filepath.Join(dir, name))
	}
}

// checkGolden compares got with the golden file dir/name, or writes got there when update is
// set. With asJSON both sides are parsed and compared number by number (compareJSON), so the
// last bits of floating point cannot break the comparison.
func checkGolden(t *testing.T, dir, name, got string, update, asJSON bool) {
	t.Helper()
	path := filepath.Join(dir, name)
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (got %s: %s)", err, name, got)
	}
	if asJSON {
		var g, w any
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("%s is not JSON: %v\n%s", name, err, got)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatalf("golden %s: %v", path, err)
		}
		compareJSON(t, name, g, w)
		return
	}
	if got != string(want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// compareJSON compares two decoded JSON values, numbers within ±1e-9; path names the position
// in error messages.
func compareJSON(t *testing.T, path string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: got %v, want %v", path, got, want)
			return
		}
		for k := range w {
			compareJSON(t, path+"."+k, g[k], w[k])
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: got %v, want %v", path, got, want)
			return
		}
		for i := range w {
			compareJSON(t, path, g[i], w[i])
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", path, got, w)
		}
	default:
		if got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
}
