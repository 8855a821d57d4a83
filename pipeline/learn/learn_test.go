package learn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestMannWhitneyHandChecked(t *testing.T) {
	// x = {1, 2, 2, 5}, y = {2, 3, 4}. Pooled sorted: 1 2 2 2 3 4 5, so the
	// three 2s share rank (2+3+4)/3 = 3: ranks of x are 1, 3, 3, 7 (sum 14).
	// W = 14 − 4·5/2 = 4; E[W] = 4·3/2 = 6; one tie group of 3: Σ(t³−t) = 24.
	// σ = √(4·3/12 · (8 − 24/(7·6))) = √7.428571 = 2.725541.
	// z = (4 − 6 + 0.5)/σ = −0.550348 (continuity correction towards 0).
	// p = 2·Φ(−0.550348) = 0.582080 (R wilcox.test gives 0.582079651929502).
	r, err := MannWhitney([]float64{1, 2, 2, 5}, []float64{2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "W", r.U, 4, 0)
	near(t, "z", r.Z, -1.5/math.Sqrt(8-24.0/42), 1e-12)
	near(t, "p", r.P, 0.582079651929502, 1e-12)
}

func TestSpearmanHandChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		x, y []float64
		want float64
	}{
		// No ties: d = (−1, 1, −1, 1, 0), ρ = 1 − 6·4/(5·24) = 0.8.
		{"no ties", []float64{1, 2, 3, 4, 5}, []float64{2, 1, 4, 3, 5}, 0.8},
		// Ties: ranks x = (1, 2.5, 2.5, 4), y = (1, 3, 2, 4); centred
		// (−1.5, 0, 0, 1.5) and (−1.5, .5, −.5, 1.5): ρ = 4.5/√(4.5·5) = 0.9486833.
		{"ties", []float64{1, 2, 2, 3}, []float64{1, 3, 2, 4}, 4.5 / math.Sqrt(22.5)},
		{"reversed", []float64{1, 2, 3}, []float64{30, 20, 10}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rho, err := Spearman(tc.x, tc.y)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "rho", rho, tc.want, 1e-12)
		})
	}
	if _, err := Spearman([]float64{1, 1, 1}, []float64{1, 2, 3}); err == nil {
		t.Error("Spearman of a constant: no error")
	}
}

