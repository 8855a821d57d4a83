package learn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
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
		if rng.Float64() < sigmoid(1.2*latent[i]+0.8*clinical[i]-0.2) {
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
				v = 0.5*latent[i] + rng.NormFloat64()
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

// BenchmarkSelectionAndBootstrap runs the statistics of `sacrum train` for
// one endpoint on 183 patients × 1,000 features: split, ICC, Mann–Whitney,
// redundancy, scaler, LASSO with 10-fold CV, DLR and DLRC models, and the
// evaluation of three models on training and test sets with 2,000
// stratified bootstraps each.
func BenchmarkSelectionAndBootstrap(b *testing.B) {
	names, r1, r2, clinical, y := syntheticCohort(183, 1000, 1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := runPipeline(ctx, names, r1, r2, clinical, y); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPipelineOnSyntheticCohort(t *testing.T) {
	names, r1, r2, clinical, y := syntheticCohort(183, 300, 2)
	res, err := runPipeline(context.Background(), names, r1, r2, clinical, y)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.selected) == 0 {
		t.Fatal("LASSO selected nothing")
	}
	informative := 0
	for _, n := range res.selected {
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
	if informative*3 < len(res.selected) {
		t.Errorf("only %d of %d selected features are informative: %v", informative, len(res.selected), res.selected)
	}
	if res.dlrcTrainAUC < 0.75 {
		t.Errorf("DLRC training AUC %.3f, want >= 0.75", res.dlrcTrainAUC)
	}
}

type pipelineResult struct {
	selected     []string
	dlrcTrainAUC float64
}

func runPipeline(ctx context.Context, names []string, r1, r2 [][]float64, clinical []float64, y []int) (pipelineResult, error) {
	var res pipelineResult
	rng := rand.New(rand.NewPCG(1, 2))
	train, test, err := StratifiedSplit(y, 0.2, rng)
	if err != nil {
		return res, err
	}
	keep, _, err := ICCFilter(names, r1, r2, ICC21, 0.75)
	if err != nil {
		return res, err
	}
	names, cols := Subset(names, r1, keep)
	yTrain, yTest := RowsInt(y, train), RowsInt(y, test)
	trainCols := Rows(cols, train)
	keep, _, _, err = MannWhitneyFilter(names, trainCols, yTrain, 0.05)
	if err != nil {
		return res, err
	}
	names, trainCols = Subset(names, trainCols, keep)
	_, cols = Subset(nil, cols, keep)
	keep, _, err = RedundancyFilter(names, trainCols, 0.9)
	if err != nil {
		return res, err
	}
	names, trainCols = Subset(names, trainCols, keep)
	_, cols = Subset(nil, cols, keep)
	sc, err := FitScaler(names, trainCols)
	if err != nil {
		return res, err
	}
	zTrain, _ := sc.Transform(trainCols)
	zAll, _ := sc.Transform(cols)
	folds, err := StratifiedFolds(yTrain, 10, rng)
	if err != nil {
		return res, err
	}
	cv, err := CVLasso(ctx, zTrain, yTrain, folds, LassoOptions{NoStandardize: true})
	if err != nil {
		return res, err
	}
	lasso := cv.Path.Model(cv.IndexMin)
	keep, _ = LassoSelected(names, lasso)
	res.selected, _ = Subset(names, zAll, keep)
	dlr := LinearPredictors(lasso, zAll)
	clinModel, err := FitLogistic([][]float64{Rows([][]float64{clinical}, train)[0]}, yTrain, LogisticOptions{C: 1})
	if err != nil {
		return res, err
	}
	dlrc, err := FitLogistic(Rows([][]float64{dlr, clinical}, train), yTrain, LogisticOptions{C: 1})
	if err != nil {
		return res, err
	}
	dlrModel, err := FitLogistic(Rows([][]float64{dlr}, train), yTrain, LogisticOptions{C: 1})
	if err != nil {
		return res, err
	}
	preds := map[string][]float64{
		"clinical": clinModel.PredictColumns([][]float64{clinical}),
		"dlr":      dlrModel.PredictColumns([][]float64{dlr}),
		"dlrc":     dlrc.PredictColumns([][]float64{dlr, clinical}),
	}
	for name, p := range preds {
		for _, set := range []struct {
			rows []int
			y    []int
		}{{train, yTrain}, {test, yTest}} {
			ps := Rows([][]float64{p}, set.rows)[0]
			m, err := Evaluate(set.y, ps, EvaluateOptions{Seed: 1})
			if err != nil {
				return res, fmt.Errorf("%s: %w", name, err)
			}
			if name == "dlrc" && len(set.rows) == len(train) {
				res.dlrcTrainAUC = m.AUC
			}
			if name != "clinical" {
				if _, err := Compare(set.y, ps, Rows([][]float64{preds["clinical"]}, set.rows)[0]); err != nil {
					return res, fmt.Errorf("%s vs clinical: %w", name, err)
				}
			}
		}
	}
	return res, nil
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
