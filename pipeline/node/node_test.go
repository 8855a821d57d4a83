package node_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/learn"
	"github.com/sacrum-dev/sacrum/pipeline/node"
	"github.com/sacrum-dev/sacrum/pipeline/radiomics"
	"github.com/sacrum-dev/sacrum/pipeline/report"
	"github.com/sacrum-dev/sacrum/pipeline/study"
	"github.com/sacrum-dev/sacrum/pipeline/synth"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
	"github.com/sacrum-dev/sacrum/store"
)

const nodeUID = "1.2.826.0.1.3680043.10.1428.99.1"

// lm is a linear model on named inputs.
func lm(inputs []string, mean, sd, coef []float64, intercept float64) learn.LinearModel {
	return learn.LinearModel{Inputs: inputs, Scaler: learn.Scaler{Names: inputs, Mean: mean, SD: sd},
		Model: learn.Logistic{Intercept: intercept, Coef: coef}}
}

// testBundle is a small hand-made bundle on features every study has (the shipped bundle is trained by
// `sacrum train`; this one only has to be valid and use image and clinical inputs).
func testBundle(t *testing.T) *node.Model {
	t.Helper()
	img := []string{"left_original_firstorder_Mean", "both_original_shape_VoxelVolume", "right_original_glcm_JointEntropy"}
	ep := func(sign float64) *learn.EndpointBundle {
		lasso := lm(img, []float64{300, 4e4, 5}, []float64{50, 1e4, 1}, []float64{0.8 * sign, -0.3, 0.2}, -0.1)
		return &learn.EndpointBundle{
			Outcome:        "asas40",
			Lasso:          lasso,
			Clinical:       lm([]string{"crp_mg_l"}, []float64{10}, []float64{8}, []float64{0.5}, 0),
			DLR:            lm([]string{learn.DLRScore}, []float64{-0.1}, []float64{1.2}, []float64{1.1}, 0.05),
			DLRC:           lm([]string{learn.DLRScore, "crp_mg_l", "sex"}, []float64{-0.1, 10, 0.5}, []float64{1.2, 8, 0.5}, []float64{1.0, 0.4, -0.2}, 0.1),
			Thresholds:     map[string]float64{learn.ModelClinical: 0.5, learn.ModelDLR: 0.45, learn.ModelDLRC: 0.55},
			DLRBackground:  []float64{0},
			DLRCBackground: []float64{0, 0, 0},
		}
	}
	b := &learn.Bundle{Schema: learn.BundleSchema, ResearchUse: learn.ResearchUse, Created: "2026-11-26T10:00:00Z",
		Clinical:  []learn.ClinicalVariable{{Name: "crp_mg_l"}, {Name: "sex", Levels: map[string]float64{"F": 0, "M": 1}}},
		Endpoints: map[string]*learn.EndpointBundle{"asas40": ep(1), "asas20": ep(-1)}}
	m, err := node.NewModel(b, "test-bundle", "0123456789ab")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// studyInput writes a small synthetic patient (MR series and its SEG, so no segmentation model is needed).
func studyInput(t *testing.T) (*store.StudyInput, *synth.Study) {
	t.Helper()
	st, err := synth.GeneratePatient(5, 0, synth.ImageOptions{Matrix: 96, Slices: 8})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths, err := st.Write(filepath.Join(dir, "in"))
	if err != nil {
		t.Fatal(err)
	}
	in := &store.StudyInput{StudyUID: st.Record.StudyUID, Accession: st.Record.Accession, OutDir: filepath.Join(dir, "out"), Job: 1}
	for _, p := range paths {
		in.Instances = append(in.Instances, store.InputInstance{Path: p})
	}
	if err := os.MkdirAll(in.OutDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return in, st
}

func newPipeline(t *testing.T, cfg node.Config) *node.Pipeline {
	t.Helper()
	cfg.Analyzer = study.New(nil, study.Config{Selection: volume.DefaultSelection(), Radiomics: radiomics.DefaultSettings()})
	cfg.Model = testBundle(t)
	cfg.Node = report.Node{UID: nodeUID, Name: "SACRUM", SoftwareVersion: "test"}
	p, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// expected computes the predictions independently: the analysis, then the bundle.
func expected(t *testing.T, p *node.Pipeline, in *store.StudyInput, m *node.Model, clinical map[string]float64) map[string]learn.Prediction {
	t.Helper()
	var paths []string
	for _, x := range in.Instances {
		paths = append(paths, x.Path)
	}
	a := study.New(nil, study.Config{Selection: volume.DefaultSelection(), Radiomics: radiomics.DefaultSettings()})
	an, err := a.AnalyzeFiles(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Bundle.Predict(an.Features.Values, clinical)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func srOf(t *testing.T, res *store.Results) *report.SRSummary {
	t.Helper()
	for _, o := range res.Objects {
		if o.SOPClassUID == report.ComprehensiveSR3DStorage {
			s, err := report.ReadSR(o.Path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	t.Fatal("no SR among the results")
	return nil
}

// TestProcessVariants runs the pipeline with full, partial and no clinical inputs; the SR's probabilities are
// the bundle's on the study's features, and the variant says whether clinical inputs were used.
func TestProcessVariants(t *testing.T) {
	cases := []struct {
		name     string
		clinical string
		csv      string
		variant  string
		missing  string
		values   map[string]float64
	}{
		{"json", `{"crp_mg_l": 12.5, "sex": "M"}`, "", learn.VariantDLRC, "", map[string]float64{"crp_mg_l": 12.5, "sex": 1}},
		{"csv", "", "patient_id,accession,crp_mg_l,sex\nX,%ACC%,3.25,F\n", learn.VariantDLRC, "", map[string]float64{"crp_mg_l": 3.25, "sex": 0}},
		{"json overrides csv", `{"crp_mg_l": 7}`, "accession,crp_mg_l,sex\n%ACC%,3.25,F\n", learn.VariantDLRC, "", map[string]float64{"crp_mg_l": 7, "sex": 0}},
		{"missing sex", `{"crp_mg_l": 12.5}`, "", learn.VariantDLROnly, "sex", map[string]float64{"crp_mg_l": 12.5}},
		{"none", "", "", learn.VariantDLROnly, "crp_mg_l,sex", map[string]float64{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, _ := studyInput(t)
			cfg := node.Config{}
			if c.csv != "" {
				cfg.ClinicalCSVDir = t.TempDir()
				body := strings.ReplaceAll(c.csv, "%ACC%", in.Accession)
				if err := os.WriteFile(filepath.Join(cfg.ClinicalCSVDir, "clinical.csv"), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if c.clinical != "" {
				in.Clinical = json.RawMessage(c.clinical)
			}
			p := newPipeline(t, cfg)
			res, err := p.Process(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Objects) != 3 {
				t.Fatalf("%d result objects", len(res.Objects))
			}
			for _, o := range res.Objects {
				if filepath.Dir(o.Path) != in.OutDir || o.SeriesUID == "" {
					t.Errorf("object %+v not in %s or without series", o, in.OutDir)
				}
			}
			sr := srOf(t, res)
			want := expected(t, p, in, testBundle(t), c.values)
			if len(sr.Predictions) != 2 || sr.Predictions[0].Endpoint != "ASAS40" || sr.Predictions[1].Endpoint != "ASAS20" {
				t.Fatalf("SR endpoints %+v", sr.Predictions)
			}
			for _, got := range sr.Predictions {
				w := want[strings.ToLower(got.Endpoint)]
				if math.Abs(got.Probability-w.Probability) > 1e-12 || math.Abs(got.DLRScore-w.DLRScore) > 1e-12 {
					t.Errorf("%s: SR probability %v score %v, bundle %v %v", got.Endpoint, got.Probability, got.DLRScore, w.Probability, w.DLRScore)
				}
				if got.Variant != c.variant || w.Variant != c.variant {
					t.Errorf("%s: variant %q (bundle %q), want %q", got.Endpoint, got.Variant, w.Variant, c.variant)
				}
				if !(got.Probability > 0 && got.Probability < 1) || len(got.TopFeatures) == 0 {
					t.Errorf("%s: probability %v, %d top features", got.Endpoint, got.Probability, len(got.TopFeatures))
				}
			}
			var sum node.Summary
			if err := json.Unmarshal(res.Summary, &sum); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(sum.Predictions[0].MissingClinical, ","); got != c.missing {
				t.Errorf("summary missing clinical %q, want %q", got, c.missing)
			}
			if sum.Segmentation != "provided segmentation" || !strings.Contains(sum.STIRSeries, "STIR") {
				t.Errorf("summary %+v", sum)
			}
			stages := map[string]bool{}
			for _, s := range res.Stages {
				stages[s.Stage] = true
			}
			for _, s := range []string{study.StageRead, study.StagePrepare, study.StageRadiomics, node.StagePredict, node.StageReport} {
				if !stages[s] {
					t.Errorf("no stage %s in %v", s, res.Stages)
				}
			}
		})
	}
}

// TestProcessOwnObjectsAndPredecessor feeds the results of a first run back with the study (as a PACS that
// routes everything would): they are ignored, the SEG of the study stays the provided segmentation, and the
// new SR names the first one as predecessor.
func TestProcessOwnObjectsAndPredecessor(t *testing.T) {
	in, _ := studyInput(t)
	p := newPipeline(t, node.Config{})
	first, err := p.Process(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	firstSR := srOf(t, first)
	in2 := *in
	in2.OutDir = filepath.Join(filepath.Dir(in.OutDir), "out2")
	if err := os.MkdirAll(in2.OutDir, 0o755); err != nil {
		t.Fatal(err)
	}
	in2.Predecessors = first.Objects
	for _, o := range first.Objects {
		in2.Instances = append(in2.Instances, store.InputInstance{Path: o.Path, SOPClassUID: o.SOPClassUID, SOPInstanceUID: o.SOPInstanceUID})
	}
	second, err := p.Process(context.Background(), &in2)
	if err != nil {
		t.Fatal(err)
	}
	var sum node.Summary
	if err := json.Unmarshal(second.Summary, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.IgnoredOwn != 3 || sum.Segmentation != "provided segmentation" {
		t.Errorf("ignored %d own objects, segmentation %q", sum.IgnoredOwn, sum.Segmentation)
	}
	sr := srOf(t, second)
	if len(sr.Predecessors) != 1 || sr.Predecessors[0] != firstSR.SOPInstanceUID || sr.SOPInstanceUID == firstSR.SOPInstanceUID {
		t.Errorf("predecessors %v, first SR %s, second %s", sr.Predecessors, firstSR.SOPInstanceUID, sr.SOPInstanceUID)
	}
	if sr.Predictions[0].Probability != firstSR.Predictions[0].Probability {
		t.Errorf("same study, different probability: %v vs %v", sr.Predictions[0].Probability, firstSR.Predictions[0].Probability)
	}
}

// TestClinicalWait: inputs stored during the wait are used; without them the run ends after the wait.
// The wait counts from the start of the run, so the late case's is long enough for a slow analysis
// (the race detector, a loaded machine) to leave room for the three polls.
func TestClinicalWait(t *testing.T) {
	for _, late := range []bool{true, false} {
		in, _ := studyInput(t)
		var calls atomic.Int32
		wait := 600 * time.Millisecond
		if late {
			wait = 10 * time.Second
		}
		cfg := node.Config{ClinicalWait: wait, ClinicalPoll: 50 * time.Millisecond,
			Clinical: func(acc string) (json.RawMessage, error) {
				if acc != in.Accession {
					t.Errorf("lookup of accession %q", acc)
				}
				if late && calls.Add(1) >= 3 {
					return json.RawMessage(`{"crp_mg_l": 4, "sex": "F"}`), nil
				}
				return nil, nil
			}}
		p := newPipeline(t, cfg)
		start := time.Now()
		res, err := p.Process(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		var waited time.Duration
		for _, s := range res.Stages {
			if s.Stage == node.StageClinical {
				waited = s.Duration
			}
		}
		v := srOf(t, res).Predictions[0].Variant
		switch {
		case late && (v != learn.VariantDLRC || calls.Load() != 3 || waited < 100*time.Millisecond || waited > 500*time.Millisecond):
			t.Errorf("late inputs: variant %s after %d lookups and waiting %v", v, calls.Load(), waited)
		case !late && (v != learn.VariantDLROnly || time.Since(start) < wait):
			t.Errorf("no inputs: variant %s after %v", v, time.Since(start))
		}
	}
}

// TestProcessFailures: bad inputs give errors that say why (they become the study's FAILED/RETRYING reason).
func TestProcessFailures(t *testing.T) {
	in, _ := studyInput(t)
	var stir []store.InputInstance
	for _, x := range in.Instances {
		if !strings.Contains(x.Path, string(filepath.Separator)+"3"+string(filepath.Separator)) && !strings.HasSuffix(x.Path, "seg.dcm") {
			stir = append(stir, x)
		}
	}
	noSTIR := *in
	noSTIR.Instances = stir
	badClinical := *in
	badClinical.Clinical = json.RawMessage(`{"crp_mg_l": 1, "sex": "X"}`)
	for _, c := range []struct {
		name string
		in   *store.StudyInput
		want string
	}{
		{"no STIR", &noSTIR, "no STIR series"},
		{"bad clinical", &badClinical, `level "X"`},
	} {
		p := newPipeline(t, node.Config{})
		_, err := p.Process(context.Background(), c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
