package learn

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// LassoOptions configures FitLassoPath, following glmnet(family =
// "binomial", alpha = 1).
type LassoOptions struct {
	// Lambda is an explicit, decreasing λ path. Nil means glmnet's default
	// path: NLambda values log-spaced from λ_max (the smallest λ with every
	// coefficient zero) down to LambdaMinRatio·λ_max.
	Lambda []float64
	// NLambda is the length of the default path (default 100).
	NLambda int
	// LambdaMinRatio is the ratio of the last to the first λ of the default
	// path (default 0.01 if n < p, else 1e-4, as glmnet).
	LambdaMinRatio float64
	// NoStandardize fits on the columns as given (glmnet standardize =
	// FALSE), for features already z-scored by a training-set Scaler.
	// By default columns are standardised to mean 0 and variance 1 (1/n
	// variance, as glmnet) and the coefficients are returned on the
	// original scale.
	NoStandardize bool
	// Thresh is the convergence threshold: coordinate descent stops when no
	// coefficient update changes the objective by more than Thresh times the
	// null deviance (glmnet's thresh, default 1e-7).
	Thresh float64
	// MaxIter bounds the passes over the data per λ (default 100000).
	MaxIter int
}

// LassoPath is a fitted LASSO path. Coefficients are on the scale of the
// input columns.
type LassoPath struct {
	Lambda    []float64
	Intercept []float64
	Beta      [][]float64 // Beta[k][j]: feature j at Lambda[k]
	DevRatio  []float64   // fraction of null deviance explained
	NonZero   []int       // number of non-zero coefficients
}

// Model returns the logistic model at the k-th λ.
func (p *LassoPath) Model(k int) Logistic {
	return Logistic{Intercept: p.Intercept[k], Coef: append([]float64(nil), p.Beta[k]...)}
}

// At returns the model at any λ by linear interpolation (in λ) of the
// coefficients between the two neighbouring path values, as glmnet's
// predict(fit, s = λ); beyond either end of the path it returns that end.
func (p *LassoPath) At(lam float64) Logistic {
	k := len(p.Lambda)
	if lam >= p.Lambda[0] {
		return p.Model(0)
	}
	if lam <= p.Lambda[k-1] {
		return p.Model(k - 1)
	}
	r := 1
	for p.Lambda[r] > lam {
		r++
	}
	l := r - 1
	if p.Lambda[l] == p.Lambda[r] {
		return p.Model(l)
	}
	f := (lam - p.Lambda[r]) / (p.Lambda[l] - p.Lambda[r]) // weight of the left (larger) λ
	m := Logistic{Intercept: f*p.Intercept[l] + (1-f)*p.Intercept[r], Coef: make([]float64, len(p.Beta[l]))}
	for j := range m.Coef {
		m.Coef[j] = f*p.Beta[l][j] + (1-f)*p.Beta[r][j]
	}
	return m
}

// FitLassoPath fits an L1-penalised logistic regression along a λ path by
// cyclic coordinate descent with warm starts, minimising glmnet's objective
//
//	−(1/n)·Σᵢ [yᵢ·ηᵢ − log(1 + e^ηᵢ)] + λ·‖β‖₁,  ηᵢ = β₀ + xᵢᵀβ
//
// (intercept unpenalised) on standardised columns. Each λ alternates a
// quadratic (IRLS) approximation of the log-likelihood with coordinate
// descent on it, over the active set with full passes to admit new
// features, and checks the KKT conditions of every excluded feature before
// moving on. Constant columns get a zero coefficient, as in glmnet. With the
// default path the path ends early, as glmnet's does, once the deviance
// ratio exceeds 0.999 or changes by less than 1e-5 (from the 5th λ on).
func FitLassoPath(ctx context.Context, cols [][]float64, y []int, opts LassoOptions) (*LassoPath, error) {
	f, err := newLassoFitter(cols, y, opts)
	if err != nil {
		return nil, err
	}
	return f.path(ctx, opts.Lambda)
}

// lassoFitter holds the standardised design of one fit.
type lassoFitter struct {
	n, p    int
	x       [][]float64 // standardised columns (nil for constant ones)
	mean    []float64
	scale   []float64
	y       []float64
	opts    LassoOptions
	nullDev float64 // mean null deviance per patient
	ybar    float64
}

