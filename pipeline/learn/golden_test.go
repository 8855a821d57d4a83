package learn

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The expected values in testdata/golden/*.json were written by
// testdata/golden.R (R pROC, glmnet, Hmisc, psych) from the committed CSVs.

// readCSV returns the columns of a numeric CSV with a header, by name, in order.
func readCSV(t *testing.T, name string) (names []string, cols map[string][]float64) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	names = recs[0]
	cols = map[string][]float64{}
	for _, rec := range recs[1:] {
		for j, s := range rec {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			cols[names[j]] = append(cols[names[j]], v)
		}
	}
	return names, cols
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func ints(x []float64) []int {
	out := make([]int, len(x))
	for i, v := range x {
		out[i] = int(v)
	}
	return out
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g (±%g)", what, got, want, tol)
	}
}

type goldenCohort struct {
	Models map[string]struct {
		AUC         float64    `json:"auc"`
		VarDeLong   float64    `json:"var_delong"`
		CIDeLong    [2]float64 `json:"ci_delong"`
		CIBootstrap [2]float64 `json:"ci_bootstrap"`
		Youden      struct {
			Threshold, Sensitivity, Specificity float64
		} `json:"youden"`
		Slope          float64        `json:"calibration_slope"`
		SlopeIntercept float64        `json:"calibration_slope_intercept"`
		InTheLarge     float64        `json:"calibration_in_the_large"`
		Brier          float64        `json:"brier"`
		HLR            map[string]any `json:"hosmer_lemeshow"` // NaN where a group is empty
		HL             HosmerLemeshow `json:"hosmer_lemeshow_nonempty"`
	} `json:"models"`
	Tests map[string]struct {
		DeLongZ      float64 `json:"delong_z"`
		DeLongP      float64 `json:"delong_p"`
		NRI          float64 `json:"nri"`
		NRISE        float64 `json:"nri_se"`
		NRIZ         float64 `json:"nri_z"`
		NRIP         float64 `json:"nri_p"`
		NRIEvents    float64 `json:"nri_events"`
		NRINonEvents float64 `json:"nri_nonevents"`
		IDI          float64 `json:"idi"`
		IDISE        float64 `json:"idi_se"`
		IDIZ         float64 `json:"idi_z"`
		IDIP         float64 `json:"idi_p"`
	} `json:"tests"`
	MannWhitney struct{ W, P float64 } `json:"mann_whitney_weak"`
	Spearman    float64                `json:"spearman_ref_weak"`
}

func TestGoldenROCAndCalibration(t *testing.T) {
	_, cols := readCSV(t, "cohort.csv")
	var want goldenCohort
	readJSON(t, "cohort.json", &want)
	y := ints(cols["y"])
	for _, m := range []string{"ref", "new", "weak"} {
		w := want.Models[m]
		t.Run(m, func(t *testing.T) {
			p := cols[m]
			r, err := NewROC(y, p)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "AUC", r.AUC(), w.AUC, 1e-9)
			auc, v, err := r.DeLong()
			if err != nil {
				t.Fatal(err)
			}
			near(t, "DeLong AUC", auc, w.AUC, 1e-9)
			near(t, "DeLong variance", v, w.VarDeLong, 1e-9)
			ci, err := r.CIDeLong(0.95)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "DeLong CI low", ci[0], w.CIDeLong[0], 1e-6)
			near(t, "DeLong CI high", ci[1], w.CIDeLong[1], 1e-6)
			// Same algorithm as pROC, different random numbers: agree to
			// Monte Carlo error (2,000 resamples, SE of a 2.5 % quantile ≈ 0.005).
			bci, err := r.CIBootstrap(2000, 0.95, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			near(t, "bootstrap CI low", bci[0], w.CIBootstrap[0], 0.015)
			near(t, "bootstrap CI high", bci[1], w.CIBootstrap[1], 0.015)
			yd := r.Youden()
			near(t, "Youden threshold", yd.Value, w.Youden.Threshold, 1e-9)
			near(t, "Youden sensitivity", yd.Sensitivity, w.Youden.Sensitivity, 1e-9)
			near(t, "Youden specificity", yd.Specificity, w.Youden.Specificity, 1e-9)

			c, err := Calibrate(y, p)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "calibration slope", c.Slope, w.Slope, 1e-6)
			near(t, "calibration slope intercept", c.SlopeIntercept, w.SlopeIntercept, 1e-6)
			near(t, "calibration in the large", c.InTheLarge, w.InTheLarge, 1e-6)
			near(t, "Brier", c.Brier, w.Brier, 1e-9)
			near(t, "HL chi2", c.HosmerLemeshow.Chi2, w.HL.Chi2, 1e-6)
			near(t, "HL p", c.HosmerLemeshow.P, w.HL.P, 1e-6)
			if chi2, ok := w.HLR["chi2"].(float64); ok { // hoslem.test itself, where defined
				near(t, "HL chi2 (hoslem.test)", c.HosmerLemeshow.Chi2, chi2, 1e-6)
			}
			if c.HosmerLemeshow.DF != w.HL.DF {
				t.Errorf("HL df = %d, want %d", c.HosmerLemeshow.DF, w.HL.DF)
			}
			n := 0
			for _, b := range c.Curve {
				n += b.N
			}
			if n != len(y) {
				t.Errorf("calibration curve holds %d patients, want %d", n, len(y))
			}
		})
	}
	for _, m := range []string{"new", "weak"} {
		w := want.Tests[m]
		t.Run("vs ref/"+m, func(t *testing.T) {
			d, err := CompareROC(y, cols[m], cols["ref"])
			if err != nil {
				t.Fatal(err)
			}
			near(t, "DeLong z", d.Z, w.DeLongZ, 1e-6)
			near(t, "DeLong p", d.P, w.DeLongP, 1e-6)
			r, err := Reclassify(y, cols["ref"], cols[m])
			if err != nil {
				t.Fatal(err)
			}
			near(t, "NRI", r.NRI, w.NRI, 1e-6)
			near(t, "NRI SE", r.NRISE, w.NRISE, 1e-6)
			near(t, "NRI z", r.NRIZ, w.NRIZ, 1e-6)
			near(t, "NRI p", r.NRIP, w.NRIP, 1e-6)
			near(t, "NRI events", r.NRIEvents, w.NRIEvents, 1e-6)
			near(t, "NRI non-events", r.NRINonEvents, w.NRINonEvents, 1e-6)
			near(t, "IDI", r.IDI, w.IDI, 1e-6)
			near(t, "IDI SE", r.IDISE, w.IDISE, 1e-6)
			near(t, "IDI z", r.IDIZ, w.IDIZ, 1e-6)
			near(t, "IDI p", r.IDIP, w.IDIP, 1e-6)
		})
	}
	t.Run("mann-whitney and spearman", func(t *testing.T) {
		var cases, controls []float64
		for i, v := range cols["weak"] {
			if y[i] == 1 {
				cases = append(cases, v)
			} else {
				controls = append(controls, v)
			}
		}
		mw, err := MannWhitney(cases, controls)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "W", mw.U, want.MannWhitney.W, 1e-9)
		near(t, "p", mw.P, want.MannWhitney.P, 1e-9)
		rho, err := Spearman(cols["ref"], cols["weak"])
		if err != nil {
			t.Fatal(err)
		}
		near(t, "rho", rho, want.Spearman, 1e-9)
	})
}

func TestGoldenICC(t *testing.T) {
	_, cols := readCSV(t, "icc.csv")
	var want map[string]struct {
		ICC2, ICC3, F, P float64
		DF1, DF2         int
	}
	readJSON(t, "icc.json", &want)
	for _, tc := range []struct {
		name   string
		raters [][]float64
	}{
		{"two", [][]float64{cols["r1"], cols["r2"]}},
		{"three", [][]float64{cols["r1"], cols["r2"], cols["r3"]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := want[tc.name]
			r, err := ICC(tc.raters)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "ICC(2,1)", r.Value(ICC21), w.ICC2, 1e-9)
			near(t, "ICC(3,1)", r.Value(ICC31), w.ICC3, 1e-9)
			near(t, "F", r.F, w.F, 1e-6)
			near(t, "p", r.P, w.P, 1e-6*w.P+1e-15)
			if r.DF1 != w.DF1 || r.DF2 != w.DF2 {
				t.Errorf("df = %d, %d, want %d, %d", r.DF1, r.DF2, w.DF1, w.DF2)
			}
		})
	}
}

type goldenLasso struct {
	Lambda      []float64   `json:"lambda"`
	A0          []float64   `json:"a0"`
	Beta        [][]float64 `json:"beta"` // Beta[j][k]
	NoStdLambda []float64   `json:"nostd_lambda"`
	NoStdA0     []float64   `json:"nostd_a0"`
	NoStdBeta   [][]float64 `json:"nostd_beta"`
	CVLambda    []float64   `json:"cv_lambda"`
	CVM         []float64   `json:"cvm"`
	CVSD        []float64   `json:"cvsd"`
	LambdaMin   float64     `json:"lambda_min"`
	Lambda1SE   float64     `json:"lambda_1se"`
}

func TestGoldenLasso(t *testing.T) {
	for _, name := range []string{"lasso_tall", "lasso_wide"} {
		t.Run(name, func(t *testing.T) {
			names, cols := readCSV(t, name+".csv")
			var want goldenLasso
			readJSON(t, name+".json", &want)
			y := ints(cols["y"])
			folds := ints(cols["fold"])
			for i := range folds {
				folds[i]-- // R's 1..K
			}
			var x [][]float64
			for _, n := range names[2:] {
				x = append(x, cols[n])
			}
			ctx := context.Background()

			// Default path: glmnet's λ sequence (and its early end).
			def, err := FitLassoPath(ctx, x, y, LassoOptions{Thresh: 1e-14})
			if err != nil {
				t.Fatal(err)
			}
			if len(def.Lambda) != len(want.Lambda) {
				t.Errorf("default path has %d λ, glmnet %d", len(def.Lambda), len(want.Lambda))
			}
			for k := 0; k < min(len(def.Lambda), len(want.Lambda)); k++ {
				near(t, "λ", def.Lambda[k], want.Lambda[k], 1e-9*want.Lambda[0])
			}

			// Coefficients on glmnet's λ path.
			path, err := FitLassoPath(ctx, x, y, LassoOptions{Lambda: want.Lambda, Thresh: 1e-14})
			if err != nil {
				t.Fatal(err)
			}
			for k := range want.Lambda {
				near(t, "intercept", path.Intercept[k], want.A0[k], 1e-4)
				for j := range x {
					if math.Abs(path.Beta[k][j]-want.Beta[j][k]) > 1e-4 {
						t.Errorf("λ[%d] = %.5g, β[%s] = %.8g, glmnet %.8g", k+1, want.Lambda[k], names[j+2], path.Beta[k][j], want.Beta[j][k])
					}
				}
			}

			// standardize = FALSE on z-scored columns (R's scale(): n−1 SD).
			z := make([][]float64, len(x))
			for j, c := range x {
				m, v := meanVar(c)
				z[j] = make([]float64, len(c))
				for i := range c {
					z[j][i] = (c[i] - m) / math.Sqrt(v)
				}
			}
			ns, err := FitLassoPath(ctx, z, y, LassoOptions{Lambda: want.NoStdLambda, NoStandardize: true, Thresh: 1e-14})
			if err != nil {
				t.Fatal(err)
			}
			for k := range want.NoStdLambda {
				near(t, "no-standardize intercept", ns.Intercept[k], want.NoStdA0[k], 1e-4)
				for j := range z {
					if math.Abs(ns.Beta[k][j]-want.NoStdBeta[j][k]) > 1e-4 {
						t.Errorf("standardize=FALSE λ[%d]: β[%s] = %.8g, glmnet %.8g", k+1, names[j+2], ns.Beta[k][j], want.NoStdBeta[j][k])
					}
				}
			}

			// cv.glmnet with the same fold ids.
			cv, err := CVLasso(ctx, x, y, folds, LassoOptions{Thresh: 1e-14})
			if err != nil {
				t.Fatal(err)
			}
			for k := 0; k < min(len(cv.CVM), len(want.CVM)); k++ {
				near(t, "cvm", cv.CVM[k], want.CVM[k], 1e-4)
				near(t, "cvsd", cv.CVSD[k], want.CVSD[k], 1e-4)
			}
			// HeldOut comes from the model that did not see the patient.
			var tr, te []int
			for i, f := range folds {
				if f == 2 {
					te = append(te, i)
				} else {
					tr = append(tr, i)
				}
			}
			fp, err := FitLassoPath(ctx, Rows(x, tr), RowsInt(y, tr), LassoOptions{Thresh: 1e-14})
			if err != nil {
				t.Fatal(err)
			}
			l := cv.IndexMin
			m := fp.At(cv.Path.Lambda[l])
			for _, i := range te {
				row := make([]float64, len(x))
				for j := range x {
					row[j] = x[j][i]
				}
				near(t, "held-out linear predictor", cv.HeldOut[l][i], m.LinearPredictor(row), 1e-12)
			}
			near(t, "lambda.min", cv.LambdaMin, want.LambdaMin, 1e-9)
			near(t, "lambda.1se", cv.Lambda1SE, want.Lambda1SE, 1e-9)
		})
	}
}
