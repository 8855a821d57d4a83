package learn

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// CVLogisticC chooses the L2 strength C of FitLogistic among candidates by
// K-fold cross-validation (folds[i] = patient i's fold, 0 … K−1): the
// candidate with the smallest mean held-out binomial deviance, the smaller
// C (stronger penalty) on a tie. It returns the chosen C and every
// candidate's deviance.
func CVLogisticC(ctx context.Context, cols [][]float64, y []int, folds []int, candidates []float64) (float64, []float64, error) {
	if len(candidates) == 0 {
		return 0, nil, fmt.Errorf("cv of C: no candidates")
	}
	k, err := foldCount(folds, len(y))
	if err != nil {
		return 0, nil, fmt.Errorf("cv of C: %w", err)
	}
	dev := make([]float64, len(candidates))
	for fold := 0; fold < k; fold++ {
		if err := ctx.Err(); err != nil {
			return 0, nil, err
		}
		train, test := foldRows(folds, fold)
		tc, ty := subsetColumns(cols, train), subsetInts(y, train)
		for c, C := range candidates {
			if C <= 0 {
				return 0, nil, fmt.Errorf("cv of C: candidate %v is not positive", C)
			}
			m, err := FitLogistic(tc, ty, LogisticOptions{C: C})
			if err != nil {
				return 0, nil, fmt.Errorf("cv of C, fold %d, C = %v: %w", fold+1, C, err)
			}
			for _, i := range test {
				eta := m.Intercept
				for j, b := range m.Coef {
					eta += b * cols[j][i]
				}
				dev[c] += 2 * logLoss(eta, y[i])
			}
		}
	}
	best := 0
	for c := range candidates {
		dev[c] /= float64(len(y))
		if dev[c] < dev[best] || (dev[c] == dev[best] && candidates[c] < candidates[best]) {
			best = c
		}
	}
	return candidates[best], dev, nil
}

// Wald holds standard errors and two-sided Wald p-values of a logistic
// model's intercept (index 0) and coefficients (1 …), as R's
// summary(glm(…, family = binomial)).
type Wald struct {
	SE []float64
	Z  []float64
	P  []float64
}

// LogisticWald computes Wald tests for an unpenalised fit m of cols and y
// (the inverse of the observed information at m). It is how clinical
// variables are screened, univariably and then multivariably.
func LogisticWald(cols [][]float64, y []int, m Logistic) (Wald, error) {
	n, p := len(y), len(cols)
	if len(m.Coef) != p {
		return Wald{}, fmt.Errorf("wald: model has %d coefficients for %d columns", len(m.Coef), p)
	}
	if err := checkColumns(cols, n); err != nil {
		return Wald{}, fmt.Errorf("wald: %w", err)
	}
	k := p + 1
	info := mat.NewSymDense(k, nil)
	row := make([]float64, k)
	for i := 0; i < n; i++ {
		row[0] = 1
		eta := m.Intercept
		for j := 0; j < p; j++ {
			row[j+1] = cols[j][i]
			eta += m.Coef[j] * cols[j][i]
		}
		mu := sigmoid(eta)
		info.SymRankOne(info, mu*(1-mu), mat.NewVecDense(k, row))
	}
	var chol mat.Cholesky
	if !chol.Factorize(info) {
		return Wald{}, fmt.Errorf("wald: singular information matrix (constant or collinear variables)")
	}
	var cov mat.SymDense
	if err := chol.InverseTo(&cov); err != nil {
		return Wald{}, fmt.Errorf("wald: %w", err)
	}
	w := Wald{SE: make([]float64, k), Z: make([]float64, k), P: make([]float64, k)}
	for j := 0; j < k; j++ {
		b := m.Intercept
		if j > 0 {
			b = m.Coef[j-1]
		}
		w.SE[j] = math.Sqrt(cov.At(j, j))
		w.Z[j] = b / w.SE[j]
		w.P[j] = 2 * stdNormal.CDF(-math.Abs(w.Z[j]))
	}
	return w, nil
}