func newLassoFitter(cols [][]float64, y []int, opts LassoOptions) (*lassoFitter, error) {
	n, p := len(y), len(cols)
	if p == 0 {
		return nil, fmt.Errorf("lasso: no features")
	}
	if err := checkColumns(cols, n); err != nil {
		return nil, fmt.Errorf("lasso: %w", err)
	}
	if err := checkBinary(y); err != nil {
		return nil, fmt.Errorf("lasso: %w", err)
	}
	if opts.NLambda == 0 {
		opts.NLambda = 100
	}
	if opts.Thresh == 0 {
		opts.Thresh = 1e-7
	}
	if opts.MaxIter == 0 {
		opts.MaxIter = 100000
	}
	f := &lassoFitter{n: n, p: p, opts: opts, x: make([][]float64, p),
		mean: make([]float64, p), scale: make([]float64, p), y: make([]float64, n)}
	for i, v := range y {
		f.y[i] = float64(v)
		f.ybar += float64(v)
	}
	f.ybar /= float64(n)
	f.nullDev = -2 * (f.ybar*math.Log(f.ybar) + (1-f.ybar)*math.Log(1-f.ybar))
	for j, c := range cols {
		var m float64
		for _, v := range c {
			m += v
		}
		m /= float64(n)
		var ss float64
		for _, v := range c {
			ss += (v - m) * (v - m)
		}
		sd := math.Sqrt(ss / float64(n))
		f.mean[j] = m
		f.scale[j] = 1
		if sd == 0 || sd < 1e-12*math.Abs(m) {
			continue // constant: excluded, coefficient 0
		}
		if !opts.NoStandardize {
			f.scale[j] = sd
		}
		xs := make([]float64, n)
		for i, v := range c {
			xs[i] = (v - m) / f.scale[j]
		}
		f.x[j] = xs
	}
	return f, nil
}

// lambdaMax is the smallest λ at which every coefficient is zero:
// max_j |(1/n)·Σᵢ x̃ᵢⱼ(yᵢ − ȳ)|.
func (f *lassoFitter) lambdaMax() float64 {
	var lm float64
	for _, xj := range f.x {
		if xj == nil {
			continue
		}
		var g float64
		for i, v := range xj {
			g += v * (f.y[i] - f.ybar)
		}
		lm = math.Max(lm, math.Abs(g)/float64(f.n))
	}
	return lm
}

// defaultLambdas is glmnet's path.
func (f *lassoFitter) defaultLambdas() []float64 {
	ratio := f.opts.LambdaMinRatio
	if ratio == 0 {
		ratio = 1e-4
		if f.n < f.p {
			ratio = 0.01
		}
	}
	lm := f.lambdaMax()
	k := f.opts.NLambda
	out := make([]float64, k)
	for i := range out {
		if k == 1 {
			out[i] = lm
			continue
		}
		out[i] = lm * math.Pow(ratio, float64(i)/float64(k-1))
	}
	return out
}

// etaBound clamps the linear predictor as glmnet does (pmin = 1e-9), so
// fitted probabilities stay in [1e-9, 1 − 1e-9] and IRLS weights stay positive.
var etaBound = math.Log(1/1e-9 - 1)

