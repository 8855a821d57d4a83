package radiomics

import (
	"context"
	"math"
)

// ngtdmNames are the 5 neighbourhood grey tone difference features (IBSI 3.10) with PyRadiomics'
// ngtdm names.
var ngtdmNames = []featureName{
	{"ngt_coarseness", "Coarseness", "no grey tone difference (uniform region)"},
	{"ngt_contrast", "Contrast", "a single grey level"},
	{"ngt_busyness", "Busyness", "a single grey level"},
	{"ngt_complexity", "Complexity", ""},
	{"ngt_strength", "Strength", "no grey tone difference (uniform region)"},
}

// ngtdmUnit holds, per grey level present (the rows of g.levels), n_i (voxels) and
// s_i (Σ |i − neighbourhood mean|).
type ngtdmUnit struct{ n, s []float64 }

// ngtdm builds the matrices per unit. A voxel's neighbourhood is its ROI neighbours at the given
// Chebyshev distances (in-plane with sliceAxis ≥ 0). countIsolated keeps voxels without any ROI
// neighbour with s = 0 (PyRadiomics); IBSI leaves them out.
func (g *texGrid) ngtdm(dists []int, sliceAxis int, countIsolated bool) []ngtdmUnit {
	nb := neighbourhood(dists, sliceAxis)
	units := make([]ngtdmUnit, g.units(sliceAxis))
	for u := range units {
		units[u] = ngtdmUnit{n: make([]float64, len(g.levels)), s: make([]float64, len(g.levels))}
	}
	offs := make([]int, len(nb))
	for i, o := range nb {
		offs[i] = g.offset(o)
	}
	lv := g.lv
	for n, v := range g.vox {
		l := lv[v]
		var total, cnt float64
		for _, off := range offs {
			if m := lv[int(v)+off]; m != 0 {
				total += float64(m)
				cnt++
			}
		}
		if cnt == 0 && !countIsolated {
			continue
		}
		u, r := g.unit(n, sliceAxis), g.row[l]
		units[u].n[r]++
		if cnt > 0 {
			units[u].s[r] += math.Abs(float64(l) - total/cnt)
		}
	}
	return units
}

// ngtdmFeatures computes the 5 features of one matrix (n, s per row of levels); nil when it is
// empty. py applies PyRadiomics' values for the degenerate cases (coarseness 10⁶,
// contrast/busyness/strength 0).
func ngtdmFeatures(n, s []float64, levels []int32, py bool) []float64 {
	nv := sum(n)
	if nv == 0 {
		return nil
	}
	var lv []int // rows with n_i > 0
	for r := range n {
		if n[r] > 0 {
			lv = append(lv, r)
		}
	}
	p := make([]float64, len(n))
	var ps, ssum float64
	for _, l := range lv {
		p[l] = n[l] / nv
		ps += p[l] * s[l]
		ssum += s[l]
	}
	ngp := float64(len(lv))
	var contr, busyDen, compl, stren float64
	for _, a := range lv {
		for _, b := range lv {
			va, vb := float64(levels[a]), float64(levels[b])
			d := va - vb
			contr += p[a] * p[b] * d * d
			busyDen += math.Abs(va*p[a] - vb*p[b])
			compl += math.Abs(d) * (p[a]*s[a] + p[b]*s[b]) / (p[a] + p[b])
			stren += (p[a] + p[b]) * d * d
		}
	}
	nan := math.NaN()
	coarse, contrast, busy, strength := nan, nan, nan, nan
	if ps > 0 {
		coarse = 1 / ps
	}
	if ngp > 1 {
		contrast = contr / (ngp * (ngp - 1)) * ssum / nv
	}
	if busyDen > 0 {
		busy = ps / busyDen
	}
	if ssum > 0 {
		strength = stren / ssum
	}
	if py {
		if ps == 0 {
			coarse = 1e6
		}
		if ngp <= 1 {
			contrast = 0
		}
		if busyDen == 0 {
			busy = 0
		}
		if ssum == 0 {
			strength = 0
		}
	}
	return []float64{coarse, contrast, busy, compl / nv, strength}
}

// NGTDMFeatures computes the neighbourhood grey tone difference matrix features: IBSI 2D, 2.5D
// and 3D, or PyRadiomics class ngtdm.
func NGTDMFeatures(ctx context.Context, d *Discretised, opt TextureOptions) ([]Feature, error) {
	return runFamily(ctx, d, opt, ngtdmFamily)
}

func ngtdmFamily(ctx context.Context, g *texGrid, c textureConfig) ([]Feature, error) {
	if c.ibsi {
		return ibsiZoneAggs(ctx, c, ngtdmNames, "ngtdm", func(agg string, axis int) []float64 {
			units := g.ngtdm(c.dists, axis, false)
			if agg != agg2D {
				n, s := mergeNGTDM(units)
				return ngtdmFeatures(n, s, g.levels, false)
			}
			m := newFeatureMean(len(ngtdmNames), false)
			for _, u := range units {
				if v := ngtdmFeatures(u.n, u.s, g.levels, false); v != nil {
					m.add(v)
				}
			}
			if !m.any {
				return nil
			}
			return m.mean()
		})
	}
	n, s := mergeNGTDM(g.ngtdm(c.dists, c.pyGeometry(), true))
	return emit(nil, ngtdmNames, ngtdmFeatures(n, s, g.levels, true), "ngtdm", false, c.pyZoneTag(), true), nil
}

func mergeNGTDM(units []ngtdmUnit) (n, s []float64) {
	n = make([]float64, len(units[0].n))
	s = make([]float64, len(units[0].s))
	for _, u := range units {
		for l := range n {
			n[l] += u.n[l]
			s[l] += u.s[l]
		}
	}
	return n, s
}
