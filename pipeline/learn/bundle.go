package learn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// BundleSchema is the version of bundle.json this package writes and reads.
// LoadBundle refuses any other version rather than guess.
const BundleSchema = 1

// BundleFile is the name of the model file inside a bundle directory.
const BundleFile = "bundle.json"

// ResearchUse is the statement every bundle and every report carries.
const ResearchUse = "For research use only. Not for clinical diagnosis or treatment decisions."

// Prediction variants.
const (
	VariantDLRC    = "DLRC"     // DLR score + clinical variables
	VariantDLROnly = "DLR-only" // fallback when a clinical input is missing
)

// Bundle is a trained model as stored in bundle.json: for each endpoint
// the selected image features with their training scaler and LASSO
// coefficients (the DLR score), the clinical-only, DLR-only and DLRC
// logistic models, their Youden thresholds and metrics; and, shared by the
// endpoints, how the features were extracted, how clinical values are
// encoded and which data it was trained on.
type Bundle struct {
	Schema       int                        `json:"schema"`
	ResearchUse  string                     `json:"research_use"`
	Created      string                     `json:"created,omitempty"` // RFC 3339, UTC
	TrainingData TrainingData               `json:"training_data"`
	Extraction   Extraction                 `json:"extraction"`
	Config       BundleConfig               `json:"config"`
	Clinical     []ClinicalVariable         `json:"clinical_variables"`
	Endpoints    map[string]*EndpointBundle `json:"endpoints"`
}

// TrainingData identifies the data a bundle was trained on.
type TrainingData struct {
	FeaturesSHA256 string `json:"features_sha256"` // of the features CSV as read
	ClinicalSHA256 string `json:"clinical_sha256"` // of the clinical CSV as read
	Patients       int    `json:"patients"`
	Features       int    `json:"features"` // image features offered to selection
}

// Extraction says how the image features must be computed for the bundle
// to apply: the radiomics settings (the PyRadiomics parameter file, its
// content and hash) and the deep feature model. Features are computed on
// the segmentation of reader 1 (reader 2 was used only for the ICC).
type Extraction struct {
	RadiomicsParams       string `json:"radiomics_params,omitempty"` // file content
	RadiomicsParamsSHA256 string `json:"radiomics_params_sha256,omitempty"`
	DeepModel             string `json:"deep_model,omitempty"`
	DeepModelVersion      string `json:"deep_model_version,omitempty"`
	DeepModelSHA256       string `json:"deep_model_sha256,omitempty"` // of the ONNX file, from its manifest
}

// BundleConfig records the training choices.
type BundleConfig struct {
	Seed       uint64  `json:"seed"`
	ICCForm    string  `json:"icc_form"`
	ICCMin     float64 `json:"icc_min"`
	Alpha      float64 `json:"alpha"`
	MaxAbsRho  float64 `json:"max_abs_rho"`
	Folds      int     `json:"folds"`
	Lambda     string  `json:"lambda"` // "lambda.min" or "lambda.1se"
	ClinicalP  float64 `json:"clinical_p"`
	Bootstrap  int     `json:"bootstrap"`
	HeldOutDLR bool    `json:"held_out_dlr"`
}

// NewBundleConfig records cfg (with its defaults filled in).
func NewBundleConfig(cfg TrainConfig) BundleConfig {
	cfg = cfg.withDefaults()
	lam := "lambda.min"
	if cfg.Lambda1SE {
		lam = "lambda.1se"
	}
	return BundleConfig{Seed: cfg.Seed, ICCForm: cfg.ICCForm.String(), ICCMin: cfg.ICCMin, Alpha: cfg.Alpha,
		MaxAbsRho: cfg.MaxAbsRho, Folds: cfg.Folds, Lambda: lam, ClinicalP: cfg.ClinicalP,
		Bootstrap: cfg.Bootstrap, HeldOutDLR: cfg.HeldOutDLR}
}

