package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateEvaluate = flag.Bool("update-evaluate", false, "rewrite the golden outputs under testdata/evaluate")

// TestEvaluateGolden runs each case of testdata/evaluate/<case>/: args (one
// per line, "predictions.csv" meaning the case's file) and the expected
// stdout, or the expected error in "error". JSON output is compared number
// by number (±1e-9) so the last bits of floating point cannot break it.
func TestEvaluateGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "evaluate", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "args"))
			if err != nil {
				t.Fatal(err)
			}
			csvPath := filepath.Join(dir, "predictions.csv")
			args := []string{"evaluate"}
			for _, a := range strings.Fields(string(raw)) {
				if a == "predictions.csv" {
					a = csvPath
				}
				args = append(args, a)
			}
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr}
			runErr := m.Run(context.Background(), args)
			got, file := stdout.String(), "stdout"
			if runErr != nil {
				got, file = strings.ReplaceAll(runErr.Error(), csvPath, "predictions.csv")+"\n", "error"
			}
			path := filepath.Join(dir, file)
			if *updateEvaluate {
				os.Remove(filepath.Join(dir, "stdout"))
				os.Remove(filepath.Join(dir, "error"))
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (got %s: %s)", err, file, got)
			}
			if file == "stdout" && strings.Contains(strings.Join(args, " "), "--json") {
				var g, w any
				if err := json.Unmarshal([]byte(got), &g); err != nil {
					t.Fatalf("output is not JSON: %v\n%s", err, got)
				}
				if err := json.Unmarshal(want, &w); err != nil {
					t.Fatal(err)
				}
				compareJSON(t, "", g, w)
				return
			}
			if got != string(want) {
				t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", file, got, want)
			}
		})
	}
}

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

// TestEvaluateMatchesR checks the JSON of the cohort case against the values
// R (pROC, Hmisc, glm) computed for the same data in pipeline/learn's golden
// files: the command must wire the statistics to the right keys.
func TestEvaluateMatchesR(t *testing.T) {
	var stdout bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stdout}
	err := m.Run(context.Background(), []string{"evaluate", "--predictions", filepath.Join("testdata", "evaluate", "json_reference", "predictions.csv"),
		"--outcome", "asas40", "--reference", "clinical", "--json"})
	if err != nil {
		t.Fatal(err)
	}
	var rep evaluateReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "pipeline", "learn", "testdata", "golden", "cohort.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Models map[string]struct {
			AUC        float64    `json:"auc"`
			CIDeLong   [2]float64 `json:"ci_delong"`
			Slope      float64    `json:"calibration_slope"`
			InTheLarge float64    `json:"calibration_in_the_large"`
			Brier      float64    `json:"brier"`
		} `json:"models"`
		Tests map[string]struct {
			DeLongZ float64 `json:"delong_z"`
			IDI     float64 `json:"idi"`
			NRI     float64 `json:"nri"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if rep.N != 150 || len(rep.Models) != 3 || len(rep.Comparisons) != 2 {
		t.Fatalf("n %d, %d models, %d comparisons", rep.N, len(rep.Models), len(rep.Comparisons))
	}
	for col, rname := range map[string]string{"clinical": "ref", "dlrc": "new", "weak": "weak"} {
		g, w := rep.Models[col], r.Models[rname]
		for _, c := range []struct {
			what      string
			got, want float64
		}{
			{"auc", g.AUC, w.AUC}, {"ci low", g.AUCCIDeLong[0], w.CIDeLong[0]}, {"ci high", g.AUCCIDeLong[1], w.CIDeLong[1]},
			{"slope", g.CalibrationSlope, w.Slope}, {"intercept", g.CalibrationIntercept, w.InTheLarge}, {"brier", g.Brier, w.Brier},
		} {
			if math.Abs(c.got-c.want) > 1e-6 {
				t.Errorf("%s %s = %v, R %v", col, c.what, c.got, c.want)
			}
		}
	}
	for col, rname := range map[string]string{"dlrc": "new", "weak": "weak"} {
		g, w := rep.Comparisons[col], r.Tests[rname]
		if g.Reference != "clinical" || math.Abs(g.DeLongZ-w.DeLongZ) > 1e-6 || math.Abs(g.IDI-w.IDI) > 1e-6 || math.Abs(g.NRI-w.NRI) > 1e-6 {
			t.Errorf("%s: %+v, R %+v", col, g, w)
		}
	}
}

func TestEvaluateUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"evaluate"},
		{"evaluate", "--outcome", "y"},
		{"evaluate", "--predictions", "x.csv", "--outcome", "y", "extra"},
		{"evaluate", "--bogus"},
	} {
		var out bytes.Buffer
		err := (&Main{Stdout: &out, Stderr: &out}).Run(context.Background(), args)
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != 2 {
			t.Errorf("%v: error %v, want a usage error (exit 2)", args, err)
		}
	}
}
