package learn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// TrainConfig holds the choices of the paper's modelling, with its values
// as defaults (zero fields take the default).
type TrainConfig struct {
	Seed         uint64    // split, folds and bootstrap (default 1)
	TestFraction float64   // stratified split when no split is given (0.2: 4:1)
	ICCForm      ICCForm   // reproducibility ICC (ICC(2,1))
	ICCMin       float64   // keep ICC >= (0.75)
	Alpha        float64   // Mann–Whitney p < Alpha (0.05)
	MaxAbsRho    float64   // redundancy |Spearman ρ| > (0.9)
	Folds        int       // CV folds for LASSO and C (10)
	Lambda1SE    bool      // LASSO at λ.1se instead of λ.min
	Cs           []float64 // L2 grid for the logistic models (0.001 … 100)
	ClinicalP    float64   // clinical screening, univariable and multivariable (0.05)
	Bootstrap    int       // AUC bootstrap resamples (2000)
	// HeldOutDLR fits the DLR and DLRC models on out-of-fold DLR scores of
	// the training patients (from the LASSO CV fold models at the chosen λ)
	// instead of the in-sample scores, which are optimistic and make the
	// second stage over-trust the DLR score. Test patients always get the
	// score of the LASSO fitted on the whole training set.
	HeldOutDLR bool
}

func (c TrainConfig) withDefaults() TrainConfig {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.TestFraction == 0 {
		c.TestFraction = 0.2
	}
	if c.ICCMin == 0 {
		c.ICCMin = 0.75
	}
	if c.Alpha == 0 {
		c.Alpha = 0.05
	}
	if c.MaxAbsRho == 0 {
		c.MaxAbsRho = 0.9
	}
	if c.Folds == 0 {
		c.Folds = 10
	}
	if len(c.Cs) == 0 {
		c.Cs = []float64{0.001, 0.01, 0.1, 1, 10, 100}
	}
	if c.ClinicalP == 0 {
		c.ClinicalP = 0.05
	}
	if c.Bootstrap == 0 {
		c.Bootstrap = 2000
	}
	return c
}

// TrainData is one endpoint's cohort, column-major.
type TrainData struct {
	Features []string    // image feature names
	Reader1  [][]float64 // features from reader 1's segmentation (used for modelling)
	Reader2  [][]float64 // the same from reader 2 (ICC only); nil skips the ICC step
	Clinical []string    // clinical variable names
	ClinCols [][]float64 // clinical values
	Y        []int       // 0/1 outcome
	Test     []bool      // optional split (true = test set); nil = stratified split
}

// LinearModel is a logistic model on named inputs z-scored by Scaler.
type LinearModel struct {
	Inputs []string `json:"inputs"`
	Scaler Scaler   `json:"scaler"`
	Model  Logistic `json:"model"`
	C      float64  `json:"c,omitempty"` // L2 strength chosen by CV (0 for the LASSO)
}

// LinearPredictors returns the logit of every patient from raw inputs.
func (m LinearModel) LinearPredictors(cols [][]float64) ([]float64, error) {
	z, err := m.Scaler.Transform(cols)
	if err != nil {
		return nil, err
	}
	return LinearPredictors(m.Model, z), nil
}

// Predict returns the probability of every patient from raw inputs.
func (m LinearModel) Predict(cols [][]float64) ([]float64, error) {
	lp, err := m.LinearPredictors(cols)
	if err != nil {
		return nil, err
	}
	for i, v := range lp {
		lp[i] = sigmoid(v)
	}
	return lp, nil
}

// SetMetrics are one model's SummaryMetrics on one set with the curves of
// metrics.json and the report.
type SetMetrics struct {
	SummaryMetrics
	CalibrationCurve []CalibrationBin `json:"calibration_curve"`
	DecisionCurve    []NetBenefit     `json:"decision_curve"`
	ROC              []Threshold      `json:"-"` // for figures
}

// Model names of TrainResult.Metrics.
const (
	ModelClinical = "clinical"
	ModelDLR      = "dlr"
	ModelDLRC     = "dlrc"
)

// DLRScore is the input name of the DLR score in the DLR and DLRC models.
const DLRScore = "dlr_score"

