package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/learn"
)

// trainTestBundle trains the asas40 bundle of testdata/train/data into a temporary directory.
func trainTestBundle(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	data := filepath.Join("testdata", "train", "data")
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	if err := m.Run(context.Background(), []string{"train", "--features", filepath.Join(data, "features.csv"),
		"--clinical", filepath.Join(data, "clinical.csv"), "--config", filepath.Join(data, "train.yaml"),
		"--endpoint", "asas40", "--out", out}); err != nil {
		t.Fatal(err)
	}
	return out
}

// editCSV writes a copy of a testdata/train/data CSV with edit applied to its records.
func editCSV(t *testing.T, name string, edit func(recs [][]string) [][]string) string {
	t.Helper()
	recs, _, err := readCSVFile(filepath.Join("testdata", "train", "data", name))
	if err != nil {
		t.Fatal(err)
	}
	recs = edit(recs)
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvaluateBundle(t *testing.T) {
	dir := trainTestBundle(t)
	b, err := learn.LoadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	need := b.Features()[0]
	data := filepath.Join("testdata", "train", "data")
	features, clinical := filepath.Join(data, "features.csv"), filepath.Join(data, "clinical.csv")
	col := func(recs [][]string, name string) int { return columnIndex(recs[0], name) }
	noCRP := editCSV(t, "clinical.csv", func(recs [][]string) [][]string {
		recs[3][col(recs, "asdas_crp")] = "NA"
		return recs
	})
	for _, tc := range []struct {
		name string
		args []string
		want []string // in stdout, or in the error when fail
		fail bool
	}{
		{"table", []string{"--features", features, "--clinical", clinical},
			[]string{"ASAS40\n", "140 patients, 64 events", "dlrc", "clinical", "IDI"}, false},
		{"test split", []string{"--features", features, "--clinical", clinical, "--split", "test"},
			[]string{"28 patients, 13 events"}, false},
		{"missing clinical value: DLR-only fallback", []string{"--features", features, "--clinical", noCRP},
			[]string{"1 patients lack a clinical input", "dlrc"}, false},
		{"no features flag", []string{"--clinical", clinical}, []string{"needs --features and --clinical"}, true},
		{"missing feature column", []string{"--clinical", clinical, "--features", editCSV(t, "features.csv", func(recs [][]string) [][]string {
			j := col(recs, need)
			for i := range recs {
				recs[i] = append(recs[i][:j:j], recs[i][j+1:]...)
			}
			return recs
		})}, []string{"needs feature \"" + need + "\""}, true},
		{"NaN feature", []string{"--clinical", clinical, "--features", editCSV(t, "features.csv", func(recs [][]string) [][]string {
			recs[5][col(recs, need)] = "NaN"
			return recs
		})}, []string{"row 6: feature \"" + need + "\" is \"NaN\""}, true},
		{"missing outcome column", []string{"--features", features, "--endpoint", "asas40", "--clinical", editCSV(t, "clinical.csv", func(recs [][]string) [][]string {
			recs[0][col(recs, "asas40")] = "other"
			return recs
		})}, []string{"outcome column \"asas40\" not found"}, true},
		{"unknown endpoint", []string{"--features", features, "--clinical", clinical, "--endpoint", "asas20"}, []string{"no endpoint \"asas20\""}, true},
		{"with --predictions", []string{"--features", features, "--clinical", clinical, "--outcome", "asas40"}, []string{"do not apply"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &bytes.Buffer{}}
			err := m.Run(context.Background(), append([]string{"evaluate", "--bundle", dir}, tc.args...))
			got := stdout.String()
			if tc.fail {
				if err == nil {
					t.Fatalf("no error; stdout:\n%s", got)
				}
				got = err.Error()
			} else if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			if strings.Contains(got, "NaN") && !tc.fail {
				t.Errorf("NaN in output:\n%s", got)
			}
		})
	}
}
