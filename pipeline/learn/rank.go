package learn

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Ranks returns the 1-based ranks of x with ties given their average rank
// (R's rank(ties.method = "average")).
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// MannWhitneyResult is the two-sample Wilcoxon rank-sum (Mann–Whitney U) test.
type MannWhitneyResult struct {
	U float64 // R's W statistic: rank sum of x minus n_x(n_x+1)/2
	Z float64 // normal deviate after tie and continuity correction
	P float64 // two-sided p-value
}

// MannWhitney tests whether x and y come from the same distribution with the
// normal approximation, tie correction and continuity correction, as R's
// wilcox.test(x, y, exact = FALSE, correct = TRUE). With no spread at all
// (every value tied) the test is undefined and P is 1 with Z = 0, the
// conservative answer for a feature filter (R returns NaN there).
func MannWhitney(x, y []float64) (MannWhitneyResult, error) {
	nx, ny := len(x), len(y)
	if nx == 0 || ny == 0 {
		return MannWhitneyResult{}, fmt.Errorf("mann-whitney: empty group (%d and %d values)", nx, ny)
	}
	all := make([]float64, 0, nx+ny)
	all = append(all, x...)
	all = append(all, y...)
	for i, v := range all {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return MannWhitneyResult{}, fmt.Errorf("mann-whitney: value %d is %v", i, v)
		}
	}
	r := Ranks(all)
	var rx float64
	for i := 0; i < nx; i++ {
		rx += r[i]
	}
	n1, n2 := float64(nx), float64(ny)
	w := rx - n1*(n1+1)/2
	z := w - n1*n2/2
	n := n1 + n2
	sigma := math.Sqrt(n1 * n2 / 12 * ((n + 1) - tieSum(all)/(n*(n-1))))
	if sigma == 0 || math.IsNaN(sigma) {
		return MannWhitneyResult{U: w, Z: 0, P: 1}, nil
	}
	correction := 0.5 * sign(z)
	z = (z - correction) / sigma
	p := 2 * math.Min(stdNormal.CDF(z), stdNormal.Survival(z))
	return MannWhitneyResult{U: w, Z: z, P: math.Min(p, 1)}, nil
}

// tieSum is Σ(t³−t) over groups of tied values.
func tieSum(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	var sum float64
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j] == s[i] {
			j++
		}
		t := float64(j - i)
		sum += t*t*t - t
		i = j
	}
	return sum
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

var stdNormal = distuv.UnitNormal

// Spearman returns Spearman's ρ: the Pearson correlation of the average ranks
// (R's cor(x, y, method = "spearman")). It returns an error if either input
// is constant, where ρ is undefined.
func Spearman(x, y []float64) (float64, error) {
	if len(x) != len(y) || len(x) < 2 {
		return 0, fmt.Errorf("spearman: need two equal-length samples of at least 2 values, got %d and %d", len(x), len(y))
	}
	return pearsonOfRanks(Ranks(x), Ranks(y))
}

func pearsonOfRanks(rx, ry []float64) (float64, error) {
	if isConstant(rx) || isConstant(ry) {
		return 0, fmt.Errorf("spearman: constant input")
	}
	return stat.Correlation(rx, ry, nil), nil
}

func isConstant(x []float64) bool {
	for _, v := range x[1:] {
		if v != x[0] {
			return false
		}
	}
	return true
}
