package learn

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// ICCForm selects an intraclass correlation of Shrout & Fleiss (1979).
type ICCForm int

const (
	// ICC21 is ICC(2,1): two-way random effects, absolute agreement, single
	// rater (psych::ICC row "ICC2"). The default for reader reproducibility.
	ICC21 ICCForm = iota
	// ICC31 is ICC(3,1): two-way mixed effects, consistency, single rater
	// (psych::ICC row "ICC3").
	ICC31
)

// String names the form as in the literature.
func (f ICCForm) String() string {
	if f == ICC31 {
		return "ICC(3,1)"
	}
	return "ICC(2,1)"
}

// ParseICCForm accepts "icc2", "icc(2,1)", "icc3" or "icc(3,1)" (any case;
// empty means ICC(2,1)), as written in a training configuration.
func ParseICCForm(s string) (ICCForm, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "icc2", "icc(2,1)", "":
		return ICC21, nil
	case "icc3", "icc(3,1)":
		return ICC31, nil
	}
	return 0, fmt.Errorf("unknown ICC form %q (want ICC(2,1) or ICC(3,1))", s)
}

// ICCResult holds the two-way ANOVA of an n subjects × k raters table and
// the single-rater ICCs computed from it.
type ICCResult struct {
	MSB, MSJ, MSE float64 // subjects, raters (judges), residual mean squares
	ICC2, ICC3    float64
	F             float64 // MSB/MSE, shared by ICC2 and ICC3
	DF1, DF2      int
	P             float64 // of F against F(DF1, DF2)
}

// Value returns the ICC of the given form.
func (r ICCResult) Value(f ICCForm) float64 {
	if f == ICC31 {
		return r.ICC3
	}
	return r.ICC2
}

// ICC computes ICC(2,1) and ICC(3,1) from raters' columns (raters[j][i] is
// rater j's value for subject i), with the ANOVA mean squares of
// psych::ICC(x, lmer = FALSE) (psych's default lmer = TRUE uses REML
// variance components, equal for balanced complete data unless a component
// is negative):
//
//	ICC(2,1) = (MSB − MSE) / (MSB + (k−1)·MSE + k·(MSJ − MSE)/n)
//	ICC(3,1) = (MSB − MSE) / (MSB + (k−1)·MSE)
//
// It needs k ≥ 2 raters and n ≥ 2 subjects, all values finite, and returns an
// error when every subject has the same mean and there is no residual
// spread (a constant feature), where the ICC is 0/0.
func ICC(raters [][]float64) (ICCResult, error) {
	k := len(raters)
	if k < 2 {
		return ICCResult{}, fmt.Errorf("icc: need at least 2 raters, got %d", k)
	}
	n := len(raters[0])
	if n < 2 {
		return ICCResult{}, fmt.Errorf("icc: need at least 2 subjects, got %d", n)
	}
	if err := checkColumns(raters, n); err != nil {
		return ICCResult{}, fmt.Errorf("icc: %w", err)
	}
	var grand float64
	rowMean := make([]float64, n)
	colMean := make([]float64, k)
	for j, c := range raters {
		for i, v := range c {
			rowMean[i] += v
			colMean[j] += v
			grand += v
		}
	}
	fn, fk := float64(n), float64(k)
	grand /= fn * fk
	var ssb, ssj, sse float64
	for i := range rowMean {
		rowMean[i] /= fk
		ssb += (rowMean[i] - grand) * (rowMean[i] - grand)
	}
	ssb *= fk
	for j := range colMean {
		colMean[j] /= fn
		ssj += (colMean[j] - grand) * (colMean[j] - grand)
	}
	ssj *= fn
	// The residual sum of squares directly, not SST − SSB − SSJ, which
	// cancels badly when the readers nearly agree.
	for j, c := range raters {
		for i, v := range c {
			e := v - rowMean[i] - colMean[j] + grand
			sse += e * e
		}
	}
	r := ICCResult{
		MSB: ssb / (fn - 1),
		MSJ: ssj / (fk - 1),
		MSE: sse / ((fn - 1) * (fk - 1)),
		DF1: n - 1,
		DF2: (n - 1) * (k - 1),
	}
	d2 := r.MSB + (fk-1)*r.MSE + fk*(r.MSJ-r.MSE)/fn
	d3 := r.MSB + (fk-1)*r.MSE
	if d2 == 0 || d3 == 0 || r.MSB == 0 {
		return ICCResult{}, fmt.Errorf("icc: no variation between subjects (constant values)")
	}
	r.ICC2 = (r.MSB - r.MSE) / d2
	r.ICC3 = (r.MSB - r.MSE) / d3
	if r.MSE > 0 {
		r.F = r.MSB / r.MSE
		r.P = distuv.F{D1: float64(r.DF1), D2: float64(r.DF2)}.Survival(r.F)
	} else {
		r.F = math.Inf(1)
	}
	return r, nil
}
