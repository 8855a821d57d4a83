package synth

import (
	"math"
	"testing"
)

// fitLogistic fits an L2-penalised logistic regression by Newton–Raphson (IRLS) on standardised
// columns; it returns a scoring function. Only the tests use it (pipeline/learn has the real one).
func fitLogistic(t *testing.T, x [][]float64, y []bool, lambda float64) func([]float64) float64 {
	t.Helper()
	n, p := len(x), len(x[0])
	mean, sd := make([]float64, p), make([]float64, p)
	for j := 0; j < p; j++ {
		for i := 0; i < n; i++ {
			mean[j] += x[i][j] / float64(n)
		}
		for i := 0; i < n; i++ {
			sd[j] += (x[i][j] - mean[j]) * (x[i][j] - mean[j]) / float64(n)
		}
		sd[j] = math.Sqrt(sd[j])
		if sd[j] == 0 {
			sd[j] = 1
		}
	}
	row := func(v []float64) []float64 {
		z := make([]float64, p+1)
		z[0] = 1
		for j := range v {
			z[j+1] = (v[j] - mean[j]) / sd[j]
		}
		return z
	}
	beta := make([]float64, p+1)
	for iter := 0; iter < 50; iter++ {
		g := make([]float64, p+1)
		h := make([][]float64, p+1)
		for a := range h {
			h[a] = make([]float64, p+2)
		}
		for i := 0; i < n; i++ {
			z := row(x[i])
			var eta float64
			for a := range z {
				eta += beta[a] * z[a]
			}
			pr := 1 / (1 + math.Exp(-eta))
			yy := 0.0
			if y[i] {
				yy = 1
			}
			for a := range z {
				g[a] += (yy - pr) * z[a]
				for b := range z {
					h[a][b] += pr * (1 - pr) * z[a] * z[b]
				}
			}
		}
		for a := 1; a <= p; a++ {
			g[a] -= lambda * beta[a]
			h[a][a] += lambda
		}
		for a := 0; a <= p; a++ {
			h[a][p+1] = g[a]
		}
		step := solve(h)
		var norm float64
		for a := range beta {
			beta[a] += step[a]
			norm += step[a] * step[a]
		}
		if norm < 1e-16 {
			break
		}
	}
	return func(v []float64) float64 {
		z := row(v)
		var eta float64
		for a := range z {
			eta += beta[a] * z[a]
		}
		return eta
	}
}

// solve solves the augmented system m (k × k+1) by Gaussian elimination with partial pivoting.
func solve(m [][]float64) []float64 {
	k := len(m)
	for c := 0; c < k; c++ {
		piv := c
		for r := c + 1; r < k; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[piv][c]) {
				piv = r
			}
		}
		m[c], m[piv] = m[piv], m[c]
		for r := c + 1; r < k; r++ {
			f := m[r][c] / m[c][c]
			for cc := c; cc <= k; cc++ {
				m[r][cc] -= f * m[c][cc]
			}
		}
	}
	x := make([]float64, k)
	for r := k - 1; r >= 0; r-- {
		s := m[r][k]
		for cc := r + 1; cc < k; cc++ {
			s -= m[r][cc] * x[cc]
		}
		x[r] = s / m[r][r]
	}
	return x
}

// clinicalX is the clinical design row a site would have: every clinical.csv variable.
func clinicalX(p Record) []float64 {
	male := 0.0
	if p.Sex == "M" {
		male = 1
	}
	return []float64{float64(p.Age), male, float64(p.HLAB27), math.Log(p.DiseaseDurationY), math.Log(p.CRP + 1),
		float64(p.ESR), p.BASDAI, p.ASDASCRP, p.BASFI}
}