// ClinicalVariable is a clinical input and its encoding: numeric values are
// used as they are; a categorical variable maps its levels to numbers
// (sex: F → 0, M → 1). There is no imputation: a missing clinical value
// makes Predict use the DLR-only model.
type ClinicalVariable struct {
	Name   string             `json:"name"`
	Levels map[string]float64 `json:"levels,omitempty"`
}

// EndpointBundle is the model of one endpoint (asas40, asas20).
type EndpointBundle struct {
	Outcome string `json:"outcome"` // clinical CSV column of the outcome
	// Lasso gives the DLR score: its inputs are the selected image
	// features, its scaler the training means and SDs, its coefficients
	// the LASSO's on the z-scale; the score is its linear predictor.
	Lasso  LinearModel `json:"lasso"`
	Lambda float64     `json:"lambda"`
	// Clinical-only, DLR-only (fallback) and DLRC (dlr_score + clinical) models.
	Clinical LinearModel `json:"clinical"`
	DLR      LinearModel `json:"dlr"`
	DLRC     LinearModel `json:"dlrc"`
	// Thresholds[model] is the Youden threshold on the training set.
	Thresholds map[string]float64 `json:"thresholds"`
	// SHAP backgrounds (training means on the model's z-scale) of the
	// DLR and DLRC inputs; the LASSO's background is 0 (training-scaled).
	DLRBackground  []float64 `json:"dlr_background"`
	DLRCBackground []float64 `json:"dlrc_background"`
	// Mean |SHAP| rankings on the training set (logit scale).
	SHAPLasso []Importance `json:"shap_lasso"`
	SHAPDLRC  []Importance `json:"shap_dlrc"`
	// Metrics[model]["train"|"test"].
	Metrics map[string]map[string]SummaryMetrics `json:"metrics"`
}

// SummaryMetrics are one model's statistics on one set: the keys of
// `sacrum evaluate`, the Youden threshold of the training set applied to
// this set, and the comparison with the clinical model. A ratio undefined on
// this set (no predicted positives for PPV) is null. bundle.json holds
// these; SetMetrics adds the curves of metrics.json and report.html.
type SummaryMetrics struct {
	ModelMetrics
	N           int         `json:"n"`
	Events      int         `json:"events"`
	Threshold   float64     `json:"threshold"`
	Sensitivity *float64    `json:"sensitivity"`
	Specificity *float64    `json:"specificity"`
	Accuracy    *float64    `json:"accuracy"`
	PPV         *float64    `json:"ppv"`
	NPV         *float64    `json:"npv"`
	VsClinical  *Comparison `json:"vs_clinical,omitempty"`
}

// NewEndpointBundle turns one endpoint's TrainResult into its bundle part.
func NewEndpointBundle(outcome string, res *TrainResult) *EndpointBundle {
	e := &EndpointBundle{Outcome: outcome, Lasso: res.Lasso, Lambda: res.Lambda, Clinical: res.Clinical,
		DLR: res.DLR, DLRC: res.DLRC, Thresholds: map[string]float64{}, SHAPLasso: res.SHAPLasso,
		SHAPDLRC: res.SHAPDLRC, Metrics: map[string]map[string]SummaryMetrics{}}
	for model, sets := range res.Metrics {
		e.Metrics[model] = map[string]SummaryMetrics{}
		for set, m := range sets {
			e.Metrics[model][set] = m.SummaryMetrics
		}
		e.Thresholds[model] = sets["train"].Threshold
	}
	// The second-stage models see the in-sample DLR score of the training
	// patients at evaluation; its training mean is the LASSO intercept
	// (features are training-scaled), which makes the SHAP values of the
	// image features add up to that of the DLR score.
	bg := func(m LinearModel) []float64 {
		out := make([]float64, len(m.Inputs))
		for j := range m.Inputs {
			if m.Inputs[j] == DLRScore {
				out[j] = (res.Lasso.Model.Intercept - m.Scaler.Mean[j]) / m.Scaler.SD[j]
			}
		}
		return out
	}
	e.DLRBackground, e.DLRCBackground = bg(res.DLR), bg(res.DLRC)
	for j, name := range res.DLRC.Inputs {
		if name != DLRScore {
			// Clinical inputs: background = training mean = 0 on the z-scale.
			e.DLRCBackground[j] = 0
		}
	}
	return e
}