func (f *lassoFitter) path(ctx context.Context, lambdas []float64) (*LassoPath, error) {
	userPath := lambdas != nil
	if !userPath {
		lambdas = f.defaultLambdas()
	}
	for k := 1; k < len(lambdas); k++ {
		if lambdas[k] > lambdas[k-1] || lambdas[k] < 0 {
			return nil, fmt.Errorf("lasso: λ path must be non-negative and decreasing (λ[%d] = %v after %v)", k+1, lambdas[k], lambdas[k-1])
		}
	}
	n, p := f.n, f.p
	beta := make([]float64, p)
	b0 := math.Log(f.ybar / (1 - f.ybar))
	eta := make([]float64, n)
	for i := range eta {
		eta[i] = b0
	}
	mu := make([]float64, n)
	v := make([]float64, n)
	r := make([]float64, n)
	xv := make([]float64, p)
	grad := make([]float64, p) // (1/n)·x̃ⱼᵀ(y − μ) at the current solution
	active := make([]bool, p)  // ever non-zero or admitted by the strong rule
	var activeList []int
	fn := float64(n)
	thr := f.opts.Thresh * f.nullDev

	updateFit := func() {
		for i := range eta {
			e := math.Max(-etaBound, math.Min(etaBound, eta[i]))
			mu[i] = sigmoid(e)
			v[i] = mu[i] * (1 - mu[i])
			r[i] = f.y[i] - mu[i]
		}
	}
	fullGradient := func() {
		for j, xj := range f.x {
			if xj == nil {
				continue
			}
			var g float64
			for i, x := range xj {
				g += x * r[i]
			}
			grad[j] = g / fn
		}
	}
	admit := func(j int) {
		if !active[j] {
			active[j] = true
			activeList = append(activeList, j)
		}
	}
	// cdPass runs one coordinate pass over the active set on the current
	// quadratic approximation and returns the largest objective change.
	cdPass := func(lam float64) float64 {
		var dlx float64
		for _, j := range activeList {
			xj := f.x[j]
			if xv[j] < 0 { // weighted variance not yet computed this IRLS step
				var s float64
				for i, x := range xj {
					s += v[i] * x * x
				}
				xv[j] = s / fn
			}
			var g float64
			for i, x := range xj {
				g += x * r[i]
			}
			g = g/fn + xv[j]*beta[j]
			nb := softThreshold(g, lam) / xv[j]
			d := nb - beta[j]
			if d == 0 {
				continue
			}
			beta[j] = nb
			for i, x := range xj {
				r[i] -= v[i] * x * d
				eta[i] += x * d
			}
			dlx = math.Max(dlx, xv[j]*d*d)
		}
		// Intercept.
		var sr, sv float64
		for i := range r {
			sr += r[i]
			sv += v[i]
		}
		d := sr / sv
		if d != 0 {
			b0 += d
			for i := range r {
				r[i] -= v[i] * d
				eta[i] += d
			}
			dlx = math.Max(dlx, sv/fn*d*d)
		}
		return dlx
	}

	out := &LassoPath{}
	updateFit()
	fullGradient()
	prevLam := f.lambdaMax()
	for k, lam := range lambdas {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		passes := 0
		// Sequential strong rule (Tibshirani et al. 2012): features far from
		// the KKT boundary at the previous λ stay out; the KKT check below
		// brings back any that should not have.
		for j := range f.x {
			if f.x[j] != nil && math.Abs(grad[j]) >= 2*lam-prevLam {
				admit(j)
			}
		}
		for {
			// IRLS: refit the quadratic approximation until β settles.
			for {
				updateFit()
				for _, j := range activeList {
					xv[j] = -1
				}
				before := append([]float64(nil), beta...)
				beforeB0 := b0
				for {
					passes++
					if passes > f.opts.MaxIter {
						return nil, fmt.Errorf("lasso: no convergence at λ = %g after %d passes", lam, f.opts.MaxIter)
					}
					if cdPass(lam) < thr {
						break
					}
				}
				var dlx float64
				for _, j := range activeList {
					d := beta[j] - before[j]
					dlx = math.Max(dlx, xv[j]*d*d)
				}
				d0 := b0 - beforeB0
				dlx = math.Max(dlx, 0.25*d0*d0)
				if dlx < thr {
					break
				}
			}
			updateFit()
			fullGradient()
			violated := false
			for j := range f.x {
				if f.x[j] != nil && !active[j] && math.Abs(grad[j]) > lam*(1+1e-9) {
					admit(j)
					violated = true
				}
			}
			if !violated {
				break
			}
		}
		prevLam = lam
		// Record on the original scale.
		coef := make([]float64, p)
		icpt := b0
		nz := 0
		for j := range beta {
			if beta[j] == 0 {
				continue
			}
			coef[j] = beta[j] / f.scale[j]
			icpt -= coef[j] * f.mean[j]
			nz++
		}
		var dev float64
		for i := range mu {
			dev += logLoss(eta[i], int(f.y[i]))
		}
		dev = 2 * dev / fn
		out.Lambda = append(out.Lambda, lam)
		out.Intercept = append(out.Intercept, icpt)
		out.Beta = append(out.Beta, coef)
		out.DevRatio = append(out.DevRatio, 1-dev/f.nullDev)
		out.NonZero = append(out.NonZero, nz)
		if !userPath && k >= 4 {
			dr := out.DevRatio
			if dr[k] > 0.999 || dr[k]-dr[k-1] < 1e-5 {
				break
			}
		}
	}
	return out, nil
}

func softThreshold(z, g float64) float64 {
	switch {
	case z > g:
		return z - g
	case z < -g:
		return z + g
	}
	return 0
}

// LassoCV is the result of K-fold cross-validation of a LASSO path, as
// cv.glmnet(type.measure = "deviance", grouped = TRUE).
type LassoCV struct {
	Path *LassoPath // fitted on all patients
	// HeldOut[l][i] is patient i's linear predictor at Lambda[l] from the
	// fold model that did not see patient i (out-of-fold predictions).
	HeldOut   [][]float64
	CVM       []float64 // mean binomial deviance per λ
	CVSD      []float64 // its standard error
	IndexMin  int       // λ with the smallest CVM (the largest such λ)
	Index1SE  int       // largest λ with CVM <= CVM[IndexMin] + CVSD[IndexMin]
	LambdaMin float64
	Lambda1SE float64
}

