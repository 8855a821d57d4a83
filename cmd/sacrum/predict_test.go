package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
	"github.com/sacrum-dev/sacrum/pipeline/infer"
	"github.com/sacrum-dev/sacrum/pipeline/synth"
)

var updatePredict = flag.Bool("update-predict", false, "rewrite the golden outputs under testdata/predict")

// TestPredictGolden runs each case of testdata/predict/<case>/ on one synthetic patient (matrix 128, seed 5):
//
//	args     arguments, one per line; STUDY is the patient directory, OUT the output directory, CASE the case dir
//	remove   optional: paths under STUDY deleted before the run (a missing slice, a missing series)
//	error    the expected error, or
//	series.json  the expected series.json (study_dir replaced by STUDY)
//
// Successful runs are also checked against reader 1's labels (see checkPredictOutputs).
func TestPredictGolden(t *testing.T) {
	goldenCases(t, "predict", func(t *testing.T, dir, rawArgs string) {
		tmp := t.TempDir()
		cohort, err := synth.Generate(context.Background(), synth.Options{Out: tmp, Patients: 1, Seed: 5, Matrix: 128, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		study := synth.PatientDir(tmp, cohort.Records[0].PatientID)
		out := filepath.Join(tmp, "out")
		if b, err := os.ReadFile(filepath.Join(dir, "remove")); err == nil {
			for _, p := range strings.Fields(string(b)) {
				if err := os.RemoveAll(filepath.Join(study, p)); err != nil {
					t.Fatal(err)
				}
			}
		}
		caseDir, _ := filepath.Abs(dir)
		args := []string{"predict"}
		for _, a := range strings.Split(strings.TrimSpace(rawArgs), "\n") {
			a = strings.NewReplacer("STUDY", study, "OUT", out, "CASE", caseDir).Replace(a)
			args = append(args, a)
		}
		var stdout, stderr bytes.Buffer
		runErr := (&Main{Stdout: &stdout, Stderr: &stderr}).Run(context.Background(), args)
		var got, file string
		if runErr != nil {
			got, file = strings.NewReplacer(study, "STUDY", caseDir, "CASE").Replace(runErr.Error())+"\n", "error"
		} else {
			b, err := os.ReadFile(filepath.Join(out, "series.json"))
			if err != nil {
				t.Fatal(err)
			}
			got, file = strings.ReplaceAll(string(b), study, "STUDY"), "series.json"
		}
		if *updatePredict {
			resetGolden(dir, "error", "series.json")
		}
		checkGolden(t, dir, file, got, *updatePredict, false)
		if runErr == nil {
			checkPredictOutputs(t, study, out)
		}
	})
}

// checkPredictOutputs compares labels.nii.gz with reader 1 (exactly for a provided segmentation, Dice ≥ 0.75
// per side for the model at this small matrix) and checks features.json's deep features.
func checkPredictOutputs(t *testing.T, study, out string) {
	t.Helper()
	got, err := image.ReadNIfTILabels(filepath.Join(out, "labels.nii.gz"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := image.ReadNIfTILabelsOn(filepath.Join(study, "labels", "reader1.nii.gz"), got.Grid)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Grid.SameGrid(want.Grid, 1e-3) {
		t.Fatalf("labels.nii.gz grid %+v is not the STIR grid %+v", got.Grid, want.Grid)
	}
	var f featuresReport
	b, err := os.ReadFile(filepath.Join(out, "features.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, l := range []uint8{1, 2} {
		d := infer.Dice(got, want, l)
		min := 0.75
		if f.Segmentation == "provided segmentation" {
			min = 1
		}
		if d < min {
			t.Errorf("label %d: Dice with reader 1 = %.3f, want ≥ %g (%s)", l, d, min, f.Segmentation)
		}
	}
	for _, roi := range []string{"left", "right", "both"} {
		if len(f.Deep[roi]) != 16 {
			t.Errorf("ROI %s: %d deep features, want 16", roi, len(f.Deep[roi]))
		}
		if _, ok := f.Deep[roi]["deep_encoder_0"]; !ok {
			t.Errorf("ROI %s: no deep_encoder_0", roi)
		}
		if f.ROIVoxels[roi] == 0 {
			t.Errorf("ROI %s: 0 voxels", roi)
		}
	}
	if f.ROIVoxels["both"] != f.ROIVoxels["left"]+f.ROIVoxels["right"] {
		t.Errorf("ROI voxels %v: both ≠ left + right", f.ROIVoxels)
	}
}
