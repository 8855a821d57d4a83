package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/report"
	"github.com/sacrum-dev/sacrum/pipeline/synth"
	"github.com/sacrum-dev/sacrum/store"
)

// TestPredictionEqualsSR is the numeric part of acceptance 1 of issue 8: the probabilities of the node's SR
// equal those of the offline path (studyPrediction, for sacrum predict's prediction.json) on the same study
// to 1e-9, for the DLRC and the DLR-only variant.
func TestPredictionEqualsSR(t *testing.T) {
	requireModels(t)
	mr, st := e2ePatient(t, 41)
	r := st.Record
	full := map[string]string{"age": "40", "sex": r.Sex, "hla_b27": "1", "disease_duration_y": "3.5", "crp_mg_l": "12",
		"esr_mm_h": "20", "basdai": "5.5", "asdas_crp": "3.1", "basfi": "4"}
	cfg := DefaultConfig()
	cfg.Store.DataDir = t.TempDir()
	p, err := analysisPipeline(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		clinical map[string]string
		variant  string
	}{{"DLRC", full, "DLRC"}, {"DLR-only", map[string]string{}, "DLR-only"}} {
		t.Run(c.name, func(t *testing.T) {
			body, _ := json.Marshal(c.clinical)
			in := &store.StudyInput{StudyUID: r.StudyUID, Accession: r.Accession, Clinical: body, OutDir: t.TempDir()}
			for _, path := range mr {
				in.Instances = append(in.Instances, store.InputInstance{Path: path})
			}
			res, err := p.Process(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			var sr *report.SRSummary
			for _, o := range res.Objects {
				if o.SOPClassUID == report.ComprehensiveSR3DStorage {
					if sr, err = report.ReadSR(o.Path); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, pred, err := studyPrediction(context.Background(), cfg.Pipeline, mr, c.clinical)
			if err != nil {
				t.Fatal(err)
			}
			if len(sr.Predictions) != len(pred.Predictions) {
				t.Fatalf("%d SR predictions, %d offline", len(sr.Predictions), len(pred.Predictions))
			}
			for i, got := range sr.Predictions {
				want := pred.Predictions[i]
				if got.Endpoint != want.Endpoint || got.Variant != c.variant || want.Variant != c.variant ||
					math.Abs(got.Probability-want.Probability) > 1e-9 || math.Abs(got.DLRScore-want.DLRScore) > 1e-9 {
					t.Errorf("%s: SR %s %s p=%.15g s=%.15g, offline %s %s p=%.15g s=%.15g", c.name, got.Endpoint, got.Variant,
						got.Probability, got.DLRScore, want.Endpoint, want.Variant, want.Probability, want.DLRScore)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(".", "node-uid")); err == nil {
		t.Error("studyPrediction wrote a node-uid file into the working directory")
	}
}

// TestWritePrediction: prediction.json from a synth patient folder, with the cohort's clinical.csv (row by
// the study's accession number), a JSON file, and no clinical inputs.
func TestWritePrediction(t *testing.T) {
	requireModels(t)
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{Out: dir, Patients: 1, Seed: 9, Matrix: 128, Slices: 12}); err != nil {
		t.Fatal(err)
	}
	study := filepath.Join(synth.PatientDir(dir, "SYN0001"), "dicom")
	js := filepath.Join(t.TempDir(), "clinical.json")
	if err := os.WriteFile(js, []byte(`{"asdas_crp": 2.5, "crp_mg_l": 10, "sex": "F"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var probs []float64
	for _, c := range []struct{ clinical, variant string }{
		{filepath.Join(dir, "clinical.csv"), "DLRC"}, {js, "DLRC"}, {"", "DLR-only"},
	} {
		out := t.TempDir()
		rep, err := writePrediction(context.Background(), study, out, DefaultPipelineConfig(), c.clinical)
		if err != nil {
			t.Fatalf("%q: %v", c.clinical, err)
		}
		b, err := os.ReadFile(filepath.Join(out, "prediction.json"))
		if err != nil {
			t.Fatal(err)
		}
		var got predictionReport
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Predictions) != 2 || got.Predictions[0].Variant != c.variant || got.Predictions[0].Probability != rep.Predictions[0].Probability {
			t.Errorf("%q: %+v", c.clinical, got.Predictions)
		}
		probs = append(probs, got.Predictions[0].Probability)
	}
	if probs[0] == probs[2] {
		t.Error("clinical inputs did not change the ASAS40 probability")
	}
	if _, err := writePrediction(context.Background(), study, t.TempDir(), DefaultPipelineConfig(), "/nonexistent.csv"); err == nil {
		t.Error("missing clinical CSV accepted")
	}
}
