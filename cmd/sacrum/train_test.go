package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/learn"
)

var updateTrain = flag.Bool("update-train", false, "rewrite the golden outputs under testdata/train")

// trainInputs are the argument tokens a case may override with its own file;
// otherwise they name the shared files in testdata/train/data.
var trainInputs = []string{"features.csv", "clinical.csv", "train.yaml"}

// TestTrainGolden runs each case of testdata/train/<case>/ (data/ and gen/
// excepted): args, with features.csv, clinical.csv and train.yaml taken
// from the case directory if present, else from data/, and OUT a temporary
// bundle directory. It compares stdout (or the error) and, where the case
// has them, bundle.json (number by number, ±1e-9) and selection.csv. Every
// bundle written must load, and no output file may contain a NaN.
func TestTrainGolden(t *testing.T) {
	goldenCases(t, "train", func(t *testing.T, dir, rawArgs string) {
		out := filepath.Join(t.TempDir(), "bundle")
		paths := map[string]string{"OUT": out}
		for _, name := range trainInputs {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err != nil {
				p = filepath.Join("testdata", "train", "data", name)
			}
			paths[name] = p
		}
		args := []string{"train"}
		for _, a := range strings.Fields(rawArgs) {
			if p, ok := paths[a]; ok {
				a = p
			}
			args = append(args, a)
		}
		var stdout, stderr bytes.Buffer
		m := &Main{Stdout: &stdout, Stderr: &stderr}
		cmd := m.commands()["train"].(*TrainCommand)
		cmd.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
		runErr := cmd.Run(context.Background(), args[1:])
		var exit *ExitError
		if errors.Is(runErr, flag.ErrHelp) || (runErr != nil && !errors.As(runErr, &exit) && strings.Contains(runErr.Error(), "panic")) {
			t.Fatalf("unexpected: %v", runErr)
		}
		unpath := func(s string) string {
			for tok, p := range paths {
				s = strings.ReplaceAll(s, p, tok)
			}
			return s
		}
		got, file := unpath(stdout.String()), "stdout"
		if runErr != nil {
			got, file = unpath(runErr.Error())+"\n", "error"
		}
		golden := map[string]string{file: got}
		if runErr == nil {
			checkBundleDir(t, out)
			for _, name := range []string{"bundle.json", "selection.csv"} {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil || (*updateTrain && filepath.Base(dir) == "both") {
					data, err := os.ReadFile(filepath.Join(out, name))
					if err != nil {
						t.Fatal(err)
					}
					golden[name] = string(data)
				}
			}
		}
		if *updateTrain {
			resetGolden(dir, "stdout", "error")
		}
		for name, g := range golden {
			asJSON := strings.HasSuffix(name, ".json") || (name == "stdout" && strings.Contains(rawArgs, "--json"))
			checkGolden(t, dir, name, g, *updateTrain, asJSON)
		}
	})
}

