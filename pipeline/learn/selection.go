package learn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Selection steps, as recorded in Removal.Step (and selection.csv).
const (
	StepICC        = "icc"
	StepUnivariate = "mann-whitney"
	StepRedundancy = "redundancy"
	StepLasso      = "lasso"
)

// Removal records why a feature left the selection.
type Removal struct {
	Feature string `json:"feature"`
	Step    string `json:"step"`
	Reason  string `json:"reason"`
}

// StratifiedSplit assigns round(testFraction·n_c) patients of each outcome
// class c to the test set at random and the rest to training. It returns
// sorted row indices and needs at least one patient of each class in each set.
func StratifiedSplit(y []int, testFraction float64, rng *rand.Rand) (train, test []int, err error) {
	if testFraction <= 0 || testFraction >= 1 {
		return nil, nil, fmt.Errorf("stratified split: test fraction %v is not in (0, 1)", testFraction)
	}
	if err := checkBinary(y); err != nil {
		return nil, nil, fmt.Errorf("stratified split: %w", err)
	}
	for c := 0; c <= 1; c++ {
		var rows []int
		for i, v := range y {
			if v == c {
				rows = append(rows, i)
			}
		}
		rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		nt := int(math.Round(testFraction * float64(len(rows))))
		if nt == 0 || nt == len(rows) {
			return nil, nil, fmt.Errorf("stratified split: %d patients with outcome %d cannot be split %v:%v", len(rows), c, 1-testFraction, testFraction)
		}
		test = append(test, rows[:nt]...)
		train = append(train, rows[nt:]...)
	}
	sort.Ints(train)
	sort.Ints(test)
	return train, test, nil
}

// StratifiedFolds assigns each patient a fold 0 … k−1 so that every fold has
// nearly the same number of events and non-events (each class shuffled,
// then dealt round-robin). Each class needs at least k patients, so that no
// held-out fold lacks a class.
func StratifiedFolds(y []int, k int, rng *rand.Rand) ([]int, error) {
	if k < 2 {
		return nil, fmt.Errorf("stratified folds: need at least 2 folds, got %d", k)
	}
	if err := checkBinary(y); err != nil {
		return nil, fmt.Errorf("stratified folds: %w", err)
	}
	folds := make([]int, len(y))
	next := 0
	for c := 0; c <= 1; c++ {
		var rows []int
		for i, v := range y {
			if v == c {
				rows = append(rows, i)
			}
		}
		if len(rows) < k {
			return nil, fmt.Errorf("stratified folds: only %d patients with outcome %d for %d folds", len(rows), c, k)
		}
		rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		// Continue the deal where the previous class stopped, so fold sizes
		// differ by at most one overall.
		for _, i := range rows {
			folds[i] = next % k
			next++
		}
	}
	return folds, nil
}

// Scaler z-scores features with means and standard deviations (1/n, as
// scikit-learn's StandardScaler) fitted on training data only.
type Scaler struct {
	Names []string  `json:"names"`
	Mean  []float64 `json:"mean"`
	SD    []float64 `json:"sd"`
}

// FitScaler fits a Scaler; a constant or non-finite feature is an error
// naming it.
func FitScaler(names []string, cols [][]float64) (Scaler, error) {
	if len(names) != len(cols) {
		return Scaler{}, fmt.Errorf("scaler: %d names for %d features", len(names), len(cols))
	}
	s := Scaler{Names: append([]string(nil), names...), Mean: make([]float64, len(cols)), SD: make([]float64, len(cols))}
	for j, c := range cols {
		if len(c) < 2 {
			return Scaler{}, fmt.Errorf("scaler: feature %q has %d values", names[j], len(c))
		}
		if err := checkColumn(c, len(c)); err != nil {
			return Scaler{}, fmt.Errorf("scaler: feature %q: %w", names[j], err)
		}
		m, v := meanVar(c)
		sd := math.Sqrt(v * float64(len(c)-1) / float64(len(c)))
		if sd == 0 {
			return Scaler{}, fmt.Errorf("scaler: feature %q is constant (%v)", names[j], c[0])
		}
		s.Mean[j], s.SD[j] = m, sd
	}
	return s, nil
}