// LoadBundle reads and checks DIR/bundle.json.
func LoadBundle(dir string) (*Bundle, error) {
	path := filepath.Join(dir, BundleFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load bundle: %w", err)
	}
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("load bundle: %s: %w", path, err)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("load bundle: %s: %w", path, err)
	}
	return &b, nil
}

// Save writes DIR/bundle.json (indented, endpoints and keys in stable order).
func (b *Bundle) Save(dir string) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("save bundle: %w", err)
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("save bundle: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, BundleFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("save bundle: %w", err)
	}
	return nil
}

// Validate checks the schema version and that every model is complete and
// finite, so that Predict cannot fail on the bundle itself.
func (b *Bundle) Validate() error {
	if b.Schema != BundleSchema {
		return fmt.Errorf("bundle schema %d, this sacrum reads schema %d", b.Schema, BundleSchema)
	}
	if len(b.Endpoints) == 0 {
		return fmt.Errorf("bundle has no endpoint")
	}
	known := map[string]bool{}
	for _, v := range b.Clinical {
		known[v.Name] = true
	}
	for _, name := range b.EndpointNames() {
		e := b.Endpoints[name]
		if e == nil {
			return fmt.Errorf("endpoint %q: empty", name)
		}
		for _, m := range []struct {
			name string
			lm   LinearModel
		}{{"lasso", e.Lasso}, {ModelClinical, e.Clinical}, {ModelDLR, e.DLR}, {ModelDLRC, e.DLRC}} {
			if err := checkLinearModel(m.lm); err != nil {
				return fmt.Errorf("endpoint %q: %s model: %w", name, m.name, err)
			}
		}
		if len(e.Lasso.Inputs) == 0 {
			return fmt.Errorf("endpoint %q: no selected feature", name)
		}
		if len(e.DLR.Inputs) != 1 || e.DLR.Inputs[0] != DLRScore {
			return fmt.Errorf("endpoint %q: DLR model inputs %v, want [%s]", name, e.DLR.Inputs, DLRScore)
		}
		if len(e.DLRC.Inputs) < 2 || e.DLRC.Inputs[0] != DLRScore {
			return fmt.Errorf("endpoint %q: DLRC model inputs %v, want %s then clinical variables", name, e.DLRC.Inputs, DLRScore)
		}
		for _, in := range append(append([]string(nil), e.DLRC.Inputs[1:]...), e.Clinical.Inputs...) {
			if !known[in] {
				return fmt.Errorf("endpoint %q: clinical input %q is not among the bundle's clinical variables", name, in)
			}
		}
		for _, model := range []string{ModelClinical, ModelDLR, ModelDLRC} {
			t, ok := e.Thresholds[model]
			if !ok || math.IsNaN(t) || t < 0 || t > 1 {
				return fmt.Errorf("endpoint %q: threshold of %s missing or outside [0, 1]", name, model)
			}
		}
		if len(e.DLRBackground) != 1 || len(e.DLRCBackground) != len(e.DLRC.Inputs) || !finite(e.DLRBackground) || !finite(e.DLRCBackground) {
			return fmt.Errorf("endpoint %q: SHAP background has the wrong length or is not finite", name)
		}
	}
	return nil
}

