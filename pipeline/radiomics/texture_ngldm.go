package radiomics

import (
	"context"
)

// ngldmNames are the 17 neighbouring grey level dependence features (IBSI 3.11) with PyRadiomics'
// gldm names (PyRadiomics deprecated GrayLevelNonUniformityNormalized and DependencePercentage and
// has no dependence count energy).
var ngldmNames = []featureName{
	{"ngl_lde", "SmallDependenceEmphasis", ""},
	{"ngl_hde", "LargeDependenceEmphasis", ""},
	{"ngl_lgce", "LowGrayLevelEmphasis", ""},
	{"ngl_hgce", "HighGrayLevelEmphasis", ""},
	{"ngl_ldlge", "SmallDependenceLowGrayLevelEmphasis", ""},
	{"ngl_ldhge", "SmallDependenceHighGrayLevelEmphasis", ""},
	{"ngl_hdlge", "LargeDependenceLowGrayLevelEmphasis", ""},
	{"ngl_hdhge", "LargeDependenceHighGrayLevelEmphasis", ""},
	{"ngl_glnu", "GrayLevelNonUniformity", ""},
	{"ngl_glnu_norm", "", ""},
	{"ngl_dcnu", "DependenceNonUniformity", ""},
	{"ngl_dcnu_norm", "DependenceNonUniformityNormalized", ""},
	{"ngl_dc_perc", "", ""},
	{"ngl_gl_var", "GrayLevelVariance", ""},
	{"ngl_dc_var", "DependenceVariance", ""},
	{"ngl_dc_entr", "DependenceEntropy", ""},
	{"ngl_dc_energy", "", ""},
}

var ngldmPick = []int{zSE, zLE, zLG, zHG, zSLG, zSHG, zLLG, zLHG, zGLNU, zGLNUNorm, zJNU, zJNUNorm, zPerc, zGLVar, zJVar, zEntr, zEnergy}

// ngldm builds the dependence matrices per unit: for every ROI voxel of level i, j = 1 + the
// number of ROI neighbours (Chebyshev distances dists, in-plane with sliceAxis ≥ 0) whose level
// differs by at most alpha.
func (g *texGrid) ngldm(dists []int, sliceAxis, alpha int) *zoneSet {
	nb := neighbourhood(dists, sliceAxis)
	nu := g.units(sliceAxis)
	z := &zoneSet{e: make([][]ijEntry, nu), nv: make([]float64, nu)}
	counts := make([][]float64, nu) // (row of the level) × (dependence 1…len(nb)+1)
	w := len(nb) + 1
	for u := range counts {
		counts[u] = make([]float64, len(g.levels)*w)
	}
	offs := make([]int, len(nb))
	for i, o := range nb {
		offs[i] = g.offset(o)
	}
	lv := g.lv
	for n, v := range g.vox {
		l := int(lv[v])
		dep := 0
		if alpha == 0 { // the common case: equal levels (l > 0, so no ROI test needed)
			for _, off := range offs {
				if int(lv[int(v)+off]) == l {
					dep++
				}
			}
		} else {
			for _, off := range offs {
				if m := int(lv[int(v)+off]); m != 0 && abs(m-l) <= alpha {
					dep++
				}
			}
		}
		u := g.unit(n, sliceAxis)
		counts[u][int(g.row[l])*w+dep]++
		z.nv[u]++
	}
	for u := range counts {
		for r, l := range g.levels {
			for dep := 0; dep < w; dep++ {
				if v := counts[u][r*w+dep]; v != 0 {
					z.e[u] = append(z.e[u], ijEntry{l, int32(dep + 1), v})
				}
			}
		}
	}
	return z
}

// NGLDMFeatures computes the neighbouring grey level dependence features: IBSI NGLDM (2D, 2.5D,
// 3D; coarseness α = opt.Alpha, distance 1) or PyRadiomics class gldm (gldm_a = opt.Alpha).
func NGLDMFeatures(ctx context.Context, d *Discretised, opt TextureOptions) ([]Feature, error) {
	return runFamily(ctx, d, opt, ngldmFamily)
}

func ngldmFamily(ctx context.Context, g *texGrid, c textureConfig) ([]Feature, error) {
	if c.ibsi {
		return ibsiZoneAggs(ctx, c, ngldmNames, "gldm", func(agg string, axis int) []float64 {
			return aggregateZones(g.ngldm(c.dists, axis, c.alpha), agg == agg25D, false, ngldmPick)
		})
	}
	vals := aggregateZones(g.ngldm(c.dists, c.pyGeometry(), c.alpha), true, true, ngldmPick)
	return emit(nil, ngldmNames, vals, "gldm", false, c.pyZoneTag(), true), nil
}
