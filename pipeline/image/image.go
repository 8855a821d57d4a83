package image

import (
	"errors"
	"fmt"
	"math"
)

// Grid is a voxel grid in patient coordinates (LPS, millimetres).
// Voxel (i, j, k) lies at Origin + Σ Direction[:,a]·Spacing[a]·index[a]; Direction holds the unit
// direction cosines of the i, j and k axes as its columns (row-major 3×3).
type Grid struct {
	Size      [3]int     // voxels along i (columns), j (rows), k (slices)
	Spacing   [3]float64 // mm
	Origin    [3]float64 // centre of voxel (0,0,0), LPS mm
	Direction [9]float64 // row-major 3×3, columns are the axis directions
}

// IdentityDirection is the direction matrix of an axis-aligned grid.
var identityDirection = [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}

// NewGrid returns an axis-aligned grid with the given size and spacing at origin 0.
func NewGrid(size [3]int, spacing [3]float64) Grid {
	return Grid{Size: size, Spacing: spacing, Direction: identityDirection}
}

// Len is the number of voxels.
func (g Grid) Len() int { return g.Size[0] * g.Size[1] * g.Size[2] }

// Index is the linear index of voxel (i, j, k); i varies fastest.
func (g Grid) Index(i, j, k int) int { return i + g.Size[0]*(j+g.Size[1]*k) }

// Contains reports whether (i, j, k) is inside the grid.
func (g Grid) Contains(i, j, k int) bool {
	return i >= 0 && j >= 0 && k >= 0 && i < g.Size[0] && j < g.Size[1] && k < g.Size[2]
}

// Affine is the 4×4 voxel-index → LPS matrix (row-major).
func (g Grid) Affine() [16]float64 {
	var a [16]float64
	for r := 0; r < 3; r++ {
		for c := 0; c < 3; c++ {
			a[4*r+c] = g.Direction[3*r+c] * g.Spacing[c]
		}
		a[4*r+3] = g.Origin[r]
	}
	a[15] = 1
	return a
}

// Point is the LPS position of (fractional) voxel index (i, j, k).
func (g Grid) Point(i, j, k float64) [3]float64 {
	idx := [3]float64{i, j, k}
	var p [3]float64
	for r := 0; r < 3; r++ {
		p[r] = g.Origin[r]
		for c := 0; c < 3; c++ {
			p[r] += g.Direction[3*r+c] * g.Spacing[c] * idx[c]
		}
	}
	return p
}

// SameGrid reports whether two grids match within tol (mm and direction cosines).
func (g Grid) SameGrid(o Grid, tol float64) bool {
	if g.Size != o.Size {
		return false
	}
	for a := 0; a < 3; a++ {
		if math.Abs(g.Spacing[a]-o.Spacing[a]) > tol || math.Abs(g.Origin[a]-o.Origin[a]) > tol {
			return false
		}
	}
	for i := range g.Direction {
		if math.Abs(g.Direction[i]-o.Direction[i]) > tol {
			return false
		}
	}
	return true
}

// Validate checks that the grid is usable.
func (g Grid) Validate() error {
	for a := 0; a < 3; a++ {
		if g.Size[a] <= 0 {
			return fmt.Errorf("image: size %v: every dimension must be positive", g.Size)
		}
		if !(g.Spacing[a] > 0) || math.IsInf(g.Spacing[a], 0) {
			return fmt.Errorf("image: spacing %v: every spacing must be positive and finite", g.Spacing)
		}
	}
	if g.Len() > 1<<31 {
		return fmt.Errorf("image: size %v: too many voxels", g.Size)
	}
	return nil
}

// Volume is a scalar image on a grid (float64 voxels, i fastest).
type Volume struct {
	Grid
	Data []float64
}

// NewVolume allocates a zero volume on g.
func NewVolume(g Grid) *Volume { return &Volume{Grid: g, Data: make([]float64, g.Len())} }

// At returns the voxel value at (i, j, k).
func (v *Volume) At(i, j, k int) float64 { return v.Data[v.Index(i, j, k)] }

// Set sets the voxel value at (i, j, k).
func (v *Volume) Set(i, j, k int, x float64) { v.Data[v.Index(i, j, k)] = x }

// Labels is a label map on a grid (0 = background).
type Labels struct {
	Grid
	Data []uint8
}

// NewLabels allocates an empty label map on g.
func NewLabels(g Grid) *Labels { return &Labels{Grid: g, Data: make([]uint8, g.Len())} }

// Count returns the number of voxels with label l.
func (m *Labels) Count(l uint8) int {
	n := 0
	for _, x := range m.Data {
		if x == l {
			n++
		}
	}
	return n
}

// ErrGridMismatch is returned when an image and a mask are not on the same grid.
var ErrGridMismatch = errors.New("image: grids differ")