// CVLasso fits the path on all patients, then refits a path on each
// training fold (its own default λ path, as cv.glmnet, unless opts.Lambda
// is set), interpolates it at the full-data λ values and scores the held-out fold by binomial deviance
// −2·[y·log p + (1−y)·log(1−p)] with p clamped to [1e-5, 1−1e-5]. folds[i]
// is patient i's fold, 0 … K−1 (see StratifiedFolds). CVM is the mean
// deviance over all patients; CVSD is the fold-size-weighted standard
// deviation of the fold means divided by √(K−1). Folds run in parallel on up
// to GOMAXPROCS goroutines. A training fold with one outcome class is an
// error naming the fold.
func CVLasso(ctx context.Context, cols [][]float64, y []int, folds []int, opts LassoOptions) (*LassoCV, error) {
	k, err := foldCount(folds, len(y))
	if err != nil {
		return nil, fmt.Errorf("lasso cv: %w", err)
	}
	full, err := FitLassoPath(ctx, cols, y, opts)
	if err != nil {
		return nil, err
	}
	nl := len(full.Lambda)
	// As cv.glmnet: each fold fits its own path (its own default λ path
	// unless one was given) and is evaluated at the full-data λ values by
	// linear interpolation of the coefficients (LassoPath.At).
	foldOpts := opts
	// dev[f][l] is the sum of held-out deviance of fold f at λ l.
	dev := make([][]float64, k)
	heldOut := make([][]float64, nl)
	for l := range heldOut {
		heldOut[l] = make([]float64, len(y))
	}
	size := make([]int, k)
	errs := make([]error, k)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for fold := 0; fold < k; fold++ {
		wg.Add(1)
		go func(fold int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			train, test := foldRows(folds, fold)
			size[fold] = len(test)
			if len(test) == 0 {
				errs[fold] = fmt.Errorf("lasso cv: fold %d is empty", fold+1)
				return
			}
			path, err := FitLassoPath(ctx, subsetColumns(cols, train), subsetInts(y, train), foldOpts)
			if err != nil {
				errs[fold] = fmt.Errorf("lasso cv, fold %d: %w", fold+1, err)
				return
			}
			dev[fold] = make([]float64, nl)
			for l := 0; l < nl; l++ {
				m := path.At(full.Lambda[l])
				for _, i := range test {
					eta := m.Intercept
					for j, b := range m.Coef {
						if b != 0 {
							eta += b * cols[j][i]
						}
					}
					heldOut[l][i] = eta // each i belongs to one fold: no race
					pr := math.Max(1e-5, math.Min(1-1e-5, sigmoid(eta)))
					if y[i] == 1 {
						dev[fold][l] -= 2 * math.Log(pr)
					} else {
						dev[fold][l] -= 2 * math.Log(1-pr)
					}
				}
			}
		}(fold)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	cv := &LassoCV{Path: full, HeldOut: heldOut, CVM: make([]float64, nl), CVSD: make([]float64, nl)}
	n := float64(len(y))
	for l := 0; l < nl; l++ {
		var s float64
		for f := 0; f < k; f++ {
			s += dev[f][l]
		}
		m := s / n
		var ss float64
		for f := 0; f < k; f++ {
			d := dev[f][l]/float64(size[f]) - m
			ss += float64(size[f]) * d * d
		}
		cv.CVM[l] = m
		cv.CVSD[l] = math.Sqrt(ss / n / float64(k-1))
	}
	for l := range cv.CVM {
		if cv.CVM[l] < cv.CVM[cv.IndexMin] {
			cv.IndexMin = l
		}
	}
	limit := cv.CVM[cv.IndexMin] + cv.CVSD[cv.IndexMin]
	for l := range cv.CVM {
		if cv.CVM[l] <= limit {
			cv.Index1SE = l
			break
		}
	}
	cv.LambdaMin = full.Lambda[cv.IndexMin]
	cv.Lambda1SE = full.Lambda[cv.Index1SE]
	return cv, nil
}

// foldCount validates fold ids (0 … K−1, one per patient, K >= 3, as
// cv.glmnet) and returns K.
func foldCount(folds []int, n int) (int, error) {
	if len(folds) != n {
		return 0, fmt.Errorf("%d fold ids for %d patients", len(folds), n)
	}
	k := 0
	for i, f := range folds {
		if f < 0 {
			return 0, fmt.Errorf("patient %d has negative fold id %d", i+1, f)
		}
		k = max(k, f+1)
	}
	if k < 3 {
		return 0, fmt.Errorf("need at least 3 folds, got %d", k)
	}
	return k, nil
}

// foldRows returns the training rows and the held-out rows of one fold.
func foldRows(folds []int, fold int) (train, test []int) {
	for i, f := range folds {
		if f == fold {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	return train, test
}

func subsetColumns(cols [][]float64, rows []int) [][]float64 {
	out := make([][]float64, len(cols))
	for j, c := range cols {
		s := make([]float64, len(rows))
		for k, i := range rows {
			s[k] = c[i]
		}
		out[j] = s
	}
	return out
}

func subsetInts(y []int, rows []int) []int {
	out := make([]int, len(rows))
	for k, i := range rows {
		out[k] = y[i]
	}
	return out
}
