package learn

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// syntheticCohort makes n patients × p features from two readers, the first
// 20 features informative, features 20–39 near-copies of 0–19 (redundant),
// every 10th feature poorly reproducible, plus a clinical variable.
func syntheticCohort(n, p int, seed uint64) (names []string, r1, r2 [][]float64, clinical []float64, y []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	latent := make([]float64, n)
	clinical = make([]float64, n)
	y = make([]int, n)
	for i := range y {
		latent[i] = rng.NormFloat64()
		clinical[i] = rng.NormFloat64()
		if rng.Float64() < sigmoid(2.5*latent[i]+0.8*clinical[i]-0.2) {
			y[i] = 1
		}
	}
	for j := 0; j < p; j++ {
		names = append(names, fmt.Sprintf("f%04d", j))
		a, b := make([]float64, n), make([]float64, n)
		readerNoise := 0.1
		if j%10 == 9 {
			readerNoise = 2
		}
		for i := range a {
			var v float64
			switch {
			case j < 20:
				v = latent[i] + 0.8*rng.NormFloat64()
			case j < 40:
				v = r1[j-20][i] + 0.05*rng.NormFloat64()
			default:
				v = rng.NormFloat64()
			}
			a[i] = math.Exp(v / 3) // skewed, positive, like radiomics
			b[i] = math.Exp((v + readerNoise*rng.NormFloat64()) / 3)
		}
		r1, r2 = append(r1, a), append(r2, b)
	}
	return names, r1, r2, clinical, y
}

// BenchmarkSelectionAndBootstrap runs TrainEndpoint, the statistics of
// `sacrum train` for one endpoint, on 183 patients × 1,000 features from two
// readers: split, ICC, Mann–Whitney, redundancy, scaler, LASSO with 10-fold
// CV, clinical screening, three L2 models with C by CV, and the evaluation
// of each on training and test sets with 2,000 stratified bootstraps.
func BenchmarkSelectionAndBootstrap(b *testing.B) {
	d := syntheticTrainData(183, 1000, 1)
	for b.Loop() {
		if _, err := TrainEndpoint(context.Background(), d, TrainConfig{}); err != nil {
			b.Fatal(err)
		}
	}
}

