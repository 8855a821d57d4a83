package radiomics

import (
	"context"
)

// glszmNames are the 16 size zone features (IBSI 3.8) with PyRadiomics' glszm names.
var glszmNames = []featureName{
	{"szm_sze", "SmallAreaEmphasis", ""},
	{"szm_lze", "LargeAreaEmphasis", ""},
	{"szm_lgze", "LowGrayLevelZoneEmphasis", ""},
	{"szm_hgze", "HighGrayLevelZoneEmphasis", ""},
	{"szm_szlge", "SmallAreaLowGrayLevelEmphasis", ""},
	{"szm_szhge", "SmallAreaHighGrayLevelEmphasis", ""},
	{"szm_lzlge", "LargeAreaLowGrayLevelEmphasis", ""},
	{"szm_lzhge", "LargeAreaHighGrayLevelEmphasis", ""},
	{"szm_glnu", "GrayLevelNonUniformity", ""},
	{"szm_glnu_norm", "GrayLevelNonUniformityNormalized", ""},
	{"szm_zsnu", "SizeZoneNonUniformity", ""},
	{"szm_zsnu_norm", "SizeZoneNonUniformityNormalized", ""},
	{"szm_z_perc", "ZonePercentage", ""},
	{"szm_gl_var", "GrayLevelVariance", ""},
	{"szm_zs_var", "ZoneVariance", ""},
	{"szm_zs_entr", "ZoneEntropy", ""},
}

// zonePick maps zoneFeatures to the GLSZM and GLDZM feature order (both have 16 features).
var zonePick = []int{zSE, zLE, zLG, zHG, zSLG, zSHG, zLLG, zLHG, zGLNU, zGLNUNorm, zJNU, zJNUNorm, zPerc, zGLVar, zJVar, zEntr}

// zone is one connected set of ROI voxels of equal grey level.
type zone struct {
	unit, level, size int
	dist              int32 // smallest distance to the ROI border of its voxels (GLDZM)
}

// zones labels the connected zones (26-connected in 3D, 8-connected within slices along
// sliceAxis) and, when dist (on the local grid) is given, their smallest border distance. It also
// returns the ROI voxel count per unit.
func (g *texGrid) zones(sliceAxis int, dist []int32) ([]zone, []float64) {
	nb := neighbourhood([]int{1}, sliceAxis)
	offs := make([]int, len(nb))
	for n, o := range nb {
		offs[n] = g.offset(o)
	}
	nv := make([]float64, g.units(sliceAxis))
	// A voxel is marked as visited by negating its level in a private copy, so a neighbour test
	// is one load: lv[w] == l.
	lv := append([]int32(nil), g.lv...)
	var out []zone
	var stack []int32
	for n, start := range g.vox {
		u := g.unit(n, sliceAxis)
		nv[u]++
		l := lv[start]
		if l < 0 {
			continue
		}
		z := zone{unit: u, level: int(l), dist: 1 << 30}
		lv[start] = -l
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			z.size++
			if dist != nil {
				z.dist = min(z.dist, dist[v])
			}
			for _, off := range offs {
				if w := int(v) + off; lv[w] == l {
					lv[w] = -l
					stack = append(stack, int32(w))
				}
			}
		}
		out = append(out, z)
	}
	return out, nv
}

// zoneSetOf builds the per-unit size (j = size) or distance (j = distance) matrices.
func zoneSetOf(zs []zone, nv []float64, byDistance bool) *zoneSet {
	s := &zoneSet{e: make([][]ijEntry, len(nv)), nv: nv}
	for _, z := range zs {
		j := int32(z.size)
		if byDistance {
			j = z.dist
		}
		s.e[z.unit] = append(s.e[z.unit], ijEntry{int32(z.level), j, 1})
	}
	for u := range s.e {
		s.e[u] = compact(s.e[u])
	}
	return s
}

// GLSZMFeatures computes the grey level size zone matrix features: IBSI 2D, 2.5D and 3D, or
// PyRadiomics class glszm (3D, or 8-connected zones in slices with force2D).
func GLSZMFeatures(ctx context.Context, d *Discretised, opt TextureOptions) ([]Feature, error) {
	return runFamily(ctx, d, opt, glszmFamily)
}

func glszmFamily(ctx context.Context, g *texGrid, c textureConfig) ([]Feature, error) {
	if c.ibsi {
		return ibsiZoneAggs(ctx, c, glszmNames, "glszm", func(agg string, axis int) []float64 {
			zs, nv := g.zones(axis, nil)
			return aggregateZones(zoneSetOf(zs, nv, false), agg == agg25D, false, zonePick)
		})
	}
	zs, nv := g.zones(c.pyGeometry(), nil)
	vals := aggregateZones(zoneSetOf(zs, nv, false), true, true, zonePick)
	return emit(nil, glszmNames, vals, "glszm", false, c.pyZoneTag(), true), nil
}
