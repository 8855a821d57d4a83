package radiomics

import (
	"math"
	"math/rand/v2"
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

func TestConvexHull3(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 20; trial++ {
		var pts [][3]int64
		for i := 0; i < 300; i++ {
			pts = append(pts, [3]int64{r.Int64N(41) - 20, r.Int64N(41) - 20, r.Int64N(11)})
		}
		h, err := convexHull3(pts)
		if err != nil {
			t.Fatal(err)
		}
		// Every point is inside or on every face, and the surface is closed and oriented.
		edges := map[[2]int]int{}
		for _, f := range h.faces {
			for _, p := range pts {
				if orient3(pts[f[0]], pts[f[1]], pts[f[2]], p) > 0 {
					t.Fatalf("trial %d: point %v outside face %v", trial, p, f)
				}
			}
			for e := 0; e < 3; e++ {
				edges[[2]int{f[e], f[(e+1)%3]}]++
			}
		}
		for e, n := range edges {
			if n != 1 || edges[[2]int{e[1], e[0]}] != 1 {
				t.Fatalf("trial %d: edge %v used %d times, reverse %d", trial, e, n, edges[[2]int{e[1], e[0]}])
			}
		}
	}
	// The hull of a box's corners and inner points is the box: volume and area in mm.
	var box [][3]int64
	for x := int64(0); x <= 4; x += 2 {
		for y := int64(0); y <= 6; y += 2 {
			for z := int64(0); z <= 2; z += 2 {
				box = append(box, [3]int64{x, y, z})
			}
		}
	}
	h, err := convexHull3(box)
	if err != nil {
		t.Fatal(err)
	}
	// Doubled coordinates: the box is 2×3×1 index units; spacing (1, 2, 3) mm makes it 2×6×3 mm.
	v, a := h.volumeArea([3]float64{1, 2, 3})
	if math.Abs(v-36) > 1e-9 || math.Abs(a-2*(12+6+18)) > 1e-9 {
		t.Errorf("box hull volume %v area %v, want 36 and 72", v, a)
	}
}

// TestMinimumVolumeEllipsoid: points spread over an ellipsoid with semi-axes 3, 2, 1 have that
// ellipsoid as their minimum-volume enclosing ellipsoid.
func TestMinimumVolumeEllipsoid(t *testing.T) {
	var p [][3]float64
	for i := 0; i < 200; i++ {
		th := float64(i) * 2.399963 // golden angle: a spiral over the sphere
		z := 1 - 2*(float64(i)+0.5)/200
		r := math.Sqrt(1 - z*z)
		p = append(p, [3]float64{3*r*math.Cos(th) + 10, 2*r*math.Sin(th) - 4, z + 7})
	}
	ax, ok := minimumVolumeEllipsoid(p)
	if !ok || math.Abs(ax[0]-3) > 1e-4 || math.Abs(ax[1]-2) > 1e-4 || math.Abs(ax[2]-1) > 1e-4 {
		t.Errorf("semi-axes %v (ok %v), want 3 2 1", ax, ok)
	}
	// The Legendre series gives the sphere's area for equal axes, and Thomsen-close values otherwise.
	if a := ellipsoidArea(2, 2, 2); math.Abs(a-16*math.Pi) > 1e-9 {
		t.Errorf("sphere area %v, want 16π", a)
	}
}