// TrainResult is everything `sacrum train` writes for one endpoint.
type TrainResult struct {
	Train, Test []int     // patient rows
	Selection   []Removal // every removed feature and why
	Selected    []string  // the LASSO features
	Lasso       LinearModel
	LassoCV     *LassoCV `json:"-"`
	Lambda      float64
	Clinical    LinearModel // clinical-only
	DLR         LinearModel // DLR score only; the fallback without clinical inputs
	DLRC        LinearModel // DLR score + clinical
	// Metrics[model]["train"|"test"].
	Metrics map[string]map[string]SetMetrics
	// SHAP rankings (mean |SHAP| on the training set, logit scale) of the
	// LASSO features in the DLR score and of the DLRC inputs.
	SHAPLasso, SHAPDLRC []Importance
	// SHAPDLRCTest holds per-patient SHAP values of the DLRC inputs on the test set.
	SHAPDLRCTest [][]float64
}

// TrainEndpoint runs the paper's pipeline for one endpoint: split,
// reproducibility (ICC), Mann–Whitney filter, redundancy, LASSO with K-fold
// CV on training-scaled features (DLR score = its linear predictor), the
// clinical, DLR and DLRC L2 logistic models with C by CV, and the
// evaluation of each on training and test sets. Clinical variables are
// screened by univariable Wald p < ClinicalP, then kept if p < ClinicalP in
// the multivariable model of the survivors; if none passes, the variable
// with the smallest univariable p is kept so every model has a clinical part.
func TrainEndpoint(ctx context.Context, d TrainData, cfg TrainConfig) (*TrainResult, error) {
	cfg = cfg.withDefaults()
	n := len(d.Y)
	if err := checkBinary(d.Y); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if len(d.Reader1) != len(d.Features) || len(d.ClinCols) != len(d.Clinical) {
		return nil, fmt.Errorf("train: %d feature names for %d columns, %d clinical names for %d columns", len(d.Features), len(d.Reader1), len(d.Clinical), len(d.ClinCols))
	}
	if len(d.Clinical) == 0 {
		return nil, fmt.Errorf("train: no clinical variables")
	}
	for j, c := range d.Reader1 {
		if err := checkColumn(c, n); err != nil {
			return nil, fmt.Errorf("train: feature %q: %w", d.Features[j], err)
		}
	}
	for j, c := range d.ClinCols {
		if err := checkColumn(c, n); err != nil {
			return nil, fmt.Errorf("train: clinical variable %q: %w", d.Clinical[j], err)
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7a1))
	res := &TrainResult{}
	if d.Test != nil {
		if len(d.Test) != n {
			return nil, fmt.Errorf("train: split has %d rows for %d patients", len(d.Test), n)
		}
		for i, t := range d.Test {
			if t {
				res.Test = append(res.Test, i)
			} else {
				res.Train = append(res.Train, i)
			}
		}
	} else {
		var err error
		if res.Train, res.Test, err = StratifiedSplit(d.Y, cfg.TestFraction, rng); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	yTrain, yTest := subsetInts(d.Y, res.Train), subsetInts(d.Y, res.Test)
	if err := CheckEvents(yTrain); err != nil {
		return nil, fmt.Errorf("train: training set: %w", err)
	}
	if err := CheckEvents(yTest); err != nil {
		return nil, fmt.Errorf("train: test set: %w", err)
	}

	// Steps 2–4 on the training rows.
	idx := make([]int, len(d.Features))
	for j := range idx {
		idx[j] = j
	}
	if d.Reader2 != nil {
		keep, removed, err := ICCFilter(d.Features, d.Reader1, d.Reader2, cfg.ICCForm, cfg.ICCMin)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		idx, res.Selection = keep, append(res.Selection, removed...)
	}
	names, cols := Subset(d.Features, d.Reader1, idx)
	trainCols := subsetColumns(cols, res.Train)
	keep, _, removed, err := MannWhitneyFilter(names, trainCols, yTrain, cfg.Alpha)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	res.Selection = append(res.Selection, removed...)
	names, trainCols = Subset(names, trainCols, keep)
	_, cols = Subset(nil, cols, keep)
	if len(names) == 0 {
		return nil, fmt.Errorf("train: no feature passed the Mann–Whitney filter (p < %v)", cfg.Alpha)
	}
	keep, removed, err = RedundancyFilter(names, trainCols, cfg.MaxAbsRho)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	res.Selection = append(res.Selection, removed...)
	names, trainCols = Subset(names, trainCols, keep)
	_, cols = Subset(nil, cols, keep)

	// Step 5: LASSO on training-scaled features.
	sc, err := FitScaler(names, trainCols)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	zTrain, _ := sc.Transform(trainCols)
	folds, err := StratifiedFolds(yTrain, cfg.Folds, rng)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	cv, err := CVLasso(ctx, zTrain, yTrain, folds, LassoOptions{NoStandardize: true})
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	k := cv.IndexMin
	if cfg.Lambda1SE {
		k = cv.Index1SE
	}
	lasso := cv.Path.Model(k)
	keep, removed = LassoSelected(names, lasso)
	if len(keep) == 0 {
		return nil, fmt.Errorf("train: LASSO kept no feature at λ = %.4g; try λ.min or more data", cv.Path.Lambda[k])
	}
	res.Selection = append(res.Selection, removed...)
	res.LassoCV, res.Lambda = cv, cv.Path.Lambda[k]
	sel, selCols := Subset(names, cols, keep)
	res.Selected = sel
	selScaler := Scaler{Names: sel}
	coef := make([]float64, len(keep))
	for i, j := range keep {
		selScaler.Mean = append(selScaler.Mean, sc.Mean[j])
		selScaler.SD = append(selScaler.SD, sc.SD[j])
		coef[i] = lasso.Coef[j]
	}
	res.Lasso = LinearModel{Inputs: sel, Scaler: selScaler, Model: Logistic{Intercept: lasso.Intercept, Coef: coef}}
	dlr, err := res.Lasso.LinearPredictors(selCols)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}

	// The DLR score the second-stage models are fitted on.
	dlrFit := dlr
	if cfg.HeldOutDLR {
		dlrFit = append([]float64(nil), dlr...)
		for t, i := range res.Train {
			dlrFit[i] = cv.HeldOut[k][t]
		}
	}

	// Step 6: clinical screening and the three L2 models.
	clinIdx, err := screenClinical(d, res.Train, yTrain, cfg.ClinicalP)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	clinNames, clinCols := Subset(d.Clinical, d.ClinCols, clinIdx)
	fit := func(inputs []string, all [][]float64) (LinearModel, error) {
		tr := subsetColumns(all, res.Train)
		s, err := FitScaler(inputs, tr)
		if err != nil {
			return LinearModel{}, err
		}
		z, _ := s.Transform(tr)
		c, _, err := CVLogisticC(ctx, z, yTrain, folds, cfg.Cs)
		if err != nil {
			return LinearModel{}, err
		}
		m, err := FitLogistic(z, yTrain, LogisticOptions{C: c})
		if err != nil {
			return LinearModel{}, err
		}
		return LinearModel{Inputs: inputs, Scaler: s, Model: m, C: c}, nil
	}
	if res.Clinical, err = fit(clinNames, clinCols); err != nil {
		return nil, fmt.Errorf("train: clinical model: %w", err)
	}
	if res.DLR, err = fit([]string{DLRScore}, [][]float64{dlrFit}); err != nil {
		return nil, fmt.Errorf("train: DLR model: %w", err)
	}
	dlrcIn := append([]string{DLRScore}, clinNames...)
	if res.DLRC, err = fit(dlrcIn, append([][]float64{dlrFit}, clinCols...)); err != nil {
		return nil, fmt.Errorf("train: DLRC model: %w", err)
	}

	// Evaluation, always with the full-training LASSO's DLR score.
	dlrcCols := append([][]float64{dlr}, clinCols...)
	preds := map[string][]float64{}
	for name, mc := range map[string]struct {
		m    LinearModel
		cols [][]float64
	}{ModelClinical: {res.Clinical, clinCols}, ModelDLR: {res.DLR, [][]float64{dlr}}, ModelDLRC: {res.DLRC, dlrcCols}} {
		if preds[name], err = mc.m.Predict(mc.cols); err != nil {
			return nil, fmt.Errorf("train: %s: %w", name, err)
		}
	}
	res.Metrics = map[string]map[string]SetMetrics{}
	for _, name := range []string{ModelClinical, ModelDLR, ModelDLRC} {
		pTrain := subsetFloats(preds[name], res.Train)
		roc, err := NewROC(yTrain, pTrain)
		if err != nil {
			return nil, fmt.Errorf("train: %s: %w", name, err)
		}
		thr := roc.Youden().Value
		res.Metrics[name] = map[string]SetMetrics{}
		for set, rows := range map[string][]int{"train": res.Train, "test": res.Test} {
			var ref []float64
			if name != ModelClinical {
				ref = subsetFloats(preds[ModelClinical], rows)
			}
			m, err := setMetrics(subsetInts(d.Y, rows), subsetFloats(preds[name], rows), ref, thr, cfg)
			if err != nil {
				return nil, fmt.Errorf("train: %s, %s set: %w", name, set, err)
			}
			res.Metrics[name][set] = m
		}
	}

	// SHAP on the logit scale, background = training means of the model inputs.
	zSel, _ := selScaler.Transform(subsetColumns(selCols, res.Train))
	phi, _ := LinearSHAP(res.Lasso.Model, ColumnMeans(zSel), zSel)
	res.SHAPLasso = MeanAbsSHAP(sel, phi)
	zd, _ := res.DLRC.Scaler.Transform(dlrcCols)
	bg := ColumnMeans(subsetColumns(zd, res.Train))
	phi, _ = LinearSHAP(res.DLRC.Model, bg, subsetColumns(zd, res.Train))
	res.SHAPDLRC = MeanAbsSHAP(dlrcIn, phi)
	res.SHAPDLRCTest, _ = LinearSHAP(res.DLRC.Model, bg, subsetColumns(zd, res.Test))
	return res, nil
}

