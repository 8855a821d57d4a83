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
	goldenCases(t, "evaluate", func(t *testing.T, dir, rawArgs string) {
		csvPath := filepath.Join(dir, "predictions.csv")
		args := []string{"evaluate"}
		for _, a := range strings.Fields(rawArgs) {
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
		if *updateEvaluate {
			resetGolden(dir, "stdout", "error")
		}
		asJSON := file == "stdout" && strings.Contains(strings.Join(args, " "), "--json")
		checkGolden(t, dir, file, got, *updateEvaluate, asJSON)
	})
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
