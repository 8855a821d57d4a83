package radiomics

import (
	"cmp"
	"math"
	"slices"
)

// The run length (GLRLM), size zone (GLSZM), distance zone (GLDZM) and dependence (NGLDM / GLDM)
// matrices share one form, P(i, j) with i a grey level and j a length, size, distance or count,
// and one set of formulas (IBSI 3.7–3.11). They are kept sparse: a zone can be as large as the ROI.

// ijEntry is one non-zero element P(i, j) = n.
type ijEntry struct {
	i, j int32
	n    float64
}

// compact sorts entries by (i, j) and merges duplicates.
func compact(e []ijEntry) []ijEntry {
	slices.SortFunc(e, func(a, b ijEntry) int {
		if c := cmp.Compare(a.i, b.i); c != 0 {
			return c
		}
		return cmp.Compare(a.j, b.j)
	})
	out := e[:0]
	for _, x := range e {
		if x.n == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].i == x.i && out[n-1].j == x.j {
			out[n-1].n += x.n
			continue
		}
		out = append(out, x)
	}
	return out
}

// Indices of zoneFeatures' result.
const (
	zSE = iota
	zLE
	zLG
	zHG
	zSLG
	zSHG
	zLLG
	zLHG
	zGLNU
	zGLNUNorm
	zJNU
	zJNUNorm
	zPerc
	zGLVar
	zJVar
	zEntr
	zEnergy
	zCount
)

// zoneFeatures computes the shared features of a compacted matrix. nv is the denominator of the
// percentage (voxels; for merged run length matrices voxels × directions). py adds PyRadiomics' ε
// inside the entropy logarithm. Returns nil for an empty matrix.
func zoneFeatures(e []ijEntry, nv float64, py bool) []float64 {
	var ns float64
	maxI, maxJ := int32(0), int32(0)
	for _, x := range e {
		ns += x.n
		maxI = max(maxI, x.i)
		maxJ = max(maxJ, x.j)
	}
	if ns == 0 {
		return nil
	}
	le := 0.0
	if py {
		le = eps
	}
	pi := make([]float64, maxI+1)
	pj := make([]float64, maxJ+1)
	r := make([]float64, zCount)
	var mui, muj float64
	for _, x := range e {
		i, j := float64(x.i), float64(x.j)
		i2, j2 := i*i, j*j
		r[zSE] += x.n / j2
		r[zLE] += x.n * j2
		r[zLG] += x.n / i2
		r[zHG] += x.n * i2
		r[zSLG] += x.n / (i2 * j2)
		r[zSHG] += x.n * i2 / j2
		r[zLLG] += x.n * j2 / i2
		r[zLHG] += x.n * i2 * j2
		pi[x.i] += x.n
		pj[x.j] += x.n
		p := x.n / ns
		mui += i * p
		muj += j * p
		r[zEntr] -= p * math.Log2(p+le)
		r[zEnergy] += p * p
	}
	for _, k := range []int{zSE, zLE, zLG, zHG, zSLG, zSHG, zLLG, zLHG} {
		r[k] /= ns
	}
	for _, x := range e {
		p := x.n / ns
		i, j := float64(x.i), float64(x.j)
		r[zGLVar] += (i - mui) * (i - mui) * p
		r[zJVar] += (j - muj) * (j - muj) * p
	}
	for _, v := range pi {
		r[zGLNU] += v * v
	}
	for _, v := range pj {
		r[zJNU] += v * v
	}
	r[zGLNU] /= ns
	r[zGLNUNorm] = r[zGLNU] / ns
	r[zJNU] /= ns
	r[zJNUNorm] = r[zJNU] / ns
	r[zPerc] = ns / nv
	return r
}

// zoneSet collects the matrices of a zone-type family per unit (slice or volume) together with the
// voxel count of each unit.
type zoneSet struct {
	e  [][]ijEntry
	nv []float64
}

// aggregateZones computes the IBSI 2D (per slice, averaged), 2.5D (slices merged) or 3D (one unit)
// features of a zone set, mapped through pick to the family's feature order.
func aggregateZones(z *zoneSet, merge, py bool, pick []int) []float64 {
	f := func(e []ijEntry, nv float64) []float64 {
		r := zoneFeatures(e, nv, py)
		if r == nil {
			return nil
		}
		out := make([]float64, len(pick))
		for i, k := range pick {
			out[i] = r[k]
		}
		return out
	}
	if merge {
		var all []ijEntry
		nv := 0.0
		for u := range z.e {
			all = append(all, z.e[u]...)
			nv += z.nv[u]
		}
		return f(compact(all), nv)
	}
	m := newFeatureMean(len(pick), false)
	for u := range z.e {
		if v := f(z.e[u], z.nv[u]); v != nil {
			m.add(v)
		}
	}
	if !m.any {
		return nil
	}
	return m.mean()
}