func checkLinearModel(m LinearModel) error {
	k := len(m.Inputs)
	if len(m.Scaler.Mean) != k || len(m.Scaler.SD) != k || len(m.Model.Coef) != k {
		return fmt.Errorf("%d inputs, %d means, %d SDs, %d coefficients", k, len(m.Scaler.Mean), len(m.Scaler.SD), len(m.Model.Coef))
	}
	if !finite(m.Scaler.Mean) || !finite(m.Model.Coef) || !finite([]float64{m.Model.Intercept}) {
		return fmt.Errorf("non-finite mean or coefficient")
	}
	for j, sd := range m.Scaler.SD {
		if !(sd > 0) || math.IsInf(sd, 0) {
			return fmt.Errorf("input %q: SD %v is not positive", m.Inputs[j], sd)
		}
	}
	return nil
}

func finite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// EndpointNames returns the endpoints in a stable order (asas40 first, then
// the others alphabetically).
func (b *Bundle) EndpointNames() []string {
	names := make([]string, 0, len(b.Endpoints))
	for n := range b.Endpoints {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "asas40") != (names[j] == "asas40") {
			return names[i] == "asas40"
		}
		return names[i] < names[j]
	})
	return names
}

// Features returns the image features any endpoint needs, sorted: what the
// node must extract for Predict.
func (b *Bundle) Features() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range b.Endpoints {
		for _, f := range e.Lasso.Inputs {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	sort.Strings(out)
	return out
}

// DLRWeights returns, for one endpoint, the weight of every selected
// feature on the DLR score per raw unit (LASSO coefficient / training SD):
// DLR score = Σ weight·value + constant. A class-activation map from deep
// feature maps is Σ_k weight_k·map_k.
func (e *EndpointBundle) DLRWeights() map[string]float64 {
	w := make(map[string]float64, len(e.Lasso.Inputs))
	for j, f := range e.Lasso.Inputs {
		w[f] = e.Lasso.Model.Coef[j] / e.Lasso.Scaler.SD[j]
	}
	return w
}

// EncodeClinical turns raw clinical values (as in a clinical CSV or a
// node's form) into the numbers the models use: categorical levels by the
// bundle's encoding, others parsed as numbers. Empty, "NA" and unknown
// values are left out (Predict then falls back to DLR-only) and their
// names returned, with an error only for a value that is present but
// cannot be read.
func (b *Bundle) EncodeClinical(raw map[string]string) (map[string]float64, []string, error) {
	out := map[string]float64{}
	var missing []string
	for _, v := range b.Clinical {
		s, ok := raw[v.Name]
		s = strings.TrimSpace(s)
		if !ok || isMissing(s) {
			missing = append(missing, v.Name)
			continue
		}
		if v.Levels != nil {
			x, ok := v.Levels[s]
			if !ok {
				return nil, nil, fmt.Errorf("clinical variable %q: level %q is not one of %s", v.Name, s, levelNames(v.Levels))
			}
			out[v.Name] = x
			continue
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, nil, fmt.Errorf("clinical variable %q: %q is not a number", v.Name, s)
		}
		out[v.Name] = x
	}
	return out, missing, nil
}

func isMissing(s string) bool {
	switch strings.ToLower(s) {
	case "", "na", "nan", "null", "none":
		return true
	}
	return false
}

func levelNames(levels map[string]float64) string {
	var names []string
	for k := range levels {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Contribution is one input's SHAP value on the logit of the model used
// (background: the training means). Image features are counted through
// the DLR score, so the image contributions add up to the DLR score's and
// all contributions add up to the logit minus the background logit.
type Contribution struct {
	Name  string  `json:"name"`
	Kind  string  `json:"kind"` // "image" or "clinical"
	Value float64 `json:"value"`
	SHAP  float64 `json:"shap"`
}

// Prediction is one endpoint's result for one patient.
type Prediction struct {
	Endpoint    string  `json:"endpoint"`
	Probability float64 `json:"probability"`
	DLRScore    float64 `json:"dlr_score"`
	Threshold   float64 `json:"threshold"` // Youden threshold of the variant's model
	Responder   bool    `json:"responder"` // Probability >= Threshold
	Variant     string  `json:"variant"`   // VariantDLRC or VariantDLROnly
	// MissingClinical names the clinical inputs that forced DLR-only.
	MissingClinical []string `json:"missing_clinical,omitempty"`
	// Contributions, largest |SHAP| first (every input; callers show the top ones).
	Contributions []Contribution `json:"contributions"`
	// DLRWeights: weight of each selected feature on the DLR score per raw unit.
	DLRWeights map[string]float64 `json:"dlr_weights"`
}

// Predict applies every endpoint's model to one patient. features must
// hold every feature of Features() (extra keys are ignored); a missing or
// non-finite feature is an error. clinical holds encoded clinical values
// (see EncodeClinical); when any input of the DLRC model is absent or not
// finite the DLR-only model is used and Variant says so.
func (b *Bundle) Predict(features, clinical map[string]float64) (map[string]Prediction, error) {
	out := make(map[string]Prediction, len(b.Endpoints))
	for _, name := range b.EndpointNames() {
		p, err := b.Endpoints[name].predict(name, features, clinical)
		if err != nil {
			return nil, fmt.Errorf("predict %s: %w", name, err)
		}
		out[name] = p
	}
	return out, nil
}

func (e *EndpointBundle) predict(endpoint string, features, clinical map[string]float64) (Prediction, error) {
	// DLR score and the image features' parts of it (z-scale background 0).
	l := e.Lasso
	dlr := l.Model.Intercept
	imgPart := make([]float64, len(l.Inputs))
	for j, f := range l.Inputs {
		v, ok := features[f]
		if !ok {
			return Prediction{}, fmt.Errorf("feature %q missing", f)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Prediction{}, fmt.Errorf("feature %q is %v", f, v)
		}
		imgPart[j] = l.Model.Coef[j] * (v - l.Scaler.Mean[j]) / l.Scaler.SD[j]
		dlr += imgPart[j]
	}
	p := Prediction{Endpoint: endpoint, DLRScore: dlr, DLRWeights: e.DLRWeights()}
	m, bg := e.DLRC, e.DLRCBackground
	p.Variant = VariantDLRC
	for _, in := range m.Inputs[1:] {
		v, ok := clinical[in]
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			p.MissingClinical = append(p.MissingClinical, in)
		}
	}
	if len(p.MissingClinical) > 0 {
		m, bg, p.Variant = e.DLR, e.DLRBackground, VariantDLROnly
	}
	model := ModelDLRC
	if p.Variant == VariantDLROnly {
		model = ModelDLR
	}
	logit := m.Model.Intercept
	for j, in := range m.Inputs {
		v := dlr
		if in != DLRScore {
			v = clinical[in]
		}
		z := (v - m.Scaler.Mean[j]) / m.Scaler.SD[j]
		logit += m.Model.Coef[j] * z
		phi := m.Model.Coef[j] * (z - bg[j])
		if in == DLRScore {
			// Split the DLR score's SHAP over the image features: the
			// score enters linearly, β/SD per unit of score.
			k := m.Model.Coef[j] / m.Scaler.SD[j]
			for f, part := range imgPart {
				p.Contributions = append(p.Contributions, Contribution{Name: l.Inputs[f], Kind: "image", Value: features[l.Inputs[f]], SHAP: k * part})
			}
			continue
		}
		p.Contributions = append(p.Contributions, Contribution{Name: in, Kind: "clinical", Value: v, SHAP: phi})
	}
	sort.SliceStable(p.Contributions, func(a, c int) bool {
		return math.Abs(p.Contributions[a].SHAP) > math.Abs(p.Contributions[c].SHAP)
	})
	p.Probability = sigmoid(logit)
	p.Threshold = e.Thresholds[model]
	p.Responder = p.Probability >= p.Threshold
	return p, nil
}
