package radiomics

import (
	"math"
	"testing"
)

func TestMarchingCubesClosedShapes(t *testing.T) {
	cube := func(n int) ([]bool, [3]int) {
		m := make([]bool, n*n*n)
		for i := range m {
			m[i] = true
		}
		return m, [3]int{n, n, n}
	}
	one, s1 := cube(1)
	three, s3 := cube(3)
	tests := []struct {
		name       string
		mask       []bool
		size       [3]int
		spacing    [3]float64
		wantVolume float64
		wantArea   float64
		wantVerts  int
	}{
		// One voxel: an octahedron with vertices at the 6 face centres, half-diagonal 0.5.
		{"one voxel", one, s1, [3]float64{1, 1, 1}, 4.0 / 3 * 0.125, 8 * math.Sqrt(3) / 8, 6},
		// One voxel 2×3×4 mm: the octahedron scales to volume 4/3·1·1.5·2.
		{"one anisotropic voxel", one, s1, [3]float64{2, 3, 4}, 4.0 / 3 * 1 * 1.5 * 2, math.NaN(), 6},
		// 3×3×3 block: inner 2³ cube, six 2×2×½ slabs, twelve edge prisms (triangle legs ½, length 2)
		// and eight corner tetrahedra (legs ½); one vertex per boundary voxel face (6·9).
		{"cube 3", three, s3, [3]float64{1, 1, 1}, 8 + 6*2 + 12*2*0.125 + 8*0.125/6, math.NaN(), 6 * 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := marchingCubes(tc.mask, tc.size, tc.spacing)
			if math.Abs(m.volume-tc.wantVolume) > 1e-9 {
				t.Errorf("volume = %v, want %v", m.volume, tc.wantVolume)
			}
			if !math.IsNaN(tc.wantArea) && math.Abs(m.area-tc.wantArea) > 1e-9 {
				t.Errorf("area = %v, want %v", m.area, tc.wantArea)
			}
			if len(m.vertices) != tc.wantVerts {
				t.Errorf("%d vertices, want %d", len(m.vertices), tc.wantVerts)
			}
		})
	}
}