// Transform returns z-scored copies of cols (same feature order as fitted).
func (s Scaler) Transform(cols [][]float64) ([][]float64, error) {
	if len(cols) != len(s.Mean) {
		return nil, fmt.Errorf("scaler: %d features, fitted on %d", len(cols), len(s.Mean))
	}
	out := make([][]float64, len(cols))
	for j, c := range cols {
		z := make([]float64, len(c))
		for i, v := range c {
			z[i] = (v - s.Mean[j]) / s.SD[j]
		}
		out[j] = z
	}
	return out, nil
}

// ICCFilter keeps the features whose inter-reader ICC of the given form is
// at least min (step 2 of the paper; 0.75 there). reader1[j] and reader2[j]
// are feature j of every patient from the two readers' segmentations. A
// feature constant over both readers, whose ICC is 0/0, is removed with that
// reason; NaN values are an error naming the feature.
func ICCFilter(names []string, reader1, reader2 [][]float64, form ICCForm, min float64) (keep []int, removed []Removal, err error) {
	if len(reader1) != len(names) || len(reader2) != len(names) {
		return nil, nil, fmt.Errorf("icc filter: %d names, %d and %d reader columns", len(names), len(reader1), len(reader2))
	}
	for j, name := range names {
		if err := checkColumn(reader1[j], len(reader1[j])); err != nil {
			return nil, nil, fmt.Errorf("icc filter: feature %q, reader 1: %w", name, err)
		}
		if err := checkColumn(reader2[j], len(reader1[j])); err != nil {
			return nil, nil, fmt.Errorf("icc filter: feature %q, reader 2: %w", name, err)
		}
		r, err := ICC([][]float64{reader1[j], reader2[j]})
		if err != nil {
			removed = append(removed, Removal{name, StepICC, "constant feature"})
			continue
		}
		if v := r.Value(form); v < min {
			removed = append(removed, Removal{name, StepICC, fmt.Sprintf("%v = %.3f < %.2f", form, v, min)})
			continue
		}
		keep = append(keep, j)
	}
	return keep, removed, nil
}

// MannWhitneyFilter keeps the features that differ between outcome classes
// with a Mann–Whitney p < alpha (step 3; 0.05 there), computed on the rows
// given (the training set). It returns every feature's p-value (1 for a
// constant feature, which is removed as such).
func MannWhitneyFilter(names []string, cols [][]float64, y []int, alpha float64) (keep []int, p []float64, removed []Removal, err error) {
	if len(cols) != len(names) {
		return nil, nil, nil, fmt.Errorf("mann-whitney filter: %d names for %d features", len(names), len(cols))
	}
	if err := checkBinary(y); err != nil {
		return nil, nil, nil, fmt.Errorf("mann-whitney filter: %w", err)
	}
	p = make([]float64, len(cols))
	var x0, x1 []float64
	for j, c := range cols {
		if len(c) != len(y) {
			return nil, nil, nil, fmt.Errorf("mann-whitney filter: feature %q has %d values for %d patients", names[j], len(c), len(y))
		}
		x0, x1 = x0[:0], x1[:0]
		for i, v := range c {
			if y[i] == 1 {
				x1 = append(x1, v)
			} else {
				x0 = append(x0, v)
			}
		}
		r, err := MannWhitney(x1, x0)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("mann-whitney filter: feature %q: %w", names[j], err)
		}
		p[j] = r.P
		switch {
		case isConstant(c):
			removed = append(removed, Removal{names[j], StepUnivariate, "constant feature"})
		case r.P >= alpha:
			removed = append(removed, Removal{names[j], StepUnivariate, fmt.Sprintf("p = %.3g >= %g", r.P, alpha)})
		default:
			keep = append(keep, j)
		}
	}
	return keep, p, removed, nil
}

// SpearmanMatrix returns the Spearman correlation matrix of the columns,
// computed as one matrix product of standardised average ranks.
func SpearmanMatrix(names []string, cols [][]float64) (*mat.SymDense, error) {
	p := len(cols)
	if p == 0 {
		return mat.NewSymDense(0, nil), nil
	}
	n := len(cols[0])
	z := mat.NewDense(n, p, nil)
	for j, c := range cols {
		if len(c) != n {
			return nil, fmt.Errorf("spearman: feature %q has %d values, want %d", names[j], len(c), n)
		}
		if err := checkColumn(c, n); err != nil {
			return nil, fmt.Errorf("spearman: feature %q: %w", names[j], err)
		}
		r := Ranks(c)
		m, v := meanVar(r)
		if v == 0 {
			return nil, fmt.Errorf("spearman: feature %q is constant", names[j])
		}
		sd := math.Sqrt(v * float64(n-1))
		for i := range r {
			z.Set(i, j, (r[i]-m)/sd)
		}
	}
	s := mat.NewSymDense(p, nil)
	s.SymOuterK(1, z.T())
	return s, nil
}

