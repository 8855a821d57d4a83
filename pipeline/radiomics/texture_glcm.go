package radiomics

import (
	"context"
	"math"

	"gonum.org/v1/gonum/mat"
)

// glcmNames are the GLCM features: the 25 IBSI features (IBSI 3.6) and PyRadiomics' MCC.
var glcmNames = []featureName{
	{"cm_joint_max", "MaximumProbability", ""},
	{"cm_joint_avg", "JointAverage", ""},
	{"cm_joint_var", "SumSquares", ""},
	{"cm_joint_entr", "JointEntropy", ""},
	{"cm_diff_avg", "DifferenceAverage", ""},
	{"cm_diff_var", "DifferenceVariance", ""},
	{"cm_diff_entr", "DifferenceEntropy", ""},
	{"cm_sum_avg", "SumAverage", ""},
	{"cm_sum_var", "", ""}, // PyRadiomics: deprecated, equal to ClusterTendency
	{"cm_sum_entr", "SumEntropy", ""},
	{"cm_energy", "JointEnergy", ""},
	{"cm_contrast", "Contrast", ""},
	{"cm_dissimilarity", "", ""}, // PyRadiomics: deprecated, equal to DifferenceAverage
	{"cm_inv_diff", "Id", ""},
	{"cm_inv_diff_norm", "Idn", ""},
	{"cm_inv_diff_mom", "Idm", ""},
	{"cm_inv_diff_mom_norm", "Idmn", ""},
	{"cm_inv_var", "InverseVariance", ""},
	{"cm_corr", "Correlation", "zero grey-level variance in the GLCM (single grey level)"},
	{"cm_auto_corr", "Autocorrelation", ""},
	{"cm_clust_tend", "ClusterTendency", ""},
	{"cm_clust_shade", "ClusterShade", ""},
	{"cm_clust_prom", "ClusterProminence", ""},
	{"cm_info_corr1", "Imc1", "zero marginal entropy (single grey level)"},
	{"cm_info_corr2", "Imc2", ""},
	{"", "MCC", "eigenvalue computation failed"},
}

// glcmCounts counts co-occurring grey levels for every unit (slice along sliceAxis, or the volume)
// and direction: m[row(a)][row(b)] counts voxels of level a whose neighbour at +offset has level
// b. Rows and columns are the grey levels present (g.levels), as PyRadiomics keeps them.
func (g *texGrid) glcmCounts(dirs [][3]int, sliceAxis int) *dirMatrices {
	ng := len(g.levels)
	x := newDirMatrices(g.units(sliceAxis), len(dirs), ng*ng)
	nd := len(dirs)
	offs := make([]int, nd)
	for d, o := range dirs {
		offs[d] = g.offset(o)
	}
	lv, row := g.lv, g.row
	for n, v := range g.vox {
		base := g.unit(n, sliceAxis)*nd*x.size + int(row[lv[v]])*ng
		for d, off := range offs {
			if b := lv[int(v)+off]; b != 0 {
				x.m[base+d*x.size+int(row[b])]++
			}
		}
	}
	return x
}

// symmetrise adds the transpose of every matrix to itself.
func (x *dirMatrices) symmetrise(ng int) {
	for u := 0; u < x.nu; u++ {
		for d := 0; d < x.nd; d++ {
			m := x.at(u, d)
			for a := 0; a < ng; a++ {
				for b := a; b < ng; b++ {
					s := m[a*ng+b] + m[b*ng+a]
					m[a*ng+b], m[b*ng+a] = s, s
				}
			}
		}
	}
}

// glcmConvention selects the IBSI or the PyRadiomics formulas of the GLCM features.
type glcmConvention struct {
	py      bool
	ngNorm  float64 // Ng of the normalised inverse differences (IBSI: NG; PyRadiomics: highest level present)
	nLevels int     // grey levels present in the ROI (PyRadiomics MCC: a single one gives 1)
}