// checkBundleDir checks what every successful run must write.
func checkBundleDir(t *testing.T, dir string) {
	t.Helper()
	b, err := learn.LoadBundle(dir)
	if err != nil {
		t.Fatalf("bundle does not load: %v", err)
	}
	for _, name := range []string{"bundle.json", "metrics.json", "selection.csv", "report.html"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("NaN")) || bytes.Contains(data, []byte("Inf")) && name != "selection.csv" {
			t.Errorf("%s contains NaN or Inf", name)
		}
	}
	// metrics.json: endpoint → model → set, with the keys of sacrum evaluate.
	data, _ := os.ReadFile(filepath.Join(dir, "metrics.json"))
	var metrics map[string]map[string]map[string]map[string]any
	if err := json.Unmarshal(data, &metrics); err != nil {
		t.Fatalf("metrics.json: %v", err)
	}
	for _, ep := range b.EndpointNames() {
		for _, model := range []string{"clinical", "dlr", "dlrc"} {
			for _, set := range []string{"train", "test"} {
				m := metrics[ep][model][set]
				for _, key := range []string{"auc", "auc_ci_delong", "auc_ci_bootstrap", "brier", "calibration_slope",
					"calibration_intercept", "hosmer_lemeshow", "calibration_curve", "decision_curve", "sensitivity"} {
					if _, ok := m[key]; !ok {
						t.Errorf("metrics.json %s.%s.%s has no %q", ep, model, set, key)
					}
				}
				if auc := m["auc"].(float64); auc != b.Endpoints[ep].Metrics[model][set].AUC {
					t.Errorf("%s %s %s: metrics.json AUC %v, bundle %v", ep, model, set, auc, b.Endpoints[ep].Metrics[model][set].AUC)
				}
			}
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	// Per endpoint: 2 ROC panels, calibration, decision curve, 2 SHAP charts.
	if n := bytes.Count(page, []byte("<svg")); n != 6*len(b.Endpoints) {
		t.Errorf("report.html has %d figures, want %d", n, 6*len(b.Endpoints))
	}
	if !bytes.Contains(page, []byte(learn.ResearchUse)) {
		t.Error("report.html lacks the research-use statement")
	}
}

// TestTrainPredictReproducesMetrics applies the written bundle to the
// training CSVs through Bundle.Predict and checks the test-set AUC of the
// DLRC model against metrics.json: bundle.json holds the model that was
// evaluated.
func TestTrainPredictReproducesMetrics(t *testing.T) {
	out := t.TempDir()
	data := filepath.Join("testdata", "train", "data")
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	err := m.Run(context.Background(), []string{"train", "--features", filepath.Join(data, "features.csv"),
		"--clinical", filepath.Join(data, "clinical.csv"), "--config", filepath.Join(data, "train.yaml"),
		"--endpoint", "asas40", "--out", out})
	if err != nil {
		t.Fatal(err)
	}
	b, err := learn.LoadBundle(out)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	m = &Main{Stdout: &stdout, Stderr: &bytes.Buffer{}}
	if err := m.Run(context.Background(), []string{"evaluate", "--bundle", out, "--features", filepath.Join(data, "features.csv"),
		"--clinical", filepath.Join(data, "clinical.csv"), "--split", "test", "--json"}); err != nil {
		t.Fatal(err)
	}
	var rep map[string]evaluateReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	for _, model := range []string{"clinical", "dlr", "dlrc"} {
		want := b.Endpoints["asas40"].Metrics[model]["test"]
		got := rep["asas40"].Models[model]
		if diff := got.AUC - want.AUC; diff > 1e-12 || diff < -1e-12 {
			t.Errorf("%s: evaluate --bundle test AUC %v, metrics %v", model, got.AUC, want.AUC)
		}
		if diff := got.Brier - want.Brier; diff > 1e-12 || diff < -1e-12 {
			t.Errorf("%s: evaluate --bundle Brier %v, metrics %v", model, got.Brier, want.Brier)
		}
	}
	if rep["asas40"].N != want(b).N {
		t.Errorf("n = %d, want %d", rep["asas40"].N, want(b).N)
	}
}

func want(b *learn.Bundle) learn.SummaryMetrics { return b.Endpoints["asas40"].Metrics["dlrc"]["test"] }

// TestCommittedBundle loads the demonstration bundle the node uses by
// default and checks it is complete: both endpoints, radiomics settings
// recorded, and a patient at the training means gets the background
// prediction with the DLRC variant.
func TestCommittedBundle(t *testing.T) {
	dir := filepath.Join("..", "..", "models", "dlrc-synthetic")
	b, err := learn.LoadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(b.EndpointNames(), ","); got != "asas40,asas20" {
		t.Errorf("endpoints %s", got)
	}
	if b.Extraction.RadiomicsParamsSHA256 == "" || b.TrainingData.Patients != 183 {
		t.Errorf("extraction %+v, training data %+v", b.Extraction, b.TrainingData)
	}
	features := map[string]float64{}
	for _, e := range b.Endpoints {
		for j, f := range e.Lasso.Inputs {
			features[f] = e.Lasso.Scaler.Mean[j]
		}
	}
	for _, ep := range b.EndpointNames() {
		e := b.Endpoints[ep]
		clinical := map[string]float64{}
		for j, in := range e.DLRC.Inputs[1:] {
			clinical[in] = e.DLRC.Scaler.Mean[j+1]
		}
		p, err := b.Predict(features, clinical)
		if err != nil {
			t.Fatal(err)
		}
		// The DLR score at the feature means is the LASSO intercept.
		if d := p[ep].DLRScore - e.Lasso.Model.Intercept; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: DLR score at the means %v, want the intercept %v", ep, p[ep].DLRScore, e.Lasso.Model.Intercept)
		}
		if p[ep].Variant != learn.VariantDLRC || p[ep].Probability <= 0 || p[ep].Probability >= 1 {
			t.Errorf("%s: %+v", ep, p[ep])
		}
	}
}
