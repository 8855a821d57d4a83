package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sacrum-dev/sacrum/pipeline/learn"
)

// TrainCommand trains the DLRC models of the paper and writes a model bundle.
type TrainCommand struct {
	Stdout io.Writer
	Stderr io.Writer
	// Now stamps the bundle (tests fix it); nil means time.Now.
	Now func() time.Time
}

// trainConfigFile is train.yaml. Zero values take the paper's defaults.
type trainConfigFile struct {
	Seed         uint64    `yaml:"seed"`
	TestFraction float64   `yaml:"test_fraction"`
	ICCForm      string    `yaml:"icc_form"`
	ICCMin       float64   `yaml:"icc_min"`
	Alpha        float64   `yaml:"alpha"`
	MaxAbsRho    float64   `yaml:"max_abs_rho"`
	Folds        int       `yaml:"folds"`
	Lambda       string    `yaml:"lambda"`
	Cs           []float64 `yaml:"cs"`
	ClinicalP    float64   `yaml:"clinical_p"`
	Bootstrap    int       `yaml:"bootstrap"`
	HeldOutDLR   bool      `yaml:"held_out_dlr"`
	// Clinical variables offered to the clinical screening; empty means
	// every clinical column but identifiers, outcomes and the split.
	Clinical []string `yaml:"clinical"`
	// Extraction settings recorded in the bundle.
	RadiomicsParams  string `yaml:"radiomics_params"` // path, relative to train.yaml
	DeepModel        string `yaml:"deep_model"`
	DeepModelVersion string `yaml:"deep_model_version"`
	// DeepModelManifest is the deep feature model's manifest (model.yaml,
	// relative to train.yaml): its name, version and sha256 go into the
	// bundle, so they cannot drift from the model the features came from.
	DeepModelManifest string `yaml:"deep_model_manifest"`
}

// Columns of a clinical CSV that are never clinical predictors.
var nonPredictorColumns = map[string]bool{"patient_id": true, "study_uid": true, "accession": true, "split": true,
	"asas20": true, "asas40": true}

// StepMissing is the selection.csv step of a feature dropped before
// selection because some patient has no finite value for it.
const StepMissing = "missing"

