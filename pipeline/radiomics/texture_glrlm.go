package radiomics

import (
	"context"
)

// glrlmNames are the 16 run length features (IBSI 3.7) with PyRadiomics' glrlm names.
var glrlmNames = []featureName{
	{"rlm_sre", "ShortRunEmphasis", ""},
	{"rlm_lre", "LongRunEmphasis", ""},
	{"rlm_lgre", "LowGrayLevelRunEmphasis", ""},
	{"rlm_hgre", "HighGrayLevelRunEmphasis", ""},
	{"rlm_srlge", "ShortRunLowGrayLevelEmphasis", ""},
	{"rlm_srhge", "ShortRunHighGrayLevelEmphasis", ""},
	{"rlm_lrlge", "LongRunLowGrayLevelEmphasis", ""},
	{"rlm_lrhge", "LongRunHighGrayLevelEmphasis", ""},
	{"rlm_glnu", "GrayLevelNonUniformity", ""},
	{"rlm_glnu_norm", "GrayLevelNonUniformityNormalized", ""},
	{"rlm_rlnu", "RunLengthNonUniformity", ""},
	{"rlm_rlnu_norm", "RunLengthNonUniformityNormalized", ""},
	{"rlm_r_perc", "RunPercentage", ""},
	{"rlm_gl_var", "GrayLevelVariance", ""},
	{"rlm_rl_var", "RunVariance", ""},
	{"rlm_rl_entr", "RunEntropy", ""},
}

var glrlmPick = []int{zSE, zLE, zLG, zHG, zSLG, zSHG, zLLG, zLHG, zGLNU, zGLNUNorm, zJNU, zJNUNorm, zPerc, zGLVar, zJVar, zEntr}

// glrlmCounts counts the runs along every direction, per unit (the slice of the run, or the
// volume): m[row(level)*maxLen + length-1], rows the grey levels present (g.levels). A run is a maximal sequence of ROI voxels of one grey
// level along a line; voxels outside the ROI end it. multi[d] reports whether some line along
// direction d holds two or more ROI voxels (PyRadiomics drops directions where none does).
func (g *texGrid) glrlmCounts(dirs [][3]int, sliceAxis int) (x *dirMatrices, maxLen int, multi []bool) {
	maxLen = max(g.extent(0), g.extent(1), g.extent(2))
	x = newDirMatrices(g.units(sliceAxis), len(dirs), len(g.levels)*maxLen)
	multi = make([]bool, len(dirs))
	lv := g.lv
	for d, o := range dirs {
		off := g.offset(o)
		for n, v := range g.vox {
			a := lv[v]
			if lv[int(v)-off] == a {
				continue // not the first voxel of its run
			}
			run := 1
			for w := int(v) + off; lv[w] == a; w += off {
				run++
			}
			if run > 1 {
				multi[d] = true
			}
			x.at(g.unit(n, sliceAxis), d)[int(g.row[a])*maxLen+run-1]++
		}
		if !multi[d] {
			multi[d] = g.lineHoldsTwo(o)
		}
	}
	return x, maxLen, multi
}

// lineHoldsTwo reports whether a line along o through the bounding box holds two ROI voxels that
// are not neighbours (the case the run lengths cannot show).
func (g *texGrid) lineHoldsTwo(o [3]int) bool {
	off := g.offset(o)
	for n, v := range g.vox {
		c := [3]int{int(g.coord[0][n]), int(g.coord[1][n]), int(g.coord[2][n])}
		for w := int(v); ; {
			for a := 0; a < 3; a++ {
				c[a] += o[a]
			}
			w += off
			if c[0] < 0 || c[1] < 0 || c[2] < 0 || c[0] >= g.extent(0) || c[1] >= g.extent(1) || c[2] >= g.extent(2) {
				break
			}
			if g.lv[w] != 0 {
				return true
			}
		}
	}
	return false
}

// runEntries converts a dense run length matrix (rows: levels) to entries.
func runEntries(m []float64, levels []int32, maxLen int) []ijEntry {
	var e []ijEntry
	for a, l := range levels {
		for r := 0; r < maxLen; r++ {
			if v := m[a*maxLen+r]; v != 0 {
				e = append(e, ijEntry{l, int32(r + 1), v})
			}
		}
	}
	return e
}

// runFeatures computes the GLRLM features of one dense matrix; the percentage divides by Σ n·j,
// the voxels covered by the runs (the ROI size, times the directions for a merged matrix).
func runFeatures(m []float64, levels []int32, maxLen int, py bool) []float64 {
	e := runEntries(m, levels, maxLen)
	nv := 0.0
	for _, x := range e {
		nv += x.n * float64(x.j)
	}
	r := zoneFeatures(e, nv, py)
	if r == nil {
		return nil
	}
	out := make([]float64, len(glrlmPick))
	for i, k := range glrlmPick {
		out[i] = r[k]
	}
	return out
}

// GLRLMFeatures computes the grey level run length matrix features: IBSI (every requested 2D,
// 2.5D and 3D aggregation) or PyRadiomics class glrlm (per-angle averaging or weightingNorm).
func GLRLMFeatures(ctx context.Context, d *Discretised, opt TextureOptions) ([]Feature, error) {
	return runFamily(ctx, d, opt, glrlmFamily)
}

func glrlmFamily(ctx context.Context, g *texGrid, c textureConfig) ([]Feature, error) {
	if c.ibsi {
		return ibsiDirectional(ctx, c, glrlmNames, "glrlm", func(axis int) (*dirMatrices, func([]float64) []float64) {
			x, maxLen, _ := g.glrlmCounts(g.directions([]int{1}, axis, false), axis)
			return x, func(m []float64) []float64 { return runFeatures(m, g.levels, maxLen, false) }
		})
	}
	dirs := g.directions([]int{1}, c.pyGeometry(), true) // PyRadiomics runs use unit steps
	x, maxLen, multi := g.glrlmCounts(dirs, -1)
	for di := range dirs {
		if !multi[di] {
			clear(x.at(0, di)) // PyRadiomics: only runs of one voxel along this angle
		}
	}
	f := func(m []float64) []float64 { return runFeatures(m, g.levels, maxLen, true) }
	vals := pyDirectional(c, g, x, dirs, len(glrlmNames), false, f)
	return emit(nil, glrlmNames, vals, "glrlm", false, c.pyDirectionalTag(), true), nil
}
