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
// volume): m[(level-1)*maxLen + length-1]. A run is a maximal sequence of ROI voxels of one grey
// level along a line; voxels outside the ROI end it. multi[d] reports whether some line along
// direction d holds two or more ROI voxels (PyRadiomics drops directions where none does).
func (g *texGrid) glrlmCounts(dirs [][3]int, sliceAxis int) (x *dirMatrices, maxLen int, multi []bool) {
	maxLen = max(g.extent(0), g.extent(1), g.extent(2))
	x = newDirMatrices(g.units(sliceAxis), len(dirs), g.ng*maxLen)
	multi = make([]bool, len(dirs))
	for d, o := range dirs {
		step := o[0]*g.stride[0] + o[1]*g.stride[1] + o[2]*g.stride[2]
		for k := g.lo[2]; k <= g.hi[2]; k++ {
			for j := g.lo[1]; j <= g.hi[1]; j++ {
				for i := g.lo[0]; i <= g.hi[0]; i++ {
					if g.inBox(i-o[0], j-o[1], k-o[2]) {
						continue // not the start of a line
					}
					u := 0
					if sliceAxis >= 0 {
						u = [3]int{i, j, k}[sliceAxis] - g.lo[sliceAxis]
					}
					m := x.at(u, d)
					idx := i*g.stride[0] + j*g.stride[1] + k*g.stride[2]
					ci, cj, ck := i, j, k
					cur, run, elements := int32(0), 0, 0
					for g.inBox(ci, cj, ck) {
						l := g.level[idx]
						if l != 0 {
							elements++
						}
						if l != cur {
							if cur != 0 {
								m[int(cur-1)*maxLen+run-1]++
							}
							cur, run = l, 0
						}
						if l != 0 {
							run++
						}
						ci, cj, ck, idx = ci+o[0], cj+o[1], ck+o[2], idx+step
					}
					if cur != 0 {
						m[int(cur-1)*maxLen+run-1]++
					}
					if elements > 1 {
						multi[d] = true
					}
				}
			}
		}
	}
	return x, maxLen, multi
}

// runEntries converts a dense run length matrix to entries.
func runEntries(m []float64, ng, maxLen int) []ijEntry {
	var e []ijEntry
	for a := 0; a < ng; a++ {
		for r := 0; r < maxLen; r++ {
			if v := m[a*maxLen+r]; v != 0 {
				e = append(e, ijEntry{int32(a + 1), int32(r + 1), v})
			}
		}
	}
	return e
}

// runFeatures computes the GLRLM features of one dense matrix; the percentage divides by Σ n·j,
// the voxels covered by the runs (the ROI size, times the directions for a merged matrix).
func runFeatures(m []float64, ng, maxLen int, py bool) []float64 {
	e := runEntries(m, ng, maxLen)
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
	c, err := resolveTextureOptions(opt)
	if err != nil {
		return nil, err
	}
	g, err := newTexGrid(d)
	if err != nil {
		return nil, err
	}
	nf := len(glrlmNames)
	var out []Feature
	if c.ibsi {
		for _, dim := range []int{2, 3} {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			aggs := directionalAggs[:4]
			axis := c.sliceAxis
			if dim == 3 {
				aggs, axis = directionalAggs[4:], -1
			}
			var x *dirMatrices
			var maxLen int
			for _, a := range aggs {
				if !c.want(a) {
					continue
				}
				if x == nil {
					x, maxLen, _ = g.glrlmCounts(g.directions(c.dists, axis, false), axis)
				}
				f := func(m []float64) []float64 { return runFeatures(m, g.ng, maxLen, false) }
				out = emit(out, glrlmNames, aggregateDirectional(x, a, nf, false, f), "glrlm", true, a, a == agg3DAvg)
			}
		}
		return out, nil
	}
	dirs := g.directions(c.dists, c.pyGeometry(), true)
	x, maxLen, multi := g.glrlmCounts(dirs, -1)
	for di := range dirs {
		if !multi[di] {
			clear(x.at(0, di)) // PyRadiomics: only runs of one voxel along this angle
		}
	}
	f := func(m []float64) []float64 { return runFeatures(m, g.ng, maxLen, true) }
	var vals []float64
	if c.weighting != "" {
		w := make([]float64, x.size)
		for di, o := range dirs {
			wt := directionWeight(c.weighting, o, g.spacing, false)
			for i, v := range x.at(0, di) {
				w[i] += wt * v
			}
		}
		vals = f(w)
	} else {
		vals = aggregateDirectional(x, agg3DAvg, nf, true, f)
	}
	return emit(out, glrlmNames, vals, "glrlm", false, c.pyDirectionalTag(), true), nil
}