// Run trains every requested endpoint and writes BUNDLE_DIR.
func (c *TrainCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	featuresPath := fs.String("features", "", "features CSV: patient_id, reader (1 or 2), one column per feature (required)")
	clinicalPath := fs.String("clinical", "", "clinical CSV: patient_id, clinical variables, outcome columns, optional split (required)")
	endpoint := fs.String("endpoint", "both", "asas40, asas20 or both")
	configPath := fs.String("config", "", "train.yaml with the modelling choices (defaults: the paper's)")
	out := fs.String("out", "", "bundle directory to write (required)")
	params := fs.String("params", "", "PyRadiomics parameter file the features were extracted with (recorded in the bundle)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := parseFlags(fs, args, "sacrum train", true); err != nil {
		return err
	}
	if *featuresPath == "" || *clinicalPath == "" || *out == "" {
		return usageError("sacrum train: --features, --clinical and --out are required")
	}
	var endpoints []string
	switch *endpoint {
	case "both":
		endpoints = []string{"asas40", "asas20"}
	case "asas40", "asas20":
		endpoints = []string{*endpoint}
	default:
		return usageError("sacrum train: --endpoint %q: want asas40, asas20 or both", *endpoint)
	}
	cfgFile, cfg, err := readTrainConfig(*configPath)
	if err != nil {
		return usageError("sacrum train: %v", err)
	}
	if *params != "" {
		cfgFile.RadiomicsParams = *params
	}

	cohort, err := readTrainCohort(*featuresPath, *clinicalPath, endpoints, cfgFile.Clinical)
	if err != nil {
		return fmt.Errorf("sacrum train: %w", err)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	b := &learn.Bundle{Schema: learn.BundleSchema, ResearchUse: learn.ResearchUse,
		Created: now().UTC().Format(time.RFC3339), Config: learn.NewBundleConfig(cfg),
		Clinical: cohort.clinVars, Endpoints: map[string]*learn.EndpointBundle{},
		TrainingData: learn.TrainingData{FeaturesSHA256: cohort.featuresSHA, ClinicalSHA256: cohort.clinicalSHA,
			Patients: len(cohort.ids), Features: len(cohort.features)},
		Extraction: learn.Extraction{DeepModel: cfgFile.DeepModel, DeepModelVersion: cfgFile.DeepModelVersion}}
	if cfgFile.RadiomicsParams != "" {
		data, err := os.ReadFile(cfgFile.RadiomicsParams)
		if err != nil {
			return usageError("sacrum train: radiomics parameter file: %v", err)
		}
		sum := sha256.Sum256(data)
		b.Extraction.RadiomicsParams, b.Extraction.RadiomicsParamsSHA256 = string(data), hex.EncodeToString(sum[:])
	}

	if cfgFile.DeepModelManifest != "" {
		data, err := os.ReadFile(cfgFile.DeepModelManifest)
		if err != nil {
			return usageError("sacrum train: deep model manifest: %v", err)
		}
		var m struct {
			Name    string `yaml:"name"`
			Version string `yaml:"version"`
			SHA256  string `yaml:"sha256"`
		}
		if err := yaml.Unmarshal(data, &m); err != nil || m.Name == "" {
			return usageError("sacrum train: deep model manifest %s: no name (%v)", cfgFile.DeepModelManifest, err)
		}
		b.Extraction.DeepModel, b.Extraction.DeepModelVersion, b.Extraction.DeepModelSHA256 = m.Name, m.Version, m.SHA256
	}

	results := map[string]*learn.TrainResult{}
	for _, ep := range endpoints {
		res, err := learn.TrainEndpoint(ctx, cohort.trainData(ep), cfg)
		if err != nil {
			return fmt.Errorf("sacrum train: endpoint %s: %w", ep, err)
		}
		results[ep] = res
		b.Endpoints[ep] = learn.NewEndpointBundle(ep, res)
	}

	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("sacrum train: %w", err)
	}
	if err := b.Save(*out); err != nil {
		return fmt.Errorf("sacrum train: %w", err)
	}
	if err := writeSelectionCSV(filepath.Join(*out, "selection.csv"), cohort, endpoints, results); err != nil {
		return fmt.Errorf("sacrum train: %w", err)
	}
	metrics := map[string]map[string]map[string]learn.SetMetrics{}
	for _, ep := range endpoints {
		metrics[ep] = results[ep].Metrics
	}
	if err := writeJSONFile(filepath.Join(*out, "metrics.json"), metrics); err != nil {
		return fmt.Errorf("sacrum train: %w", err)
	}
	var page bytes.Buffer
	if err := writeTrainReport(&page, b, cohort, endpoints, results); err != nil {
		return fmt.Errorf("sacrum train: report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "report.html"), page.Bytes(), 0o644); err != nil {
		return fmt.Errorf("sacrum train: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(trainSummary(b, endpoints))
	}
	return writeTrainTable(c.Stdout, b, endpoints, *out)
}

// Usage describes the command.
func (c *TrainCommand) Usage() string {
	return `sacrum train trains the DLRC model of the paper for one or both endpoints and
writes a model bundle. Research use only.

Usage:

	sacrum train --features F --clinical C [--endpoint asas40|asas20|both]
	             [--config train.yaml] [--params pyradiomics.yaml] [--json] --out BUNDLE_DIR

Steps (per endpoint): split (the clinical CSV's split column, else stratified
4:1), inter-reader ICC(2,1) >= 0.75, Mann-Whitney p < 0.05 on the training set,
redundancy |Spearman rho| > 0.9, LASSO with 10-fold CV (DLR score), then L2
logistic clinical, DLR and DLRC models with C chosen by CV, evaluated on the
training and test sets (AUC with DeLong and 2,000-bootstrap CIs, Youden
threshold, calibration, decision curve, IDI/NRI/DeLong against clinical).

Input:
  features CSV   patient_id, reader (1 or 2; reader 2 is used for the ICC only;
                 without a reader column the ICC step is skipped), features.
                 A feature with an empty, NA, NaN or infinite value for any
                 patient is removed (step "missing" in selection.csv).
  clinical CSV   patient_id, the outcome columns asas40/asas20 (0/1), an
                 optional split column (train/test), clinical variables:
                 numbers, or text with two levels (sex: F=0, M=1). Every
                 patient needs every value: there is no imputation.

Bad input: a missing outcome column or a value other than 0/1, a missing
clinical value, text in a feature, or a patient without features is an
error naming the file, row and column. A feature with a missing or
non-finite value is removed (step "missing"), a constant one by the ICC or
Mann-Whitney step ("constant feature"). Fewer than 10 events or non-events
in the training or test set, more folds than responders (a fold with one
class), or no feature left after a step is an error saying which.

Output in BUNDLE_DIR: bundle.json (the model), selection.csv (every feature
and the step that removed it), metrics.json, report.html.

Options:
  --features F      features CSV (required)
  --clinical C      clinical CSV (required)
  --endpoint E      asas40, asas20 or both (default both)
  --config FILE     train.yaml: seed, test_fraction, icc_form (ICC(2,1) or
                    ICC(3,1)), icc_min, alpha, max_abs_rho, folds, lambda
                    (lambda.min or lambda.1se), cs, clinical_p, bootstrap,
                    held_out_dlr, clinical (list), radiomics_params,
                    deep_model_manifest (or deep_model, deep_model_version)
  --params FILE     PyRadiomics parameter file used by sacrum features
  --json            print the summary as JSON
  --out DIR         bundle directory (created if needed)

Examples:

	sacrum synth --patients 183 --seed 1 --out cohort
	sacrum features --cohort cohort --out features.csv
	sacrum train --features features.csv --clinical cohort/clinical.csv --out bundle
	sacrum train --features features.csv --clinical cohort/clinical.csv --endpoint asas40 \
	    --config train.yaml --out bundle
`
}

// readTrainConfig reads train.yaml (strictly: unknown keys are errors).
func readTrainConfig(path string) (trainConfigFile, learn.TrainConfig, error) {
	var f trainConfigFile
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return f, learn.TrainConfig{}, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil && err != io.EOF {
			return f, learn.TrainConfig{}, fmt.Errorf("%s: %w", path, err)
		}
		for _, p := range []*string{&f.RadiomicsParams, &f.DeepModelManifest} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(filepath.Dir(path), *p)
			}
		}
	}
	form, err := learn.ParseICCForm(f.ICCForm)
	if err != nil {
		return f, learn.TrainConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	cfg := learn.TrainConfig{Seed: f.Seed, TestFraction: f.TestFraction, ICCForm: form, ICCMin: f.ICCMin,
		Alpha: f.Alpha, MaxAbsRho: f.MaxAbsRho, Folds: f.Folds, Cs: f.Cs, ClinicalP: f.ClinicalP,
		Bootstrap: f.Bootstrap, HeldOutDLR: f.HeldOutDLR}
	switch strings.ToLower(f.Lambda) {
	case "", "lambda.min", "min":
	case "lambda.1se", "1se":
		cfg.Lambda1SE = true
	default:
		return f, cfg, fmt.Errorf("%s: lambda %q: want lambda.min or lambda.1se", path, f.Lambda)
	}
	for name, v := range map[string]float64{"test_fraction": f.TestFraction, "icc_min": f.ICCMin, "alpha": f.Alpha,
		"max_abs_rho": f.MaxAbsRho, "clinical_p": f.ClinicalP} {
		if v < 0 || v >= 1 && !(name == "max_abs_rho" && v == 1) && !(name == "icc_min" && v == 1) {
			return f, cfg, fmt.Errorf("%s: %s = %v is outside [0, 1)", path, name, v)
		}
	}
	if f.Folds < 0 || f.Folds == 1 || f.Bootstrap < 0 {
		return f, cfg, fmt.Errorf("%s: folds %d or bootstrap %d not allowed", path, f.Folds, f.Bootstrap)
	}
	return f, cfg, nil
}