func TestDecisionCurveHandChecked(t *testing.T) {
	y := []int{1, 0, 1, 0}
	p := []float64{0.8, 0.6, 0.4, 0.2}
	nb, err := DecisionCurve(y, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(nb) != 99 || nb[0].Threshold != 0.01 || nb[98].Threshold != 0.99 {
		t.Fatalf("thresholds %v … %v (%d)", nb[0].Threshold, nb[len(nb)-1].Threshold, len(nb))
	}
	// t = 0.30: p >= t treats 0.8 (event), 0.6 (non-event), 0.4 (event):
	// TP = 2, FP = 1, NB = 2/4 − 1/4·0.3/0.7; treat all = 0.5 − 0.5·0.3/0.7.
	near(t, "NB(0.30)", nb[29].Model, 0.5-0.25*0.3/0.7, 1e-12)
	near(t, "treat all(0.30)", nb[29].TreatAll, 0.5-0.5*0.3/0.7, 1e-12)
	// t = 0.50: TP = 1, FP = 1, NB = 1/4 − 1/4·1 = 0.
	near(t, "NB(0.50)", nb[49].Model, 0, 1e-12)
	near(t, "treat none", nb[49].TreatNone, 0, 0)
}

func TestClassifyAndYouden(t *testing.T) {
	y := []int{0, 0, 0, 1, 0, 1, 1, 1}
	p := []float64{0.1, 0.2, 0.3, 0.35, 0.6, 0.7, 0.8, 0.9}
	r, err := NewROC(y, p)
	if err != nil {
		t.Fatal(err)
	}
	// Thresholds 0.325 (sens 1, spec 3/4) and 0.65 (sens 3/4, spec 1) tie
	// at J = 0.75; the lower one is returned.
	yd := r.Youden()
	near(t, "threshold", yd.Value, 0.325, 1e-12)
	c, err := Classify(y, p, yd.Value)
	if err != nil {
		t.Fatal(err)
	}
	if c.TP != 4 || c.FP != 1 || c.TN != 3 || c.FN != 0 {
		t.Errorf("confusion TP %d FP %d TN %d FN %d, want 4 1 3 0", c.TP, c.FP, c.TN, c.FN)
	}
	near(t, "PPV", c.PPV, 0.8, 1e-12)
	near(t, "NPV", c.NPV, 1, 1e-12)
	near(t, "accuracy", c.Accuracy, 7.0/8, 1e-12)
	c, _ = Classify(y, p, 2)
	if !math.IsNaN(c.PPV) || c.NPV != 0.5 {
		t.Errorf("no positives: PPV %v (want NaN), NPV %v", c.PPV, c.NPV)
	}
}

func TestGoldenLogistic(t *testing.T) {
	_, cols := readCSV(t, "lasso_tall.csv")
	var want struct {
		GLM   []float64 `json:"glm"`
		GLMSE []float64 `json:"glm_se"`
		GLMP  []float64 `json:"glm_p"`
		Ridge []struct {
			C         float64
			Intercept float64
			Coef      []float64
		} `json:"ridge"`
	}
	readJSON(t, "logistic.json", &want)
	y := ints(cols["y"])
	x := [][]float64{cols["X1"], cols["X3"], cols["X4"], cols["X5"]}
	m, err := FitLogistic(x, y, LogisticOptions{})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "glm intercept", m.Intercept, want.GLM[0], 1e-6)
	for j := range x {
		near(t, "glm coef", m.Coef[j], want.GLM[j+1], 1e-6)
	}
	w, err := LogisticWald(x, y, m)
	if err != nil {
		t.Fatal(err)
	}
	for j := range want.GLMSE {
		near(t, "glm SE", w.SE[j], want.GLMSE[j], 1e-6)
		near(t, "glm p", w.P[j], want.GLMP[j], 1e-6)
	}
	for _, r := range want.Ridge {
		m, err := FitLogistic(x, y, LogisticOptions{C: r.C})
		if err != nil {
			t.Fatal(err)
		}
		near(t, "ridge intercept", m.Intercept, r.Intercept, 1e-6)
		for j := range x {
			near(t, "ridge coef", m.Coef[j], r.Coef[j], 1e-6)
		}
	}
}

func TestCVLogisticC(t *testing.T) {
	_, cols := readCSV(t, "lasso_tall.csv")
	y := ints(cols["y"])
	folds := ints(cols["fold"])
	for i := range folds {
		folds[i]--
	}
	// One informative column (X1) among 20: a weak penalty overfits less
	// than 20 noise columns would hurt, so check the deviance is computed
	// per candidate and the minimum is chosen.
	x := make([][]float64, 0, 20)
	for j := 1; j <= 20; j++ {
		x = append(x, cols[fmt.Sprintf("X%d", j)])
	}
	cands := []float64{1e-4, 0.01, 1, 100}
	best, dev, err := CVLogisticC(context.Background(), x, y, folds, cands)
	if err != nil {
		t.Fatal(err)
	}
	for c := range cands {
		if dev[c] < dev[slices.Index(cands, best)] {
			t.Errorf("C = %v has deviance %v below the chosen C = %v (%v)", cands[c], dev[c], best, dev)
		}
	}
	// C = 1e-4 shrinks everything to the intercept: its deviance is close
	// to the null deviance −2·[ȳ log ȳ + (1−ȳ) log(1−ȳ)] (held-out ȳ differs slightly).
	var ybar float64
	for _, v := range y {
		ybar += float64(v)
	}
	ybar /= float64(len(y))
	null := -2 * (ybar*math.Log(ybar) + (1-ybar)*math.Log(1-ybar))
	near(t, "deviance at C = 1e-4", dev[0], null, 0.05)
	if best == 1e-4 {
		t.Errorf("chose the null model (deviances %v)", dev)
	}
}

