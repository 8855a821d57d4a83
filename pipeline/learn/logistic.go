package learn

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Logistic is a fitted logistic regression: logit P(y=1) = Intercept + Σ Coef[j]·x[j].
type Logistic struct {
	Intercept float64   `json:"intercept"`
	Coef      []float64 `json:"coef"`
}

// LinearPredictor is the logit (log-odds) for one patient's feature row.
func (m Logistic) LinearPredictor(row []float64) float64 {
	eta := m.Intercept
	for j, b := range m.Coef {
		eta += b * row[j]
	}
	return eta
}

// Predict is the probability for one patient's feature row.
func (m Logistic) Predict(row []float64) float64 { return sigmoid(m.LinearPredictor(row)) }

// PredictColumns returns the probability of every patient of column-major
// data (cols[j][i] is feature j of patient i).
func (m Logistic) PredictColumns(cols [][]float64) []float64 {
	p := LinearPredictors(m, cols)
	for i, eta := range p {
		p[i] = sigmoid(eta)
	}
	return p
}

func columnsLen(cols [][]float64) int {
	if len(cols) == 0 {
		return 0
	}
	return len(cols[0])
}

func sigmoid(eta float64) float64 {
	if eta >= 0 {
		return 1 / (1 + math.Exp(-eta))
	}
	e := math.Exp(eta)
	return e / (1 + e)
}

// logit with p clamped to [1e-10, 1−1e-10] so probabilities of exactly 0 or
// 1 (rounded CSV values) give a finite log-odds.
func logit(p float64) float64 {
	p = math.Max(1e-10, math.Min(1-1e-10, p))
	return math.Log(p / (1 - p))
}

// LogisticOptions configures FitLogistic.
type LogisticOptions struct {
	// C is the inverse L2 penalty strength, as scikit-learn's
	// LogisticRegression(C=…, penalty="l2"). FitLogistic minimises
	//
	//	Σᵢ −loglikᵢ(b₀, w) + ‖w‖² / (2C)
	//
	// which is scikit-learn's ½‖w‖² + C·Σᵢ lossᵢ divided by C; the
	// intercept b₀ is not penalised. C = 0 means no penalty (plain maximum
	// likelihood, R's glm(family = binomial)).
	C float64
	// Offset, if set, is added to every patient's linear predictor with a
	// fixed coefficient of 1 (R's glm offset).
	Offset []float64
	// MaxIter bounds the Newton iterations (default 100).
	MaxIter int
}

// ErrSeparation reports that an unpenalised fit diverged, the usual cause
// being an outcome perfectly separated by the predictors.
var ErrSeparation = errors.New("logistic regression does not converge (perfect separation?)")