// glcmFeatures computes the features of one GLCM of counts whose rows and columns are the grey
// levels in levels (ng × ng); nil when it is empty.
func glcmFeatures(counts []float64, levels []int32, cv glcmConvention) []float64 {
	ng := len(levels)
	top := int(levels[ng-1])
	total := sum(counts)
	if total == 0 {
		return nil
	}
	e := 0.0 // PyRadiomics adds ε inside every logarithm
	if cv.py {
		e = eps
	}
	p := make([]float64, len(counts))
	for i, c := range counts {
		p[i] = c / total
	}
	px := make([]float64, ng)
	py := make([]float64, ng)
	pSum := make([]float64, 2*top+1) // index i+j
	pDiff := make([]float64, top)    // index |i−j|
	var jointMax, mux, muy, jointEntr, energy, contrast, dissim, autoCorr, invVar float64
	for a := 0; a < ng; a++ {
		for b := 0; b < ng; b++ {
			v := p[a*ng+b]
			if v == 0 {
				continue
			}
			i, j := float64(levels[a]), float64(levels[b])
			px[a] += v
			py[b] += v
			pSum[levels[a]+levels[b]] += v
			k := abs(int(levels[a] - levels[b]))
			pDiff[k] += v
			jointMax = max(jointMax, v)
			mux += i * v
			muy += j * v
			jointEntr -= v * math.Log2(v+e)
			energy += v * v
			contrast += float64(k*k) * v
			dissim += float64(k) * v
			autoCorr += i * j * v
			if k > 0 {
				invVar += v / float64(k*k)
			}
		}
	}
	var jointVar, sigx2, sigy2, cov, tend, shade, prom, hxy1 float64
	for a := 0; a < ng; a++ {
		for b := 0; b < ng; b++ {
			v := p[a*ng+b]
			if v == 0 {
				continue
			}
			i, j := float64(levels[a]), float64(levels[b])
			jointVar += (i - mux) * (i - mux) * v
			cov += (i - mux) * (j - muy) * v
			s := i + j - mux - muy
			tend += s * s * v
			shade += s * s * s * v
			prom += s * s * s * s * v
			hxy1 -= v * math.Log2(px[a]*py[b]+e)
		}
	}
	var hx, hy, hxy2 float64
	for a := 0; a < ng; a++ {
		i := float64(levels[a])
		if px[a] > 0 {
			hx -= px[a] * math.Log2(px[a]+e)
			sigx2 += (i - mux) * (i - mux) * px[a]
		}
		if py[a] > 0 {
			hy -= py[a] * math.Log2(py[a]+e)
			sigy2 += (i - muy) * (i - muy) * py[a]
		}
		for b := 0; b < ng; b++ {
			q := px[a] * py[b]
			if q > 0 {
				hxy2 -= q * math.Log2(q+e)
			}
		}
	}
	var diffAvg, diffEntr, invDiff, invDiffNorm, invDiffMom, invDiffMomNorm float64
	for k, v := range pDiff {
		if v == 0 {
			continue
		}
		fk := float64(k)
		diffAvg += fk * v
		diffEntr -= v * math.Log2(v+e)
		invDiff += v / (1 + fk)
		invDiffNorm += v / (1 + fk/cv.ngNorm)
		invDiffMom += v / (1 + fk*fk)
		invDiffMomNorm += v / (1 + fk*fk/(cv.ngNorm*cv.ngNorm))
	}
	var diffVar float64
	for k, v := range pDiff {
		diffVar += (float64(k) - diffAvg) * (float64(k) - diffAvg) * v
	}
	var sumAvg, sumEntr, sumVar float64
	for k, v := range pSum {
		if v == 0 {
			continue
		}
		sumAvg += float64(k) * v
		sumEntr -= v * math.Log2(v+e)
	}
	for k, v := range pSum {
		sumVar += (float64(k) - sumAvg) * (float64(k) - sumAvg) * v
	}

	var corr, imc1, imc2 float64
	sig := math.Sqrt(sigx2) * math.Sqrt(sigy2)
	mi := hxy2 - jointEntr // mutual information HXY2 - HXY
	if cv.py {
		corr = cov / (sig + eps)
		if sig == 0 {
			corr = 1
		}
		imc1 = 0
		if d := max(hx, hy); d != 0 {
			imc1 = (jointEntr - hxy1) / d
		}
		imc2 = math.Sqrt(1 - math.Exp(-2*mi)) // NaN when HXY > HXY2 numerically, as numpy
		if hxy2 == jointEntr {
			imc2 = 0
		}
	} else {
		corr = math.NaN()
		if sig > 0 {
			corr = cov / sig
		}
		imc1 = math.NaN()
		if d := max(hx, hy); d > 0 {
			imc1 = (jointEntr - hxy1) / d
		}
		imc2 = math.Sqrt(1 - math.Exp(-2*max(mi, 0)))
	}
	mcc := math.NaN()
	if cv.py {
		mcc = glcmMCC(p, px, py, ng, cv.nLevels)
	}
	return []float64{
		jointMax, mux, jointVar, jointEntr, diffAvg, diffVar, diffEntr, sumAvg, sumVar, sumEntr,
		energy, contrast, dissim, invDiff, invDiffNorm, invDiffMom, invDiffMomNorm, invVar, corr,
		autoCorr, tend, shade, prom, imc1, imc2, mcc,
	}
}

