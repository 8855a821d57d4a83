package learn

import (
	"fmt"
	"math/rand/v2"
)

// MinEvents is the fewest events (and non-events) Evaluate and Compare
// accept: below it the AUC confidence intervals, calibration fits and
// Hosmer–Lemeshow groups are meaningless.
const MinEvents = 10

// ModelMetrics are the per-model statistics of `sacrum evaluate` (and of
// each model in metrics.json), with their JSON names.
type ModelMetrics struct {
	AUC                  float64        `json:"auc"`
	AUCCIDeLong          [2]float64     `json:"auc_ci_delong"`
	AUCCIBootstrap       [2]float64     `json:"auc_ci_bootstrap"`
	Brier                float64        `json:"brier"`
	CalibrationSlope     float64        `json:"calibration_slope"`
	CalibrationIntercept float64        `json:"calibration_intercept"` // calibration-in-the-large
	HosmerLemeshow       HosmerLemeshow `json:"hosmer_lemeshow"`
}

// Comparison is a model against a reference model on the same patients.
type Comparison struct {
	Reference string  `json:"reference"`
	DeLongZ   float64 `json:"delong_z"`
	DeLongP   float64 `json:"delong_p"`
	IDI       float64 `json:"idi"`
	IDISE     float64 `json:"idi_se"`
	IDIP      float64 `json:"idi_p"`
	NRI       float64 `json:"nri"`
	NRIP      float64 `json:"nri_p"`
}

// EvaluateOptions configures Evaluate.
type EvaluateOptions struct {
	Bootstrap int     // stratified bootstrap resamples (default 2000)
	Level     float64 // confidence level (default 0.95)
	Seed      uint64  // seeds the bootstrap (PCG), so results are reproducible
}

// CheckEvents returns an error unless y is 0/1 with at least MinEvents
// events and MinEvents non-events.
func CheckEvents(y []int) error {
	if err := checkBinary(y); err != nil {
		return err
	}
	events := 0
	for _, v := range y {
		events += v
	}
	if events < MinEvents || len(y)-events < MinEvents {
		return fmt.Errorf("%d events and %d non-events: need at least %d of each", events, len(y)-events, MinEvents)
	}
	return nil
}

// Evaluate computes discrimination and calibration of probabilities p for
// outcome y.
func Evaluate(y []int, p []float64, opts EvaluateOptions) (ModelMetrics, error) {
	if opts.Bootstrap == 0 {
		opts.Bootstrap = 2000
	}
	if opts.Level == 0 {
		opts.Level = 0.95
	}
	if err := CheckEvents(y); err != nil {
		return ModelMetrics{}, err
	}
	r, err := NewROC(y, p)
	if err != nil {
		return ModelMetrics{}, err
	}
	m := ModelMetrics{AUC: r.AUC()}
	if m.AUCCIDeLong, err = r.CIDeLong(opts.Level); err != nil {
		return ModelMetrics{}, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5ac2))
	if m.AUCCIBootstrap, err = r.CIBootstrap(opts.Bootstrap, opts.Level, rng); err != nil {
		return ModelMetrics{}, err
	}
	c, err := Calibrate(y, p)
	if err != nil {
		return ModelMetrics{}, err
	}
	m.Brier, m.CalibrationSlope, m.CalibrationIntercept, m.HosmerLemeshow = c.Brier, c.Slope, c.InTheLarge, c.HosmerLemeshow
	return m, nil
}

// Compare tests probabilities p against the reference model's pRef on the
// same patients: paired DeLong test of the AUCs, IDI and continuous NRI of p
// over pRef.
func Compare(y []int, p, pRef []float64) (Comparison, error) {
	if err := CheckEvents(y); err != nil {
		return Comparison{}, err
	}
	d, err := CompareROC(y, p, pRef)
	if err != nil {
		return Comparison{}, err
	}
	r, err := Reclassify(y, pRef, p)
	if err != nil {
		return Comparison{}, err
	}
	return Comparison{DeLongZ: d.Z, DeLongP: d.P, IDI: r.IDI, IDISE: r.IDISE, IDIP: r.IDIP, NRI: r.NRI, NRIP: r.NRIP}, nil
}
