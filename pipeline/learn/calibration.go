package learn

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Calibration describes how well predicted probabilities match observed rates.
type Calibration struct {
	// Slope is b in logit P(y=1) = a + b·logit p̂ (R: glm(y ~ qlogis(p), binomial)).
	Slope float64
	// SlopeIntercept is the a fitted together with Slope.
	SlopeIntercept float64
	// InTheLarge is a in logit P(y=1) = a + logit p̂, b fixed at 1
	// (R: glm(y ~ 1, offset = qlogis(p), binomial)); 0 is perfect.
	InTheLarge float64
	// Brier is mean((p̂ − y)²).
	Brier float64
	// HosmerLemeshow is the g = 10 goodness-of-fit test.
	HosmerLemeshow HosmerLemeshow
	// Curve has one bin per Hosmer–Lemeshow group (deciles of p̂).
	Curve []CalibrationBin
}

// CalibrationBin is one point of a calibration curve.
type CalibrationBin struct {
	N         int     `json:"n"`
	Predicted float64 `json:"predicted"` // mean p̂ in the bin
	Observed  float64 `json:"observed"`  // fraction of events in the bin
}

// HosmerLemeshow is the Hosmer–Lemeshow goodness-of-fit test.
type HosmerLemeshow struct {
	Chi2 float64 `json:"chi2"`
	DF   int     `json:"df"`
	P    float64 `json:"p"`
}

// Calibrate computes the calibration slope and intercepts, Brier score,
// Hosmer–Lemeshow test and decile calibration curve of probabilities p for
// the 0/1 outcome y. Probabilities must lie in [0, 1]; for the logit they are
// clamped to [1e-10, 1−1e-10]. A perfectly separating p̂ has no finite slope
// and gives an error wrapping ErrSeparation.
func Calibrate(y []int, p []float64) (Calibration, error) {
	if err := checkProbabilities(y, p); err != nil {
		return Calibration{}, fmt.Errorf("calibration: %w", err)
	}
	lp := make([]float64, len(p))
	var brier float64
	for i, v := range p {
		lp[i] = logit(v)
		d := v - float64(y[i])
		brier += d * d
	}
	c := Calibration{Brier: brier / float64(len(p))}
	fit, err := FitLogistic([][]float64{lp}, y, LogisticOptions{})
	if err != nil {
		return Calibration{}, fmt.Errorf("calibration slope: %w", err)
	}
	c.Slope, c.SlopeIntercept = fit.Coef[0], fit.Intercept
	large, err := FitLogistic(nil, y, LogisticOptions{Offset: lp})
	if err != nil {
		return Calibration{}, fmt.Errorf("calibration in the large: %w", err)
	}
	c.InTheLarge = large.Intercept
	c.HosmerLemeshow, c.Curve, err = hosmerLemeshow(y, p, 10)
	if err != nil {
		return Calibration{}, err
	}
	return c, nil
}

// checkProbabilities validates a 0/1 outcome with both classes and
// probabilities in [0, 1].
func checkProbabilities(y []int, p []float64) error {
	if err := checkOutcome(y, p); err != nil {
		return err
	}
	for i, v := range p {
		if v < 0 || v > 1 {
			return fmt.Errorf("row %d: probability %v is outside [0, 1]", i+1, v)
		}
	}
	return nil
}

// hosmerLemeshow groups patients as ResourceSelection::hoslem.test does:
// break points are the distinct type-7 quantiles of p̂ at 0, 1/g, …, 1, and
// group k holds q[k−1] < p̂ ≤ q[k] (the first also holds p̂ = q[0]), so ties
// never straddle groups and fewer than g groups can result. A group left
// empty (a quantile falling between tied values) is dropped, where
// hoslem.test returns NaN; otherwise the two agree exactly. The statistic
// sums (O−E)²/E over events and non-events of every group and is referred to
// χ² with g − 2 degrees of freedom (g as requested, as hoslem.test does).
func hosmerLemeshow(y []int, p []float64, g int) (HosmerLemeshow, []CalibrationBin, error) {
	sorted := append([]float64(nil), p...)
	sort.Float64s(sorted)
	var breaks []float64
	for k := 0; k <= g; k++ {
		q := QuantileType7(sorted, float64(k)/float64(g))
		if k == g {
			q = sorted[len(sorted)-1] // avoid rounding below the maximum
		}
		if len(breaks) == 0 || q != breaks[len(breaks)-1] {
			breaks = append(breaks, q)
		}
	}
	if len(breaks) < 2 {
		return HosmerLemeshow{}, nil, fmt.Errorf("hosmer-lemeshow: every prediction is %v", p[0])
	}
	groups := len(breaks) - 1
	o1 := make([]float64, groups)
	e1 := make([]float64, groups)
	cnt := make([]int, groups)
	for i, v := range p {
		k := sort.SearchFloat64s(breaks[1:], v) // first break >= v
		if k >= groups {
			k = groups - 1
		}
		cnt[k]++
		o1[k] += float64(y[i])
		e1[k] += v
	}
	var chi2 float64
	bins := make([]CalibrationBin, 0, groups)
	for k := 0; k < groups; k++ {
		if cnt[k] == 0 {
			continue
		}
		nk := float64(cnt[k])
		o0, e0 := nk-o1[k], nk-e1[k]
		if e1[k] <= 0 || e0 <= 0 {
			return HosmerLemeshow{}, nil, fmt.Errorf("hosmer-lemeshow: group %d has an expected count of 0 (probabilities of exactly 0 or 1)", k+1)
		}
		chi2 += (o1[k]-e1[k])*(o1[k]-e1[k])/e1[k] + (o0-e0)*(o0-e0)/e0
		bins = append(bins, CalibrationBin{N: cnt[k], Predicted: e1[k] / nk, Observed: o1[k] / nk})
	}
	df := g - 2
	pv := distuv.ChiSquared{K: float64(df)}.Survival(chi2)
	return HosmerLemeshow{Chi2: chi2, DF: df, P: pv}, bins, nil
}