// RedundancyFilter removes redundancy (step 4): while two remaining features
// have |ρ| > maxAbsRho (0.9 in the paper), taking the most correlated pair
// first, it drops the one of the pair with the larger mean |ρ| to the other
// remaining features (caret's findCorrelation(exact = TRUE) rule; on equal
// means the later feature goes). Constant features are an error (filter
// them first).
func RedundancyFilter(names []string, cols [][]float64, maxAbsRho float64) (keep []int, removed []Removal, err error) {
	if len(cols) != len(names) {
		return nil, nil, fmt.Errorf("redundancy filter: %d names for %d features", len(names), len(cols))
	}
	rho, err := SpearmanMatrix(names, cols)
	if err != nil {
		return nil, nil, fmt.Errorf("redundancy filter: %w", err)
	}
	p := len(cols)
	type pair struct {
		a, b int
		r    float64
	}
	var pairs []pair
	sum := make([]float64, p) // Σ|ρ| to the other remaining features
	for a := 0; a < p; a++ {
		for b := a + 1; b < p; b++ {
			r := math.Abs(rho.At(a, b))
			sum[a] += r
			sum[b] += r
			if r > maxAbsRho {
				pairs = append(pairs, pair{a, b, r})
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].r > pairs[j].r })
	alive := make([]bool, p)
	for j := range alive {
		alive[j] = true
	}
	left := p
	for _, pr := range pairs {
		if !alive[pr.a] || !alive[pr.b] {
			continue
		}
		drop, other := pr.b, pr.a
		if sum[pr.a] > sum[pr.b] {
			drop, other = pr.a, pr.b
		}
		ma, mb := sum[drop]/float64(left-1), sum[other]/float64(left-1)
		alive[drop] = false
		left--
		for j := 0; j < p; j++ {
			if alive[j] {
				sum[j] -= math.Abs(rho.At(j, drop))
			}
		}
		removed = append(removed, Removal{names[drop], StepRedundancy,
			fmt.Sprintf("|rho| = %.3f with %s; mean |rho| %.3f > %.3f", pr.r, names[other], ma, mb)})
	}
	for j := range alive {
		if alive[j] {
			keep = append(keep, j)
		}
	}
	return keep, removed, nil
}

// LassoSelected returns the features with a non-zero coefficient in m, and
// a Removal for each of the others.
func LassoSelected(names []string, m Logistic) (keep []int, removed []Removal) {
	for j, b := range m.Coef {
		if b != 0 {
			keep = append(keep, j)
		} else {
			removed = append(removed, Removal{names[j], StepLasso, "zero coefficient"})
		}
	}
	return keep, removed
}

// LinearPredictors returns every patient's logit under m (the DLR score
// when m is the LASSO model).
func LinearPredictors(m Logistic, cols [][]float64) []float64 {
	n := columnsLen(cols)
	out := make([]float64, n)
	for i := range out {
		eta := m.Intercept
		for j, b := range m.Coef {
			eta += b * cols[j][i]
		}
		out[i] = eta
	}
	return out
}

// Subset returns the columns idx of cols (shared, not copied) and their
// names (nil if names is nil).
func Subset(names []string, cols [][]float64, idx []int) ([]string, [][]float64) {
	var n []string
	if names != nil {
		n = make([]string, len(idx))
	}
	c := make([][]float64, len(idx))
	for k, j := range idx {
		c[k] = cols[j]
		if names != nil {
			n[k] = names[j]
		}
	}
	return n, c
}

// Rows returns copies of cols restricted to the given patient rows.
func Rows(cols [][]float64, rows []int) [][]float64 { return subsetColumns(cols, rows) }

// RowsInt returns y restricted to the given rows.
func RowsInt(y []int, rows []int) []int { return subsetInts(y, rows) }
