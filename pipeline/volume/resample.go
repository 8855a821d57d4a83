package volume

import (
	"math"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// Resample returns v sampled on grid g by trilinear interpolation in patient space; points outside v are 0.
// When v is already on g (within 1e-4 mm) it returns v itself.
func Resample(v *image.Volume, g image.Grid) *image.Volume {
	if v.Grid.SameGrid(g, 1e-4) {
		return v
	}
	out := image.NewVolume(g)
	src := v.Grid
	// index(p) = S⁻¹ Dᵀ (p − o): precompute the map from target index to source index (affine).
	var m [3][4]float64
	for r := range 3 {
		for c := range 3 {
			// source axis r · target axis c
			var s float64
			for q := range 3 {
				s += src.Direction[3*q+r] * g.Direction[3*q+c]
			}
			m[r][c] = s * g.Spacing[c] / src.Spacing[r]
		}
		var s float64
		for q := range 3 {
			s += src.Direction[3*q+r] * (g.Origin[q] - src.Origin[q])
		}
		m[r][3] = s / src.Spacing[r]
	}
	nx, ny, nz := src.Size[0], src.Size[1], src.Size[2]
	at := func(i, j, k int) float64 {
		if i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz {
			return 0
		}
		return v.Data[i+nx*(j+ny*k)]
	}
	n := 0
	for k := 0; k < g.Size[2]; k++ {
		for j := 0; j < g.Size[1]; j++ {
			for i := 0; i < g.Size[0]; i++ {
				fi, fj, fk := float64(i), float64(j), float64(k)
				x := m[0][0]*fi + m[0][1]*fj + m[0][2]*fk + m[0][3]
				y := m[1][0]*fi + m[1][1]*fj + m[1][2]*fk + m[1][3]
				z := m[2][0]*fi + m[2][1]*fj + m[2][2]*fk + m[2][3]
				out.Data[n] = trilinear(at, x, y, z, nx, ny, nz)
				n++
			}
		}
	}
	return out
}

func trilinear(at func(i, j, k int) float64, x, y, z float64, nx, ny, nz int) float64 {
	if x < -0.5 || y < -0.5 || z < -0.5 || x > float64(nx)-0.5 || y > float64(ny)-0.5 || z > float64(nz)-0.5 {
		return 0
	}
	// Clamp to the edge voxels so the half-voxel border is not darkened by the zero outside.
	x = math.Max(0, math.Min(x, float64(nx-1)))
	y = math.Max(0, math.Min(y, float64(ny-1)))
	z = math.Max(0, math.Min(z, float64(nz-1)))
	i0, j0, k0 := int(x), int(y), int(z)
	dx, dy, dz := x-float64(i0), y-float64(j0), z-float64(k0)
	c := func(i, j, k int) float64 {
		return at(min(i, nx-1), min(j, ny-1), min(k, nz-1))
	}
	c00 := c(i0, j0, k0)*(1-dx) + c(i0+1, j0, k0)*dx
	c10 := c(i0, j0+1, k0)*(1-dx) + c(i0+1, j0+1, k0)*dx
	c01 := c(i0, j0, k0+1)*(1-dx) + c(i0+1, j0, k0+1)*dx
	c11 := c(i0, j0+1, k0+1)*(1-dx) + c(i0+1, j0+1, k0+1)*dx
	return (c00*(1-dy)+c10*dy)*(1-dz) + (c01*(1-dy)+c11*dy)*dz
}