// NetBenefit is one point of a decision curve.
type NetBenefit struct {
	Threshold float64 `json:"threshold"`
	Model     float64 `json:"model"`
	TreatAll  float64 `json:"treat_all"`
	TreatNone float64 `json:"treat_none"`
}

// DecisionCurve returns the net benefit of treating patients with p̂ >= t,
// TP/n − FP/n · t/(1−t), for t = 0.01, 0.02, …, 0.99, with the treat-all
// strategy (prevalence − (1−prevalence)·t/(1−t)) and treat-none (0)
// (Vickers & Elkin 2006).
func DecisionCurve(y []int, p []float64) ([]NetBenefit, error) {
	if err := checkProbabilities(y, p); err != nil {
		return nil, fmt.Errorf("decision curve: %w", err)
	}
	n := float64(len(y))
	var events float64
	for _, v := range y {
		events += float64(v)
	}
	prev := events / n
	out := make([]NetBenefit, 0, 99)
	for k := 1; k <= 99; k++ {
		t := float64(k) / 100
		odds := t / (1 - t)
		var tp, fp float64
		for i, v := range p {
			if v >= t {
				if y[i] == 1 {
					tp++
				} else {
					fp++
				}
			}
		}
		out = append(out, NetBenefit{
			Threshold: t,
			Model:     tp/n - fp/n*odds,
			TreatAll:  prev - (1-prev)*odds,
			TreatNone: 0,
		})
	}
	return out, nil
}

// Reclassification compares a new model's probabilities with a reference
// model's on the same patients (Pencina et al., Stat Med 2008), with the
// formulas of Hmisc improveProb(x1 = reference, x2 = new, y).
type Reclassification struct {
	// NRI is the continuous (category-free) net reclassification
	// improvement: P(up|event) − P(down|event) + P(down|non-event) − P(up|non-event).
	NRI, NRISE, NRIZ, NRIP     float64
	NRIEvents, NRINonEvents    float64
	IDI, IDISE, IDIZ, IDIP     float64 // integrated discrimination improvement
	ImproveSens, ImproveSpec   float64 // mean rise in p̂ for events, mean fall for non-events
	UpEvents, DownEvents       int
	UpNonEvents, DownNonEvents int
}

// Reclassify computes NRI and IDI of pNew against pRef. p-values are
// two-sided normal (Hmisc's print method). It needs at least 2 events and 2
// non-events; a zero standard error (identical models) gives an error rather
// than a NaN z.
func Reclassify(y []int, pRef, pNew []float64) (Reclassification, error) {
	if err := checkProbabilities(y, pRef); err != nil {
		return Reclassification{}, fmt.Errorf("reclassification, reference: %w", err)
	}
	if err := checkProbabilities(y, pNew); err != nil {
		return Reclassification{}, fmt.Errorf("reclassification, new model: %w", err)
	}
	var r Reclassification
	var dEv, dNe []float64
	for i := range y {
		d := pNew[i] - pRef[i]
		if y[i] == 1 {
			dEv = append(dEv, d)
			if d > 0 {
				r.UpEvents++
			} else if d < 0 {
				r.DownEvents++
			}
		} else {
			dNe = append(dNe, d)
			if d > 0 {
				r.UpNonEvents++
			} else if d < 0 {
				r.DownNonEvents++
			}
		}
	}
	na, nb := float64(len(dEv)), float64(len(dNe))
	if na < 2 || nb < 2 {
		return Reclassification{}, fmt.Errorf("reclassification: need at least 2 events and 2 non-events, got %v and %v", na, nb)
	}
	upE, downE := float64(r.UpEvents), float64(r.DownEvents)
	upN, downN := float64(r.UpNonEvents), float64(r.DownNonEvents)
	r.NRIEvents = (upE - downE) / na
	r.NRINonEvents = (downN - upN) / nb
	vEv := (upE+downE)/(na*na) - (upE-downE)*(upE-downE)/(na*na*na)
	vNe := (downN+upN)/(nb*nb) - (downN-upN)*(downN-upN)/(nb*nb*nb)
	r.NRI = r.NRIEvents + r.NRINonEvents
	r.NRISE = math.Sqrt(vEv + vNe)
	mEv, vdEv := meanVar(dEv)
	mNe, vdNe := meanVar(dNe)
	r.ImproveSens, r.ImproveSpec = mEv, -mNe
	r.IDI = mEv - mNe
	r.IDISE = math.Sqrt(vdEv/na + vdNe/nb)
	if r.NRISE == 0 || r.IDISE == 0 {
		return Reclassification{}, fmt.Errorf("reclassification: zero standard error (the two models give the same probabilities)")
	}
	r.NRIZ = r.NRI / r.NRISE
	r.NRIP = 2 * stdNormal.CDF(-math.Abs(r.NRIZ))
	r.IDIZ = r.IDI / r.IDISE
	r.IDIP = 2 * stdNormal.CDF(-math.Abs(r.IDIZ))
	return r, nil
}

// meanVar is the mean and the (n−1) sample variance.
func meanVar(x []float64) (mean, variance float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	return mean, sumSqDev(x, mean) / float64(len(x)-1)
}