// screenClinical returns the clinical variables kept by univariable then
// multivariable Wald tests on the training rows.
func screenClinical(d TrainData, train []int, y []int, alpha float64) ([]int, error) {
	type uni struct {
		j int
		p float64
	}
	var all []uni
	var pass []int
	for j, c := range d.ClinCols {
		tr := subsetFloats(c, train)
		if isConstant(tr) {
			continue
		}
		m, err := FitLogistic([][]float64{tr}, y, LogisticOptions{})
		if err != nil {
			continue // separation on one variable: not usable as a predictor
		}
		w, err := LogisticWald([][]float64{tr}, y, m)
		if err != nil {
			continue
		}
		all = append(all, uni{j, w.P[1]})
		if w.P[1] < alpha {
			pass = append(pass, j)
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no usable clinical variable (all constant or separating)")
	}
	if len(pass) > 1 {
		_, cols := Subset(nil, d.ClinCols, pass)
		tr := subsetColumns(cols, train)
		if m, err := FitLogistic(tr, y, LogisticOptions{}); err == nil {
			if w, err := LogisticWald(tr, y, m); err == nil {
				var multi []int
				for k, j := range pass {
					if w.P[k+1] < alpha {
						multi = append(multi, j)
					}
				}
				pass = multi
			}
		}
	}
	if len(pass) == 0 {
		sort.SliceStable(all, func(a, b int) bool { return all[a].p < all[b].p })
		pass = []int{all[0].j}
	}
	return pass, nil
}

func setMetrics(y []int, p, ref []float64, thr float64, cfg TrainConfig) (SetMetrics, error) {
	m, err := Evaluate(y, p, EvaluateOptions{Bootstrap: cfg.Bootstrap, Seed: cfg.Seed})
	if err != nil {
		return SetMetrics{}, err
	}
	s := SetMetrics{SummaryMetrics: SummaryMetrics{ModelMetrics: m, N: len(y), Threshold: thr}}
	for _, v := range y {
		s.Events += v
	}
	c, err := Classify(y, p, thr)
	if err != nil {
		return SetMetrics{}, err
	}
	s.Sensitivity, s.Specificity, s.Accuracy, s.PPV, s.NPV = defined(c.Sensitivity), defined(c.Specificity), defined(c.Accuracy), defined(c.PPV), defined(c.NPV)
	cal, err := Calibrate(y, p)
	if err != nil {
		return SetMetrics{}, err
	}
	s.CalibrationCurve = cal.Curve
	if s.DecisionCurve, err = DecisionCurve(y, p); err != nil {
		return SetMetrics{}, err
	}
	roc, err := NewROC(y, p)
	if err != nil {
		return SetMetrics{}, err
	}
	s.ROC = roc.Curve()
	if ref != nil {
		cmp, err := Compare(y, p, ref)
		if err != nil {
			return SetMetrics{}, fmt.Errorf("against clinical: %w", err)
		}
		cmp.Reference = ModelClinical
		s.VsClinical = &cmp
	}
	return s, nil
}

// defined returns nil for NaN, so JSON gets null rather than an error.
func defined(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

func subsetFloats(x []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for k, i := range rows {
		out[k] = x[i]
	}
	return out
}