func TestBadInput(t *testing.T) {
	nan := math.NaN()
	y := []int{0, 1, 0, 1, 0, 1}
	p := []float64{0.1, 0.9, 0.2, 0.8, 0.3, 0.7}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"NaN prediction", func() error { _, err := NewROC(y, []float64{0.1, nan, 0.2, 0.8, 0.3, 0.7}); return err }(), "row 2"},
		{"one class", func() error { _, err := NewROC([]int{1, 1, 1}, []float64{.1, .2, .3}); return err }(), "one class"},
		{"outcome 2", func() error { _, err := NewROC([]int{0, 2}, []float64{.1, .2}); return err }(), "row 2: outcome 2"},
		{"few events", func() error { _, err := Evaluate(y, p, EvaluateOptions{}); return err }(), "need at least 10"},
		{"probability > 1", func() error { _, err := Calibrate(y, []float64{0.1, 1.5, 0.2, 0.8, 0.3, 0.7}); return err }(), "outside [0, 1]"},
		{"separation", func() error { _, err := Calibrate(y, p); return err }(), "separation"},
		{"constant ICC", func() error { _, err := ICC([][]float64{{1, 1, 1}, {1, 1, 1}}); return err }(), "constant"},
		{"NaN feature", func() error {
			_, err := FitLassoPath(ctx, [][]float64{{1, 2, 3, 4, 5, nan}}, y, LassoOptions{})
			return err
		}(), "column 1: row 6: value is NaN"},
		{"constant scaler", func() error { _, err := FitScaler([]string{"glcm_x"}, [][]float64{{2, 2, 2}}); return err }(), `"glcm_x" is constant`},
		{"folds with few events", func() error { _, err := StratifiedFolds(y, 10, rand.New(rand.NewPCG(1, 1))); return err }(), "only 3 patients with outcome 0"},
		{"one class in a fold", func() error {
			// Fold 0 holds every event, so its training set has none.
			x := [][]float64{{1, 2, 3, 4, 5, 6, 7, 8, 9}}
			_, err := CVLasso(ctx, x, []int{1, 1, 1, 0, 0, 0, 0, 0, 0}, []int{0, 0, 0, 1, 1, 1, 2, 2, 2}, LassoOptions{})
			return err
		}(), "fold 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", tc.err, tc.want)
			}
		})
	}
}

func TestConstantFeatureInLasso(t *testing.T) {
	// glmnet gives a constant column a zero coefficient; so does FitLassoPath,
	// and the rest of the fit is that of the other column alone.
	_, cols := readCSV(t, "lasso_tall.csv")
	y := ints(cols["y"])
	konst := make([]float64, len(y))
	for i := range konst {
		konst[i] = 3
	}
	ctx := context.Background()
	with, err := FitLassoPath(ctx, [][]float64{cols["X1"], konst}, y, LassoOptions{Thresh: 1e-12})
	if err != nil {
		t.Fatal(err)
	}
	alone, err := FitLassoPath(ctx, [][]float64{cols["X1"]}, y, LassoOptions{Lambda: with.Lambda, Thresh: 1e-12})
	if err != nil {
		t.Fatal(err)
	}
	for k := range with.Lambda {
		if with.Beta[k][1] != 0 {
			t.Fatalf("constant feature got coefficient %v", with.Beta[k][1])
		}
		near(t, "beta", with.Beta[k][0], alone.Beta[k][0], 1e-9)
	}
}

