package radiomics

import (
	"context"
)

// gldzmNames are the 16 distance zone features (IBSI 3.9). PyRadiomics has no GLDZM class.
var gldzmNames = []featureName{
	{"dzm_sde", "", ""},
	{"dzm_lde", "", ""},
	{"dzm_lgze", "", ""},
	{"dzm_hgze", "", ""},
	{"dzm_sdlge", "", ""},
	{"dzm_sdhge", "", ""},
	{"dzm_ldlge", "", ""},
	{"dzm_ldhge", "", ""},
	{"dzm_glnu", "", ""},
	{"dzm_glnu_norm", "", ""},
	{"dzm_zdnu", "", ""},
	{"dzm_zdnu_norm", "", ""},
	{"dzm_z_perc", "", ""},
	{"dzm_gl_var", "", ""},
	{"dzm_zd_var", "", ""},
	{"dzm_zd_entr", "", ""},
}

// borderDistance is the IBSI distance map of the morphological mask: for every mask voxel the
// smallest number of face-connected steps (6-connectivity in 3D, 4 within slices along sliceAxis)
// to a voxel outside the mask or outside the grid, so voxels on the border have distance 1.
// Within the mask this equals the Manhattan distance to the nearest non-mask voxel. The map is
// computed on the Discretised grid and returned on the local grid.
func (g *texGrid) borderDistance(sliceAxis int) []int32 {
	var faces [][3]int
	for a := 0; a < 3; a++ {
		if a == sliceAxis {
			continue
		}
		var o [3]int
		o[a] = 1
		faces = append(faces, o)
		o[a] = -1
		faces = append(faces, o)
	}
	inGrid := func(i, j, k int) bool {
		return i >= 0 && j >= 0 && k >= 0 && i < g.size[0] && j < g.size[1] && k < g.size[2]
	}
	dist := make([]int32, len(g.morph))
	var queue []int
	idx := 0
	for k := 0; k < g.size[2]; k++ {
		for j := 0; j < g.size[1]; j++ {
			for i := 0; i < g.size[0]; i++ {
				if g.morph[idx] {
					for _, o := range faces {
						ni, nj, nk := i+o[0], j+o[1], k+o[2]
						if !inGrid(ni, nj, nk) || !g.morph[ni*g.stride[0]+nj*g.stride[1]+nk*g.stride[2]] {
							dist[idx] = 1
							queue = append(queue, idx)
							break
						}
					}
				}
				idx++
			}
		}
	}
	for h := 0; h < len(queue); h++ {
		v := queue[h]
		vi := v % g.size[0]
		vj := (v / g.size[0]) % g.size[1]
		vk := v / g.stride[2]
		for _, o := range faces {
			ni, nj, nk := vi+o[0], vj+o[1], vk+o[2]
			if !inGrid(ni, nj, nk) {
				continue
			}
			w := ni*g.stride[0] + nj*g.stride[1] + nk*g.stride[2]
			if g.morph[w] && dist[w] == 0 {
				dist[w] = dist[v] + 1
				queue = append(queue, w)
			}
		}
	}
	// Onto the local grid of the zones.
	local := make([]int32, len(g.lv))
	for k := 0; k < g.extent(2); k++ {
		for j := 0; j < g.extent(1); j++ {
			for i := 0; i < g.extent(0); i++ {
				local[g.local(i, j, k)] = dist[(g.lo[0]+i)+g.stride[1]*(g.lo[1]+j)+g.stride[2]*(g.lo[2]+k)]
			}
		}
	}
	return local
}

// GLDZMFeatures computes the IBSI grey level distance zone matrix features (2D, 2.5D, 3D): zones
// as in the GLSZM (intensity mask), distances from the morphological mask. PyRadiomics has no
// such class, so it returns nothing in PyRadiomics mode.
func GLDZMFeatures(ctx context.Context, d *Discretised, opt TextureOptions) ([]Feature, error) {
	return runFamily(ctx, d, opt, gldzmFamily)
}

func gldzmFamily(ctx context.Context, g *texGrid, c textureConfig) ([]Feature, error) {
	if !c.ibsi {
		return nil, nil
	}
	return ibsiZoneAggs(ctx, c, gldzmNames, "", func(agg string, axis int) []float64 {
		zs, nv := g.zones(axis, g.borderDistance(axis))
		return aggregateZones(zoneSetOf(zs, nv, true), agg == agg25D, false, zonePick)
	})
}
