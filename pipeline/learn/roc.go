package learn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// ROC holds the predictor values of the cases (y = 1) and controls (y = 0) of
// one binary outcome. Every statistic uses pROC's direction "<": a higher
// value means a case (controls < threshold <= cases). pROC's default
// direction="auto" (also with explicit controls= and cases=, pROC 1.18)
// flips a model that is worse than chance to an AUC above 0.5; a predicted
// probability must never be flipped, so the R golden script passes
// direction="<".
type ROC struct {
	Cases    []float64
	Controls []float64
}

// NewROC splits predictor p by the 0/1 outcome y. It rejects NaN or infinite
// values, outcomes other than 0 and 1, and an outcome with one class only.
func NewROC(y []int, p []float64) (ROC, error) {
	if err := checkOutcome(y, p); err != nil {
		return ROC{}, fmt.Errorf("roc: %w", err)
	}
	var r ROC
	for i, v := range p {
		if y[i] == 1 {
			r.Cases = append(r.Cases, v)
		} else {
			r.Controls = append(r.Controls, v)
		}
	}
	return r, nil
}

// checkOutcome validates a 0/1 outcome vector and a parallel finite predictor.
func checkOutcome(y []int, p []float64) error {
	if len(y) != len(p) {
		return fmt.Errorf("%d outcomes but %d predictions", len(y), len(p))
	}
	var events int
	for i := range y {
		if y[i] != 0 && y[i] != 1 {
			return fmt.Errorf("row %d: outcome %d is not 0 or 1", i+1, y[i])
		}
		if math.IsNaN(p[i]) || math.IsInf(p[i], 0) {
			return fmt.Errorf("row %d: prediction is %v", i+1, p[i])
		}
		events += y[i]
	}
	if events == 0 || events == len(y) {
		return fmt.Errorf("outcome has one class only (%d events in %d rows)", events, len(y))
	}
	return nil
}

// AUC is the area under the empirical ROC curve, the Mann–Whitney statistic
// divided by n_cases·n_controls with ties counted ½.
func (r ROC) AUC() float64 {
	return aucByRanks(r.Cases, r.Controls)
}

// aucByRanks computes the AUC in O(n log n) from the rank sum of the cases.
func aucByRanks(cases, controls []float64) float64 {
	all := make([]float64, 0, len(cases)+len(controls))
	all = append(all, cases...)
	all = append(all, controls...)
	rk := Ranks(all)
	var s float64
	for i := range cases {
		s += rk[i]
	}
	m, n := float64(len(cases)), float64(len(controls))
	return (s - m*(m+1)/2) / (m * n)
}

// placements returns DeLong's structural components: for each case the
// fraction of controls it beats (V10), for each control the fraction of cases
// that beat it (V01), and their mean, the AUC (pROC's delongPlacements).
func (r ROC) placements() (v10, v01 []float64, auc float64) {
	m, n := len(r.Cases), len(r.Controls)
	v10 = make([]float64, m)
	v01 = make([]float64, n)
	// Sort both groups once, then each placement is a count by binary search.
	cs := append([]float64(nil), r.Cases...)
	ct := append([]float64(nil), r.Controls...)
	sort.Float64s(cs)
	sort.Float64s(ct)
	for i, x := range r.Cases {
		lo := sort.SearchFloat64s(ct, x)                                  // controls < x
		hi := sort.Search(len(ct), func(k int) bool { return ct[k] > x }) // controls <= x
		v10[i] = (float64(lo) + 0.5*float64(hi-lo)) / float64(n)
		auc += v10[i]
	}
	auc /= float64(m)
	for j, x := range r.Controls {
		lo := sort.Search(len(cs), func(k int) bool { return cs[k] > x }) // cases <= x
		eq := lo - sort.SearchFloat64s(cs, x)
		v01[j] = (float64(m-lo) + 0.5*float64(eq)) / float64(m)
	}
	return v10, v01, auc
}

// DeLong returns the AUC and its DeLong variance (pROC var(method="delong")).
func (r ROC) DeLong() (auc, variance float64, err error) {
	m, n := len(r.Cases), len(r.Controls)
	if m < 2 || n < 2 {
		return 0, 0, fmt.Errorf("delong: need at least 2 cases and 2 controls, got %d and %d", m, n)
	}
	v10, v01, auc := r.placements()
	sx := sumSqDev(v10, auc) / float64(m-1)
	sy := sumSqDev(v01, auc) / float64(n-1)
	return auc, sx/float64(m) + sy/float64(n), nil
}