// trainCohort is the joined features and clinical data, one row per
// patient of the clinical CSV, in its order.
type trainCohort struct {
	ids                      []string
	features                 []string    // usable features (finite for every patient and reader)
	reader1, reader2         [][]float64 // column-major; reader2 nil without reader 2 rows
	missing                  []learn.Removal
	allFeatures              []string // every feature of the CSV, in its order
	clinNames                []string
	clinCols                 [][]float64
	clinVars                 []learn.ClinicalVariable
	outcomes                 map[string][]int
	test                     []bool // nil: no split column
	featuresSHA, clinicalSHA string
}

func (c *trainCohort) trainData(endpoint string) learn.TrainData {
	return learn.TrainData{Features: c.features, Reader1: c.reader1, Reader2: c.reader2, Clinical: c.clinNames,
		ClinCols: c.clinCols, Y: c.outcomes[endpoint], Test: c.test}
}

func readCSVFile(path string) ([][]string, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	r := csv.NewReader(bytes.NewReader(data))
	r.TrimLeadingSpace = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) < 2 {
		return nil, "", fmt.Errorf("%s: no data rows", path)
	}
	return recs, hex.EncodeToString(sum[:]), nil
}

func columnIndex(header []string, name string) int {
	for j, h := range header {
		if strings.TrimSpace(h) == name {
			return j
		}
	}
	return -1
}