func syntheticTrainData(n, p int, seed uint64) TrainData {
	names, r1, r2, clinical, y := syntheticCohort(n, p, seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	noise := make([]float64, n)
	for i := range noise {
		noise[i] = 40 + 10*rng.NormFloat64()
	}
	return TrainData{Features: names, Reader1: r1, Reader2: r2, Y: y,
		Clinical: []string{"crp", "age"}, ClinCols: [][]float64{clinical, noise}}
}

func TestTrainEndpoint(t *testing.T) {
	d := syntheticTrainData(183, 300, 2)
	res, err := TrainEndpoint(context.Background(), d, TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Train)+len(res.Test) != 183 || len(res.Test) < 30 || len(res.Test) > 43 {
		t.Errorf("split %d + %d", len(res.Train), len(res.Test))
	}
	informative := 0
	for _, n := range res.Selected {
		var j int
		fmt.Sscanf(n, "f%d", &j)
		if j%10 == 9 {
			t.Errorf("%s is poorly reproducible but passed the ICC filter", n)
		}
		if j < 40 {
			informative++
		}
	}
	// 36 of the 270 reproducible features are informative (13 %); the
	// selection must enrich them well beyond that.
	if len(res.Selected) == 0 || informative*3 < len(res.Selected) {
		t.Errorf("%d of %d selected features are informative: %v", informative, len(res.Selected), res.Selected)
	}
	if len(res.Selection)+len(res.Selected) != 300 {
		t.Errorf("%d removals + %d selected, want 300 features accounted for", len(res.Selection), len(res.Selected))
	}
	if len(res.Clinical.Inputs) != 1 || res.Clinical.Inputs[0] != "crp" {
		t.Errorf("clinical inputs %v, want [crp]", res.Clinical.Inputs)
	}
	if res.DLRC.Inputs[0] != DLRScore || len(res.DLRC.Inputs) != 2 {
		t.Errorf("DLRC inputs %v", res.DLRC.Inputs)
	}
	test := res.Metrics[ModelDLRC]["test"]
	// The signal is strong here (the sum of the informative features has a
	// test AUC of 0.96 for this seed): the DLRC model must find most of it.
	if test.AUC < 0.8 || test.VsClinical == nil || test.VsClinical.Reference != ModelClinical {
		t.Errorf("DLRC test AUC %.3f, comparison %+v", test.AUC, test.VsClinical)
	}
	if res.Metrics[ModelClinical]["test"].VsClinical != nil {
		t.Error("clinical model compared with itself")
	}
	if len(test.DecisionCurve) != 99 || len(test.CalibrationCurve) == 0 {
		t.Errorf("%d decision-curve points, %d calibration bins", len(test.DecisionCurve), len(test.CalibrationCurve))
	}
	if _, err := json.Marshal(res.Metrics); err != nil {
		t.Errorf("metrics do not marshal: %v", err)
	}
	if len(res.SHAPDLRC) != 2 || len(res.SHAPDLRCTest) != len(res.Test) || len(res.SHAPLasso) != len(res.Selected) {
		t.Errorf("SHAP: %d DLRC, %d test rows, %d LASSO", len(res.SHAPDLRC), len(res.SHAPDLRCTest), len(res.SHAPLasso))
	}
	// The DLRC model applied to raw inputs reproduces the evaluated AUC.
	dlr, err := res.Lasso.LinearPredictors(pick(d, res.Lasso.Inputs))
	if err != nil {
		t.Fatal(err)
	}
	p, err := res.DLRC.Predict([][]float64{dlr, d.ClinCols[0]})
	if err != nil {
		t.Fatal(err)
	}
	roc, _ := NewROC(RowsInt(d.Y, res.Test), Rows([][]float64{p}, res.Test)[0])
	near(t, "DLRC test AUC from the saved models", roc.AUC(), test.AUC, 1e-12)
}

func TestTrainEndpointBadInput(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		modify func(d *TrainData)
		want   string
	}{
		{"NaN feature", func(d *TrainData) { d.Reader1[7][20] = math.NaN() }, `feature "f0007": row 21: value is NaN`},
		{"NaN clinical", func(d *TrainData) { d.ClinCols[1][3] = math.NaN() }, `clinical variable "age"`},
		{"few events", func(d *TrainData) {
			kept := 0
			for i := range d.Y {
				if d.Y[i] == 1 {
					if kept >= 12 {
						d.Y[i] = 0
					}
					kept++
				}
			}
		}, "need at least 10"},
		{"no clinical", func(d *TrainData) { d.Clinical, d.ClinCols = nil, nil }, "no clinical variables"},
		{"split length", func(d *TrainData) { d.Test = make([]bool, 5) }, "split has 5 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := syntheticTrainData(120, 50, 3)
			tc.modify(&d)
			_, err := TrainEndpoint(ctx, d, TrainConfig{Bootstrap: 10})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// A constant feature is not an error: the ICC step removes it, saying why.
	d := syntheticTrainData(183, 60, 2)
	for i := range d.Reader1[0] {
		d.Reader1[0][i], d.Reader2[0][i] = 4, 4
	}
	res, err := TrainEndpoint(ctx, d, TrainConfig{Bootstrap: 10})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Selection[0]; r.Feature != "f0000" || r.Step != StepICC || r.Reason != "constant feature" {
		t.Errorf("first removal %+v, want f0000 removed by the ICC step as constant", r)
	}
}

func TestTrainEndpointHeldOutDLR(t *testing.T) {
	ctx := context.Background()
	// HeldOutDLR changes the second-stage fit but not the LASSO.
	d0 := syntheticTrainData(183, 60, 2)
	a, err := TrainEndpoint(ctx, d0, TrainConfig{Bootstrap: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, err := TrainEndpoint(ctx, d0, TrainConfig{Bootstrap: 10, HeldOutDLR: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Selected, b.Selected) || a.DLRC.Model.Coef[0] == b.DLRC.Model.Coef[0] {
		t.Errorf("HeldOutDLR: selected %v vs %v, DLRC DLR coefficient %v vs %v", a.Selected, b.Selected, a.DLRC.Model.Coef[0], b.DLRC.Model.Coef[0])
	}
}

// pick returns reader 1's columns of the named features.
func pick(d TrainData, names []string) [][]float64 {
	var out [][]float64
	for _, n := range names {
		for j, f := range d.Features {
			if f == n {
				out = append(out, d.Reader1[j])
			}
		}
	}
	return out
}

// BenchmarkCVLassoAllFeatures is the worst case of step 5: 10-fold CV of the
// LASSO path on all 1,000 features of 146 training patients (as if no
// filter removed anything).
func BenchmarkCVLassoAllFeatures(b *testing.B) {
	names, r1, _, _, y := syntheticCohort(183, 1000, 1)
	sc, err := FitScaler(names, r1)
	if err != nil {
		b.Fatal(err)
	}
	z, _ := sc.Transform(r1)
	folds, err := StratifiedFolds(y, 10, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := CVLasso(context.Background(), z, y, folds, LassoOptions{NoStandardize: true}); err != nil {
			b.Fatal(err)
		}
	}
}