// FitLogistic fits a logistic regression by Newton–Raphson (IRLS) with step
// halving, on column-major data (cols[j][i] is feature j of patient i; no
// columns fits an intercept-only model). Convergence is a change of the
// objective below 1e-12 relative (R's glm uses 1e-8 on the deviance).
func FitLogistic(cols [][]float64, y []int, opts LogisticOptions) (Logistic, error) {
	n, p := len(y), len(cols)
	if err := checkColumns(cols, n); err != nil {
		return Logistic{}, fmt.Errorf("logistic: %w", err)
	}
	if err := checkBinary(y); err != nil {
		return Logistic{}, fmt.Errorf("logistic: %w", err)
	}
	if opts.Offset != nil && len(opts.Offset) != n {
		return Logistic{}, fmt.Errorf("logistic: offset has %d values for %d patients", len(opts.Offset), n)
	}
	if opts.C < 0 {
		return Logistic{}, fmt.Errorf("logistic: C must be positive, got %v", opts.C)
	}
	maxIter := opts.MaxIter
	if maxIter == 0 {
		maxIter = 100
	}
	lam := 0.0
	if opts.C > 0 {
		lam = 1 / opts.C
	}
	k := p + 1
	beta := make([]float64, k)
	off := func(i int) float64 {
		if opts.Offset == nil {
			return 0
		}
		return opts.Offset[i]
	}
	objective := func(b []float64) float64 {
		var f float64
		for i := 0; i < n; i++ {
			eta := b[0] + off(i)
			for j := 0; j < p; j++ {
				eta += b[j+1] * cols[j][i]
			}
			f += logLoss(eta, y[i])
		}
		for j := 1; j < k; j++ {
			f += lam * b[j] * b[j] / 2
		}
		return f
	}
	x := func(i, j int) float64 { // design matrix with a leading 1
		if j == 0 {
			return 1
		}
		return cols[j-1][i]
	}
	obj := objective(beta)
	grad := mat.NewVecDense(k, nil)
	hess := mat.NewSymDense(k, nil)
	step := mat.NewVecDense(k, nil)
	for iter := 0; iter < maxIter; iter++ {
		grad.Zero()
		hess.Zero()
		for i := 0; i < n; i++ {
			eta := beta[0] + off(i)
			for j := 0; j < p; j++ {
				eta += beta[j+1] * cols[j][i]
			}
			mu := sigmoid(eta)
			w := mu * (1 - mu)
			r := mu - float64(y[i])
			for a := 0; a < k; a++ {
				xa := x(i, a)
				grad.SetVec(a, grad.AtVec(a)+r*xa)
				for b := a; b < k; b++ {
					hess.SetSym(a, b, hess.At(a, b)+w*xa*x(i, b))
				}
			}
		}
		for j := 1; j < k; j++ {
			grad.SetVec(j, grad.AtVec(j)+lam*beta[j])
			hess.SetSym(j, j, hess.At(j, j)+lam)
		}
		var chol mat.Cholesky
		if ok := chol.Factorize(hess); !ok {
			return Logistic{}, fmt.Errorf("logistic: singular information matrix (constant or collinear features?): %w", ErrSeparation)
		}
		if err := chol.SolveVecTo(step, grad); err != nil {
			return Logistic{}, fmt.Errorf("logistic: %w", err)
		}
		next := make([]float64, k)
		t := 1.0
		var nobj float64
		for h := 0; h < 50; h++ {
			for j := range next {
				next[j] = beta[j] - t*step.AtVec(j)
			}
			nobj = objective(next)
			if nobj <= obj+1e-12*math.Abs(obj) {
				break
			}
			t /= 2
		}
		copy(beta, next)
		done := math.Abs(obj-nobj) <= 1e-12*(math.Abs(nobj)+1e-12) && mat.Norm(step, math.Inf(1))*t < 1e-8
		obj = nobj
		for _, b := range beta {
			if math.IsNaN(b) || math.Abs(b) > 1e6 {
				return Logistic{}, fmt.Errorf("logistic: %w", ErrSeparation)
			}
		}
		if done {
			return Logistic{Intercept: beta[0], Coef: beta[1:]}, nil
		}
	}
	if lam == 0 {
		return Logistic{}, fmt.Errorf("logistic: no convergence in %d iterations: %w", maxIter, ErrSeparation)
	}
	return Logistic{}, fmt.Errorf("logistic: no convergence in %d iterations", maxIter)
}

// logLoss is −log P(y | eta), computed without overflow.
func logLoss(eta float64, y int) float64 {
	// log(1+e^eta) − y·eta
	var l float64
	if eta > 0 {
		l = eta + math.Log1p(math.Exp(-eta))
	} else {
		l = math.Log1p(math.Exp(eta))
	}
	return l - float64(y)*eta
}

// checkColumns checks that every column has n finite values.
func checkColumns(cols [][]float64, n int) error {
	for j, c := range cols {
		if err := checkColumn(c, n); err != nil {
			return fmt.Errorf("column %d: %w", j+1, err)
		}
	}
	return nil
}

// checkColumn checks that a column has n finite values; rows count from 1.
func checkColumn(c []float64, n int) error {
	if len(c) != n {
		return fmt.Errorf("%d values for %d patients", len(c), n)
	}
	for i, v := range c {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("row %d: value is %v", i+1, v)
		}
	}
	return nil
}

// checkBinary checks a 0/1 outcome with both classes present.
func checkBinary(y []int) error {
	var events int
	for i, v := range y {
		if v != 0 && v != 1 {
			return fmt.Errorf("row %d: outcome %d is not 0 or 1", i+1, v)
		}
		events += v
	}
	if events == 0 || events == len(y) {
		return fmt.Errorf("outcome has one class only (%d events in %d rows)", events, len(y))
	}
	return nil
}