// glcmMCC is PyRadiomics' maximal correlation coefficient: the square root of the second largest
// eigenvalue of Q(i,j) = Σ_k p(i,k)p(j,k)/(p_x(i)p_y(k)). Q is similar to the symmetric
// S = D^½ Q D^-½ (D = diag p_x), so a symmetric eigen-solver gives its (real, non-negative) spectrum.
func glcmMCC(p, px, py []float64, ng, nLevels int) float64 {
	if nLevels < 2 {
		return 1 // PyRadiomics: flat region
	}
	var act []int
	for a := 0; a < ng; a++ {
		if px[a] > 0 {
			act = append(act, a)
		}
	}
	n := len(act)
	if n < 2 {
		return 0
	}
	s := mat.NewSymDense(n, nil)
	for x := 0; x < n; x++ {
		for y := x; y < n; y++ {
			a, b := act[x], act[y]
			v := 0.0
			for k := 0; k < ng; k++ {
				if py[k] > 0 {
					v += p[a*ng+k] * p[b*ng+k] / py[k]
				}
			}
			s.SetSym(x, y, v/math.Sqrt(px[a]*px[b]))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(s, false) {
		return math.NaN()
	}
	ev := es.Values(nil) // ascending
	return math.Sqrt(max(ev[n-2], 0))
}

// GLCMFeatures computes the grey level co-occurrence matrix features. IBSI mode: the 25 IBSI
// features for every requested aggregation (2D/2.5D/3D, averaged and merged), symmetric, Chebyshev
// distance(s). PyRadiomics mode: class glcm (3D, or 2D slices merged per angle with force2D),
// per-angle averaging or distance weighting, PyRadiomics' conventions (see texture_doc.go).
func GLCMFeatures(ctx context.Context, d *Discretised, opt TextureOptions) ([]Feature, error) {
	return runFamily(ctx, d, opt, glcmFamily)
}

func glcmFamily(ctx context.Context, g *texGrid, c textureConfig) ([]Feature, error) {
	if c.ibsi {
		cv := glcmConvention{ngNorm: float64(g.ng)}
		return ibsiDirectional(ctx, c, glcmNames, "glcm", func(axis int) (*dirMatrices, func([]float64) []float64) {
			x := g.glcmCounts(g.directions(c.dists, axis, false), axis)
			x.symmetrise(len(g.levels))
			return x, func(m []float64) []float64 { return glcmFeatures(m, g.levels, cv) }
		})
	}
	dirs := g.directions(c.dists, c.pyGeometry(), true)
	x := g.glcmCounts(dirs, -1) // PyRadiomics merges the slices of a 2D extraction per angle
	if c.symmetric {
		x.symmetrise(len(g.levels))
	}
	cv := glcmConvention{py: true, ngNorm: float64(g.maxLevel), nLevels: len(g.levels)}
	f := func(m []float64) []float64 { return glcmFeatures(m, g.levels, cv) }
	vals := pyDirectional(c, g, x, dirs, len(glcmNames), true, f)
	return emit(nil, glcmNames, vals, "glcm", false, c.pyDirectionalTag(), true), nil
}