// readTrainCohort reads and joins the two CSVs. clinical lists the clinical
// variables to offer (nil: every other column that can be encoded).
func readTrainCohort(featuresPath, clinicalPath string, endpoints, clinical []string) (*trainCohort, error) {
	crecs, csha, err := readCSVFile(clinicalPath)
	if err != nil {
		return nil, err
	}
	c := &trainCohort{clinicalSHA: csha, outcomes: map[string][]int{}}
	header, rows := crecs[0], crecs[1:]
	idCol := columnIndex(header, "patient_id")
	if idCol < 0 {
		return nil, fmt.Errorf("%s: no patient_id column (columns: %s)", clinicalPath, strings.Join(header, ", "))
	}
	row := map[string]int{}
	for i, rec := range rows {
		id := strings.TrimSpace(rec[idCol])
		if id == "" {
			return nil, fmt.Errorf("%s: row %d: empty patient_id", clinicalPath, i+2)
		}
		if _, dup := row[id]; dup {
			return nil, fmt.Errorf("%s: row %d: patient_id repeated", clinicalPath, i+2)
		}
		row[id] = i
		c.ids = append(c.ids, id)
	}
	for _, ep := range endpoints {
		j := columnIndex(header, ep)
		if j < 0 {
			return nil, fmt.Errorf("%s: outcome column %q not found (columns: %s)", clinicalPath, ep, strings.Join(header, ", "))
		}
		y := make([]int, len(rows))
		for i, rec := range rows {
			switch s := strings.TrimSpace(rec[j]); s {
			case "0", "1":
				y[i] = int(s[0] - '0')
			default:
				return nil, fmt.Errorf("%s: row %d: outcome %q is %q, want 0 or 1 (patients without an outcome must be left out)", clinicalPath, i+2, ep, s)
			}
		}
		c.outcomes[ep] = y
	}
	if j := columnIndex(header, "split"); j >= 0 {
		c.test = make([]bool, len(rows))
		for i, rec := range rows {
			switch strings.ToLower(strings.TrimSpace(rec[j])) {
			case "train":
			case "test":
				c.test[i] = true
			default:
				return nil, fmt.Errorf("%s: row %d: split is %q, want train or test", clinicalPath, i+2, rec[j])
			}
		}
	}
	if err := c.readClinicalVariables(clinicalPath, header, rows, endpoints, clinical); err != nil {
		return nil, err
	}
	if err := c.readFeatures(featuresPath, row); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *trainCohort) readClinicalVariables(path string, header []string, rows [][]string, endpoints, chosen []string) error {
	explicit := len(chosen) > 0
	if !explicit {
		outcome := map[string]bool{}
		for _, ep := range endpoints {
			outcome[ep] = true
		}
		for _, h := range header {
			if h = strings.TrimSpace(h); !nonPredictorColumns[h] && !outcome[h] {
				chosen = append(chosen, h)
			}
		}
	}
	for _, name := range chosen {
		j := columnIndex(header, name)
		if j < 0 {
			return fmt.Errorf("%s: clinical variable %q not found (columns: %s)", path, name, strings.Join(header, ", "))
		}
		col := make([]float64, len(rows))
		levels := map[string]bool{}
		for i, rec := range rows {
			s := strings.TrimSpace(rec[j])
			if isMissing(s) {
				return fmt.Errorf("%s: row %d: clinical variable %q is missing; sacrum train does not impute: complete it, leave the patient out, or leave the variable out with 'clinical:' in train.yaml", path, i+2, name)
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				levels[s] = true
				continue
			}
			if math.IsInf(v, 0) {
				return fmt.Errorf("%s: row %d: clinical variable %q is %q", path, i+2, name, s)
			}
			col[i] = v
		}
		v := learn.ClinicalVariable{Name: name}
		if len(levels) > 0 {
			var names []string
			for l := range levels {
				names = append(names, l)
			}
			sort.Strings(names)
			if len(names) != 2 || !allText(rows, j) {
				if !explicit {
					continue // an identifier or free text: not a predictor
				}
				return fmt.Errorf("%s: clinical variable %q has text values %s; want numbers or exactly two levels", path, name, strings.Join(names, ", "))
			}
			v.Levels = map[string]float64{names[0]: 0, names[1]: 1}
			for i, rec := range rows {
				col[i] = v.Levels[strings.TrimSpace(rec[j])]
			}
		}
		c.clinNames = append(c.clinNames, name)
		c.clinCols = append(c.clinCols, col)
		c.clinVars = append(c.clinVars, v)
	}
	if len(c.clinNames) == 0 {
		return fmt.Errorf("%s: no clinical variable (numbers or two-level text) besides patient_id, outcomes and split", path)
	}
	return nil
}