func TestSelectionFilters(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	n := 60
	y := make([]int, n)
	signal := make([]float64, n)
	noise := make([]float64, n)
	copyish := make([]float64, n)
	konst := make([]float64, n)
	for i := range y {
		y[i] = i % 2
		signal[i] = float64(y[i])*1.5 + rng.NormFloat64()
		noise[i] = rng.NormFloat64()
		copyish[i] = signal[i]*2 + 0.01*rng.NormFloat64()
		konst[i] = 1
	}
	names := []string{"signal", "noise", "copy", "const"}
	cols := [][]float64{signal, noise, copyish, konst}

	keep, pv, removed, err := MannWhitneyFilter(names, cols, y, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	if len(keep) != 2 || keep[0] != 0 || keep[1] != 2 {
		t.Errorf("mann-whitney kept %v (p %v), want [0 2]", keep, pv)
	}
	if len(removed) != 2 || removed[1].Feature != "const" || removed[1].Reason != "constant feature" {
		t.Errorf("removed %+v", removed)
	}

	// signal and copy have ρ ≈ 1; noise has a lower mean |ρ| to the others.
	keep, removed, err = RedundancyFilter(names[:3], cols[:3], 0.9)
	if err != nil {
		t.Fatal(err)
	}
	if len(keep) != 2 || len(removed) != 1 || removed[0].Step != StepRedundancy {
		t.Errorf("redundancy kept %v removed %+v", keep, removed)
	}

	// Readers: a feature reproduced with small error passes, pure noise fails.
	r2 := make([]float64, n)
	r2noise := make([]float64, n)
	for i := range r2 {
		r2[i] = signal[i] + 0.05*rng.NormFloat64()
		r2noise[i] = rng.NormFloat64()
	}
	keep, removed, err = ICCFilter([]string{"good", "bad", "const"}, [][]float64{signal, noise, konst}, [][]float64{r2, r2noise, konst}, ICC21, 0.75)
	if err != nil {
		t.Fatal(err)
	}
	if len(keep) != 1 || keep[0] != 0 || len(removed) != 2 {
		t.Errorf("icc kept %v removed %+v", keep, removed)
	}

	train, test, err := StratifiedSplit(y, 0.2, rng)
	if err != nil {
		t.Fatal(err)
	}
	ev := 0
	for _, i := range test {
		ev += y[i]
	}
	if len(test) != 12 || len(train) != 48 || ev != 6 {
		t.Errorf("split: %d train, %d test with %d events", len(train), len(test), ev)
	}
	folds, err := StratifiedFolds(y, 10, rng)
	if err != nil {
		t.Fatal(err)
	}
	per := make([][2]int, 10)
	for i, f := range folds {
		per[f][y[i]]++
	}
	for f, c := range per {
		if c[0] != 3 || c[1] != 3 {
			t.Errorf("fold %d has %d non-events and %d events, want 3 and 3", f, c[0], c[1])
		}
	}
}

func TestScalerAndSHAP(t *testing.T) {
	names := []string{"a", "b"}
	cols := [][]float64{{1, 2, 3, 4}, {10, 10, 20, 20}}
	sc, err := FitScaler(names, cols)
	if err != nil {
		t.Fatal(err)
	}
	// Mean 2.5, 1/n SD √1.25; mean 15, SD 5.
	near(t, "sd a", sc.SD[0], math.Sqrt(1.25), 1e-12)
	z, _ := sc.Transform(cols)
	near(t, "z b[0]", z[1][0], -1, 1e-12)

	m := Logistic{Intercept: 0.5, Coef: []float64{2, -1}}
	bg := ColumnMeans(cols)
	phi, err := LinearSHAP(m, bg, cols)
	if err != nil {
		t.Fatal(err)
	}
	// Patient 0: φ = (2·(1−2.5), −1·(10−15)) = (−3, 5); they add up to the
	// logit minus the logit at the mean.
	near(t, "phi a", phi[0][0], -3, 1e-12)
	near(t, "phi b", phi[0][1], 5, 1e-12)
	lp := LinearPredictors(m, cols)
	near(t, "additivity", phi[0][0]+phi[0][1], lp[0]-m.LinearPredictor(bg), 1e-12)
	rank := MeanAbsSHAP(names, phi)
	// mean |φ_a| = 2·mean|x−2.5| = 2; mean |φ_b| = 5.
	if rank[0].Feature != "b" || rank[0].MeanAbsSHAP != 5 || rank[1].MeanAbsSHAP != 2 {
		t.Errorf("ranking %+v", rank)
	}
}

func TestDirectionIsNeverFlipped(t *testing.T) {
	// pROC's default direction="auto" would report 0.875 here ("controls >
	// cases"); a model that ranks cases low must show AUC < 0.5. Of the 16
	// (case, control) pairs only three score: (3,3) ½, (4,3) 1,
	// (4,4) ½, so AUC = 2/16 = 0.125.
	y := []int{0, 0, 0, 0, 1, 1, 1, 1}
	p := []float64{3, 4, 5, 6, 1, 2, 3, 4}
	r, err := NewROC(y, p)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "AUC", r.AUC(), 0.125, 1e-12)
}

func TestParseICCForm(t *testing.T) {
	for in, want := range map[string]ICCForm{"ICC(2,1)": ICC21, "icc2": ICC21, "": ICC21, " ICC3 ": ICC31, "icc(3,1)": ICC31} {
		got, err := ParseICCForm(in)
		if err != nil || got != want {
			t.Errorf("ParseICCForm(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseICCForm("icc1"); err == nil {
		t.Error("ParseICCForm(icc1): no error")
	}
}
