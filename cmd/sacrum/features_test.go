package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/synth"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
)

// TestFeaturesCohort runs `sacrum features` on a small cohort and checks the CSV contract of pipeline/study
// (rows per patient and reader, ROI-prefixed radiomics and deep features), and that reader 1's row equals
// what the node computes from the same segmentation sent as a DICOM SEG (training/inference parity).
func TestFeaturesCohort(t *testing.T) {
	requireModels(t)
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{Out: dir, Patients: 2, Seed: 4, Matrix: 96, Slices: 8}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "features.csv")
	var stdout, stderr bytes.Buffer
	c := &FeaturesCommand{Stdout: &stdout, Stderr: &stderr}
	if err := c.Run(context.Background(), []string{"--cohort", dir, "--out", out, "--workers", "2"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "2/2 patients") || !strings.Contains(stdout.String(), "2 patients × 2 readers") {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	head := rows[0]
	if len(rows) != 5 || head[0] != "patient_id" || head[1] != "reader" {
		t.Fatalf("%d rows, header %v", len(rows), head[:3])
	}
	for i, want := range [][2]string{{"SYN0001", "1"}, {"SYN0001", "2"}, {"SYN0002", "1"}, {"SYN0002", "2"}} {
		if rows[i+1][0] != want[0] || rows[i+1][1] != want[1] {
			t.Errorf("row %d: %v, want %v", i+1, rows[i+1][:2], want)
		}
	}
	cols := map[string]int{}
	for j, h := range head {
		cols[h] = j
	}
	for _, name := range []string{"left_original_shape_VoxelVolume", "right_original_firstorder_Mean", "both_original_glcm_JointEntropy",
		"left_deep_encoder_0", "both_deep_encoder_15"} {
		if _, ok := cols[name]; !ok {
			t.Errorf("no column %s", name)
		}
	}

	// Parity: the node's analysis of the study with reader 1's SEG gives reader 1's row.
	pc := DefaultPipelineConfig()
	pc.SegmentationModel = ""
	an, err := pc.openAnalyzer()
	if err != nil {
		t.Fatal(err)
	}
	defer an.Models.Close()
	st, err := volume.ReadDir(context.Background(), synth.PatientDir(dir, "SYN0001"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := an.Analyze(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Provided {
		t.Fatal("the study's SEG was not used")
	}
	n := 0
	for name, j := range cols {
		if j < 2 {
			continue
		}
		cell := rows[1][j]
		v, ok := a.Features.Values[name]
		if !ok {
			t.Errorf("%s: in the CSV, not computed by the node", name)
			continue
		}
		if cell == "" {
			if !math.IsNaN(v) {
				t.Errorf("%s: empty in the CSV, %v in the node", name, v)
			}
			continue
		}
		x, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(x-v) > 1e-9*math.Max(1, math.Abs(v)) {
			t.Errorf("%s: CSV %v, node %v", name, x, v)
		}
		n++
	}
	if n < 300 {
		t.Errorf("only %d features compared", n)
	}
}

// TestFeaturesErrors: bad arguments and cohorts give clear errors.
func TestFeaturesErrors(t *testing.T) {
	requireModels(t)
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{Out: dir, Patients: 1, Seed: 4, Matrix: 64, Slices: 4}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(synth.PatientDir(dir, "SYN0001"), "labels", "reader2.nii.gz")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"no cohort", []string{"--out", "x.csv"}, true, "--cohort and --out are required"},
		{"not a cohort", []string{"--cohort", t.TempDir(), "--out", "x.csv"}, true, "sacrum synth` layout"},
		{"missing reader 2", []string{"--cohort", dir, "--out", filepath.Join(t.TempDir(), "f.csv"), "--quiet"}, false, "patient SYN0001: reader 2"},
	} {
		err := (&FeaturesCommand{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}).Run(context.Background(), c.args)
		var ee *ExitError
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, &ee) != c.usage {
			t.Errorf("%s: %v, want %q (usage error %v)", c.name, err, c.want, c.usage)
		}
	}
}

// TestFeaturesDICOMCohort: a cohort of DICOM folders with the readers' segmentations as DICOM SEG gives the
// same features as the sacrum synth layout with NIfTI label maps (the SEG holds reader 1's labels).
func TestFeaturesDICOMCohort(t *testing.T) {
	requireModels(t)
	synthDir := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{Out: synthDir, Patients: 1, Seed: 6, Matrix: 96, Slices: 8}); err != nil {
		t.Fatal(err)
	}
	rows := func(cohort string) [][]string {
		out := filepath.Join(t.TempDir(), "f.csv")
		c := &FeaturesCommand{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
		if err := c.Run(context.Background(), []string{"--cohort", cohort, "--out", out, "--quiet"}); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := rows(synthDir)
	src := synth.PatientDir(synthDir, "SYN0001")
	dcmDir := t.TempDir()
	dst := filepath.Join(dcmDir, "patients", "P1")
	if err := os.MkdirAll(filepath.Join(dst, "labels"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(src, "dicom"), filepath.Join(dst, "export")); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"reader1.dcm", "reader2.dcm"} {
		if err := copyFile(filepath.Join(src, "seg.dcm"), filepath.Join(dst, "labels", r)); err != nil {
			t.Fatal(err)
		}
	}
	b := rows(dcmDir)
	if len(a) != 3 || len(b) != 3 || strings.Join(a[0], ",") != strings.Join(b[0], ",") {
		t.Fatalf("%d and %d rows, headers equal %v", len(a), len(b), strings.Join(a[0], ",") == strings.Join(b[0], ","))
	}
	if strings.Join(a[1][2:], ",") != strings.Join(b[1][2:], ",") || strings.Join(b[1][2:], ",") != strings.Join(b[2][2:], ",") {
		t.Error("reader 1 features from the DICOM SEG differ from those of the NIfTI label map")
	}
	if b[1][0] != "P1" || b[2][1] != "2" {
		t.Errorf("rows %v %v", b[1][:2], b[2][:2])
	}
}