func allText(rows [][]string, j int) bool {
	for _, rec := range rows {
		if _, err := strconv.ParseFloat(strings.TrimSpace(rec[j]), 64); err == nil {
			return false
		}
	}
	return true
}

// readFeatures reads the features CSV into reader-1 and reader-2 columns in
// the clinical CSV's patient order.
func (c *trainCohort) readFeatures(path string, row map[string]int) error {
	recs, sha, err := readCSVFile(path)
	if err != nil {
		return err
	}
	c.featuresSHA = sha
	header := recs[0]
	idCol, readerCol := columnIndex(header, "patient_id"), columnIndex(header, "reader")
	if idCol < 0 {
		return fmt.Errorf("%s: no patient_id column", path)
	}
	var featCols []int
	for j, h := range header {
		if j != idCol && j != readerCol {
			featCols = append(featCols, j)
			c.allFeatures = append(c.allFeatures, strings.TrimSpace(h))
		}
	}
	if len(featCols) == 0 {
		return fmt.Errorf("%s: no feature columns", path)
	}
	n := len(c.ids)
	newCols := func() [][]float64 {
		cols := make([][]float64, len(featCols))
		for k := range cols {
			cols[k] = make([]float64, n)
		}
		return cols
	}
	readers := [2][][]float64{newCols(), nil}
	seen := [2][]bool{make([]bool, n), make([]bool, n)}
	bad := make([]int, len(featCols)) // non-finite values per feature
	extra := 0
	for i, rec := range recs[1:] {
		r := 0
		if readerCol >= 0 {
			switch strings.TrimSpace(rec[readerCol]) {
			case "1":
			case "2":
				r = 1
			default:
				return fmt.Errorf("%s: row %d: reader %q, want 1 or 2", path, i+2, rec[readerCol])
			}
		}
		p, ok := row[strings.TrimSpace(rec[idCol])]
		if !ok {
			extra++
			continue
		}
		if seen[r][p] {
			return fmt.Errorf("%s: row %d: second row for the same patient and reader %d", path, i+2, r+1)
		}
		seen[r][p] = true
		if readers[r] == nil {
			readers[r] = newCols()
		}
		for k, j := range featCols {
			s := strings.TrimSpace(rec[j])
			v, err := strconv.ParseFloat(s, 64)
			switch {
			case isMissing(s) || err == nil && (math.IsNaN(v) || math.IsInf(v, 0)):
				bad[k]++
				v = math.NaN()
			case err != nil:
				return fmt.Errorf("%s: row %d: feature %q is %q, not a number", path, i+2, header[j], s)
			}
			readers[r][k][p] = v
		}
	}
	for r := range readers {
		if readers[r] == nil {
			continue
		}
		for p, ok := range seen[r] {
			if !ok {
				return fmt.Errorf("%s: patient in row %d of the clinical CSV has no reader %d features (%d of %d have)", path, p+2, r+1, count(seen[r]), n)
			}
		}
	}
	_ = extra // features of patients outside the clinical CSV are not used
	for k, name := range c.allFeatures {
		if bad[k] > 0 {
			c.missing = append(c.missing, learn.Removal{Feature: name, Step: StepMissing,
				Reason: fmt.Sprintf("%d empty or non-finite values", bad[k])})
			continue
		}
		c.features = append(c.features, name)
		c.reader1 = append(c.reader1, readers[0][k])
		if readers[1] != nil {
			c.reader2 = append(c.reader2, readers[1][k])
		}
	}
	if len(c.features) == 0 {
		return fmt.Errorf("%s: every feature has empty or non-finite values", path)
	}
	return nil
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// writeSelectionCSV writes endpoint, feature, step, reason for every feature:
// the step that removed it, or "selected".
func writeSelectionCSV(path string, c *trainCohort, endpoints []string, results map[string]*learn.TrainResult) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"endpoint", "feature", "step", "reason"})
	for _, ep := range endpoints {
		res := results[ep]
		why := map[string]learn.Removal{}
		for _, r := range c.missing {
			why[r.Feature] = r
		}
		for _, r := range res.Selection {
			why[r.Feature] = r
		}
		lasso := res.Lasso
		for j, f := range lasso.Inputs {
			why[f] = learn.Removal{Feature: f, Step: "selected",
				Reason: fmt.Sprintf("LASSO coefficient %.4g per SD", lasso.Model.Coef[j])}
		}
		for _, f := range c.allFeatures {
			r, ok := why[f]
			if !ok {
				return fmt.Errorf("selection: feature %q of endpoint %s is neither removed nor selected", f, ep)
			}
			w.Write([]string{ep, f, r.Step, r.Reason})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// trainSummaryRow is one line of the summary.
type trainSummaryRow struct {
	Endpoint string             `json:"endpoint"`
	Model    string             `json:"model"`
	Set      string             `json:"set"`
	N        int                `json:"n"`
	Events   int                `json:"events"`
	AUC      float64            `json:"auc"`
	AUCCI    [2]float64         `json:"auc_ci_delong"`
	Brier    float64            `json:"brier"`
	Slope    float64            `json:"calibration_slope"`
	VsClin   *learn.Comparison  `json:"vs_clinical,omitempty"`
	Inputs   []string           `json:"inputs"`
	Weights  map[string]float64 `json:"-"`
}

var trainModels = []string{learn.ModelClinical, learn.ModelDLR, learn.ModelDLRC}

func trainSummary(b *learn.Bundle, endpoints []string) []trainSummaryRow {
	var rows []trainSummaryRow
	for _, ep := range endpoints {
		e := b.Endpoints[ep]
		inputs := map[string][]string{learn.ModelClinical: e.Clinical.Inputs, learn.ModelDLR: e.Lasso.Inputs,
			learn.ModelDLRC: append([]string{learn.DLRScore}, e.DLRC.Inputs[1:]...)}
		for _, m := range trainModels {
			for _, set := range []string{"train", "test"} {
				s := e.Metrics[m][set]
				rows = append(rows, trainSummaryRow{Endpoint: ep, Model: m, Set: set, N: s.N, Events: s.Events,
					AUC: s.AUC, AUCCI: s.AUCCIDeLong, Brier: s.Brier, Slope: s.CalibrationSlope,
					VsClin: s.VsClinical, Inputs: inputs[m]})
			}
		}
	}
	return rows
}

func writeTrainTable(w io.Writer, b *learn.Bundle, endpoints []string, out string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tMODEL\tSET\tN\tEVENTS\tAUC (95% CI)\tBRIER\tCAL. SLOPE\tIDI VS CLINICAL (p)")
	for _, r := range trainSummary(b, endpoints) {
		idi := "-"
		if r.VsClin != nil {
			idi = fmt.Sprintf("%.3f (%s)", r.VsClin.IDI, formatP(r.VsClin.IDIP))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.3f (%.3f-%.3f)\t%.3f\t%.2f\t%s\n", r.Endpoint, r.Model, r.Set, r.N,
			r.Events, r.AUC, r.AUCCI[0], r.AUCCI[1], r.Brier, r.Slope, idi)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, ep := range endpoints {
		e := b.Endpoints[ep]
		fmt.Fprintf(w, "%s: %d features in the DLR score; DLRC inputs: %s\n", ep, len(e.Lasso.Inputs), strings.Join(e.DLRC.Inputs, ", "))
	}
	fmt.Fprintf(w, "wrote %s (bundle.json, selection.csv, metrics.json, report.html)\n%s\n", out, learn.ResearchUse)
	return nil
}
