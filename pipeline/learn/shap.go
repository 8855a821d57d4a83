package learn

import (
	"fmt"
	"math"
	"sort"
)

// LinearSHAP returns exact SHAP values on the logit scale for a linear
// model with independent features: φ[i][j] = β_j·(x_ij − E[x_j]), where the
// expectation is over the background data (the training means, background
// passed as one mean per feature). Σ_j φ[i][j] is the patient's logit minus
// the logit at the background mean.
func LinearSHAP(m Logistic, background []float64, cols [][]float64) ([][]float64, error) {
	if len(background) != len(m.Coef) || len(cols) != len(m.Coef) {
		return nil, fmt.Errorf("shap: %d coefficients, %d background means, %d features", len(m.Coef), len(background), len(cols))
	}
	n := columnsLen(cols)
	phi := make([][]float64, n)
	for i := range phi {
		phi[i] = make([]float64, len(m.Coef))
		for j, b := range m.Coef {
			phi[i][j] = b * (cols[j][i] - background[j])
		}
	}
	return phi, nil
}

// ColumnMeans returns the mean of every column (the SHAP background).
func ColumnMeans(cols [][]float64) []float64 {
	out := make([]float64, len(cols))
	for j, c := range cols {
		var s float64
		for _, v := range c {
			s += v
		}
		out[j] = s / float64(len(c))
	}
	return out
}

// Importance is one feature's mean |SHAP|.
type Importance struct {
	Feature     string  `json:"feature"`
	MeanAbsSHAP float64 `json:"mean_abs_shap"`
}

// MeanAbsSHAP ranks features by mean |φ| over patients, largest first (ties
// keep the feature order).
func MeanAbsSHAP(names []string, phi [][]float64) []Importance {
	out := make([]Importance, len(names))
	for j, name := range names {
		out[j].Feature = name
		for _, row := range phi {
			out[j].MeanAbsSHAP += math.Abs(row[j])
		}
		if len(phi) > 0 {
			out[j].MeanAbsSHAP /= float64(len(phi))
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].MeanAbsSHAP > out[b].MeanAbsSHAP })
	return out
}