func sumSqDev(x []float64, mean float64) float64 {
	var s float64
	for _, v := range x {
		d := v - mean
		s += d * d
	}
	return s
}

// CIDeLong is the DeLong confidence interval for the AUC at the given level
// (0.95 for 95 %), normal quantiles around the AUC clipped to [0, 1], as pROC
// ci.auc(method = "delong").
func (r ROC) CIDeLong(level float64) ([2]float64, error) {
	auc, v, err := r.DeLong()
	if err != nil {
		return [2]float64{}, err
	}
	z := stdNormal.Quantile(1 - (1-level)/2)
	sd := math.Sqrt(v)
	return [2]float64{clamp01(auc - z*sd), clamp01(auc + z*sd)}, nil
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// CIBootstrap is the stratified percentile bootstrap confidence interval of
// the AUC, as pROC ci.auc(method = "bootstrap", stratified = TRUE): each of
// n resamples draws the cases and the controls separately with replacement
// (so every resample keeps both classes), and the interval is R's type-7
// quantiles of the resampled AUCs. The random numbers differ from R's.
func (r ROC) CIBootstrap(n int, level float64, rng *rand.Rand) ([2]float64, error) {
	if n < 2 {
		return [2]float64{}, fmt.Errorf("bootstrap: need at least 2 resamples, got %d", n)
	}
	if len(r.Cases) == 0 || len(r.Controls) == 0 {
		return [2]float64{}, fmt.Errorf("bootstrap: need cases and controls")
	}
	aucs := make([]float64, n)
	cs := make([]float64, len(r.Cases))
	ct := make([]float64, len(r.Controls))
	for b := range aucs {
		for i := range cs {
			cs[i] = r.Cases[rng.IntN(len(r.Cases))]
		}
		for i := range ct {
			ct[i] = r.Controls[rng.IntN(len(r.Controls))]
		}
		aucs[b] = fastAUC(cs, ct)
	}
	sort.Float64s(aucs)
	a := (1 - level) / 2
	return [2]float64{QuantileType7(aucs, a), QuantileType7(aucs, 1-a)}, nil
}

// fastAUC sorts its (scratch) inputs in place and counts by merging; used by
// the bootstrap, where allocation would dominate.
func fastAUC(cases, controls []float64) float64 {
	sort.Float64s(cases)
	sort.Float64s(controls)
	var s float64
	lo, hi := 0, 0 // controls[:lo] < x, controls[:hi] <= x
	for _, x := range cases {
		for lo < len(controls) && controls[lo] < x {
			lo++
		}
		if hi < lo {
			hi = lo
		}
		for hi < len(controls) && controls[hi] <= x {
			hi++
		}
		s += float64(lo) + 0.5*float64(hi-lo)
	}
	return s / (float64(len(cases)) * float64(len(controls)))
}

// QuantileType7 is R's default quantile (type 7) of sorted x at probability q.
func QuantileType7(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := float64(len(sorted)-1) * q
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// DeLongTest is DeLong's test for two correlated (paired) ROC curves.
type DeLongTest struct {
	AUC1, AUC2 float64
	Z          float64 // (AUC1 − AUC2) / SE
	P          float64 // two-sided
}

// CompareROC tests AUC(p1) against AUC(p2) on the same patients, as pROC
// roc.test(roc1, roc2, method = "delong", paired = TRUE).
func CompareROC(y []int, p1, p2 []float64) (DeLongTest, error) {
	r1, err := NewROC(y, p1)
	if err != nil {
		return DeLongTest{}, fmt.Errorf("delong test, first model: %w", err)
	}
	r2, err := NewROC(y, p2)
	if err != nil {
		return DeLongTest{}, fmt.Errorf("delong test, second model: %w", err)
	}
	m, n := len(r1.Cases), len(r1.Controls)
	if m < 2 || n < 2 {
		return DeLongTest{}, fmt.Errorf("delong test: need at least 2 cases and 2 controls, got %d and %d", m, n)
	}
	x1, y1, a1 := r1.placements()
	x2, y2, a2 := r2.placements()
	cov := func(a, b []float64, ma, mb float64) float64 {
		var s float64
		for i := range a {
			s += (a[i] - ma) * (b[i] - mb)
		}
		return s / float64(len(a)-1)
	}
	// S = SX/m + SY/n; var(AUC1 − AUC2) = L S Lᵀ with L = (1, −1).
	v := (cov(x1, x1, a1, a1)+cov(x2, x2, a2, a2)-2*cov(x1, x2, a1, a2))/float64(m) +
		(cov(y1, y1, a1, a1)+cov(y2, y2, a2, a2)-2*cov(y1, y2, a1, a2))/float64(n)
	d := a1 - a2
	t := DeLongTest{AUC1: a1, AUC2: a2}
	if v <= 0 {
		if d == 0 { // identical curves: pROC reports z = 0
			t.P = 1
			return t, nil
		}
		return DeLongTest{}, fmt.Errorf("delong test: zero variance of the AUC difference")
	}
	t.Z = d / math.Sqrt(v)
	t.P = 2 * stdNormal.CDF(-math.Abs(t.Z))
	return t, nil
}

// Threshold is one operating point of a ROC curve: a patient is called
// positive when the predictor is >= Value.
type Threshold struct {
	Value       float64
	Sensitivity float64
	Specificity float64
}

// Curve is the empirical ROC curve at pROC's thresholds: −Inf, the midpoints
// between consecutive distinct values, and +Inf, in increasing order.
func (r ROC) Curve() []Threshold {
	all := make([]float64, 0, len(r.Cases)+len(r.Controls))
	all = append(all, r.Cases...)
	all = append(all, r.Controls...)
	sort.Float64s(all)
	uniq := all[:0:0]
	for i, v := range all {
		if i == 0 || v != all[i-1] {
			uniq = append(uniq, v)
		}
	}
	ts := []float64{math.Inf(-1)}
	for i := 1; i < len(uniq); i++ {
		ts = append(ts, (uniq[i-1]+uniq[i])/2)
	}
	ts = append(ts, math.Inf(1))
	cs := append([]float64(nil), r.Cases...)
	ct := append([]float64(nil), r.Controls...)
	sort.Float64s(cs)
	sort.Float64s(ct)
	out := make([]Threshold, len(ts))
	for i, t := range ts {
		below := sort.SearchFloat64s(cs, t) // cases < t are called negative
		neg := sort.SearchFloat64s(ct, t)   // controls < t are true negatives
		out[i] = Threshold{
			Value:       t,
			Sensitivity: float64(len(cs)-below) / float64(len(cs)),
			Specificity: float64(neg) / float64(len(ct)),
		}
	}
	return out
}

// Youden returns the threshold maximising sensitivity + specificity − 1
// (pROC coords(x = "best", best.method = "youden")). Where several
// thresholds tie, the lowest is returned. The infinite end points are never
// chosen.
func (r ROC) Youden() Threshold {
	c := r.Curve()
	best := c[1]
	if len(c) == 2 { // a single distinct value: only ±Inf exist
		best = c[0]
		best.Value = r.Cases[0]
	}
	for _, t := range c[1 : len(c)-1] {
		if t.Sensitivity+t.Specificity > best.Sensitivity+best.Specificity {
			best = t
		}
	}
	return best
}

// Classification is the confusion matrix of one threshold and the ratios
// derived from it. A ratio whose denominator is zero (no predicted positives
// for PPV, say) is NaN; callers print it as "n/a" (JSON null).
type Classification struct {
	Threshold      float64
	TP, FP, TN, FN int
	Sensitivity    float64
	Specificity    float64
	Accuracy       float64
	PPV            float64
	NPV            float64
}

// Classify calls p >= threshold positive and tabulates against y. It is how a
// Youden threshold found on training data is applied to a test set.
func Classify(y []int, p []float64, threshold float64) (Classification, error) {
	if len(y) != len(p) || len(y) == 0 {
		return Classification{}, fmt.Errorf("classify: %d outcomes and %d predictions", len(y), len(p))
	}
	c := Classification{Threshold: threshold}
	for i := range y {
		if math.IsNaN(p[i]) {
			return Classification{}, fmt.Errorf("classify: row %d: prediction is NaN", i+1)
		}
		pos := p[i] >= threshold
		switch {
		case y[i] == 1 && pos:
			c.TP++
		case y[i] == 1:
			c.FN++
		case pos:
			c.FP++
		default:
			c.TN++
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return math.NaN()
		}
		return float64(a) / float64(b)
	}
	c.Sensitivity = ratio(c.TP, c.TP+c.FN)
	c.Specificity = ratio(c.TN, c.TN+c.FP)
	c.Accuracy = ratio(c.TP+c.TN, len(y))
	c.PPV = ratio(c.TP, c.TP+c.FP)
	c.NPV = ratio(c.TN, c.TN+c.FN)
	return c, nil
}
