package image

import (
	"fmt"
	"math"
)

// LabelsOnGrid maps a label map onto grid g by nearest neighbour in patient coordinates. When the two
// grids hold the same voxel centres in another axis order or direction (as a NIfTI written by dcm2niix,
// whose rows are flipped, against the DICOM grid), every voxel maps exactly. Voxels of g outside m are 0.
func LabelsOnGrid(m *Labels, g Grid) (*Labels, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if m.SameGrid(g, 1e-6) {
		out := NewLabels(g)
		copy(out.Data, m.Data)
		return out, nil
	}
	inv, err := m.inverseAffine()
	if err != nil {
		return nil, err
	}
	out := NewLabels(g)
	for k := 0; k < g.Size[2]; k++ {
		for j := 0; j < g.Size[1]; j++ {
			for i := 0; i < g.Size[0]; i++ {
				p := g.Point(float64(i), float64(j), float64(k))
				var idx [3]int
				inside := true
				for a := 0; a < 3; a++ {
					x := inv[a][3]
					for c := 0; c < 3; c++ {
						x += inv[a][c] * p[c]
					}
					idx[a] = int(math.Floor(x + 0.5))
					if idx[a] < 0 || idx[a] >= m.Size[a] {
						inside = false
					}
				}
				if inside {
					out.Data[g.Index(i, j, k)] = m.Data[m.Index(idx[0], idx[1], idx[2])]
				}
			}
		}
	}
	return out, nil
}

// inverseAffine returns the 3×4 LPS → voxel-index matrix of g.
func (g Grid) inverseAffine() ([3][4]float64, error) {
	a := g.Affine()
	m := [3][3]float64{{a[0], a[1], a[2]}, {a[4], a[5], a[6]}, {a[8], a[9], a[10]}}
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) + m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	var inv [3][4]float64
	if math.Abs(det) < 1e-12 {
		return inv, fmt.Errorf("image: grid direction matrix is singular")
	}
	for r := 0; r < 3; r++ {
		for c := 0; c < 3; c++ {
			// Cofactor of (c, r) over det gives the inverse.
			r1, r2 := (c+1)%3, (c+2)%3
			c1, c2 := (r+1)%3, (r+2)%3
			inv[r][c] = (m[r1][c1]*m[r2][c2] - m[r1][c2]*m[r2][c1]) / det
		}
	}
	o := [3]float64{a[3], a[7], a[11]}
	for r := 0; r < 3; r++ {
		inv[r][3] = -(inv[r][0]*o[0] + inv[r][1]*o[1] + inv[r][2]*o[2])
	}
	return inv, nil
}

// FlipRows returns m with its j axis reversed and the grid adjusted so every voxel keeps its position
// in patient space (the row order dcm2niix writes).
func (m *Labels) FlipRows() *Labels {
	g := m.Grid
	g.Origin = m.Point(0, float64(m.Size[1]-1), 0)
	for r := 0; r < 3; r++ {
		g.Direction[3*r+1] = -m.Direction[3*r+1]
	}
	out := NewLabels(g)
	for k := 0; k < m.Size[2]; k++ {
		for j := 0; j < m.Size[1]; j++ {
			src := m.Data[m.Index(0, j, k) : m.Index(0, j, k)+m.Size[0]]
			copy(out.Data[out.Index(0, m.Size[1]-1-j, k):], src)
		}
	}
	return out
}

// Reorient maps m onto g when both hold the same voxel centres (an axis flip or permutation, such as a
// label file in dcm2niix's row order against the DICOM grid) and fails otherwise: unlike LabelsOnGrid
// it never interpolates, so a label map drawn on another grid is reported rather than silently resampled.
func Reorient(m *Labels, g Grid) (*Labels, error) {
	if m.Len() != g.Len() {
		return nil, fmt.Errorf("%w: label map has %v voxels, want %v", ErrGridMismatch, m.Size, g.Size)
	}
	inv, err := m.inverseAffine()
	if err != nil {
		return nil, err
	}
	// Checking the eight corners suffices: the mapping is affine.
	for _, c := range [8][3]int{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}, {0, 0, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1}} {
		p := g.Point(float64(c[0]*(g.Size[0]-1)), float64(c[1]*(g.Size[1]-1)), float64(c[2]*(g.Size[2]-1)))
		for a := 0; a < 3; a++ {
			x := inv[a][3] + inv[a][0]*p[0] + inv[a][1]*p[1] + inv[a][2]*p[2]
			// 0.01 voxel: float32 NIfTI affines, never a real half-voxel shift.
			if math.Abs(x-math.Round(x)) > 0.01 || x < -0.01 || x > float64(m.Size[a]-1)+0.01 {
				return nil, fmt.Errorf("%w: label map voxels do not coincide with the image voxels", ErrGridMismatch)
			}
		}
	}
	return LabelsOnGrid(m, g)
}

// ReadNIfTILabelsOn reads a NIfTI-1 label map and reorients it onto g (see Reorient).
func ReadNIfTILabelsOn(path string, g Grid) (*Labels, error) {
	m, err := ReadNIfTILabels(path)
	if err != nil {
		return nil, err
	}
	out, err := Reorient(m, g)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}
