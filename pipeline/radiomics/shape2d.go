package radiomics

import (
	"fmt"
	"math"
)

// shape2DFeatures computes PyRadiomics' shape2D class for a ROI lying in one slice along the
// force2D axis: marching-squares contour (iso-level 0.5) area and perimeter, pixel area,
// sphericity, maximum diameter and PCA axes of the pixel centres.
func shape2DFeatures(s shapeInput, force2DDimension int) ([]Feature, error) {
	axis, err := sliceAxisOf(force2DDimension)
	if err != nil {
		return nil, err
	}
	u, v := (axis+1)%3, (axis+2)%3
	if u > v {
		u, v = v, u
	}
	slice := -1
	var px [][2]int
	for idx, in := range s.morph {
		if !in {
			continue
		}
		p := [3]int{idx % s.size[0], idx / s.size[0] % s.size[1], idx / (s.size[0] * s.size[1])}
		if slice >= 0 && p[axis] != slice {
			return nil, fmt.Errorf("radiomics: shape2D: the ROI spans more than one slice along force2Ddimension %d", force2DDimension)
		}
		slice = p[axis]
		px = append(px, [2]int{p[u], p[v]})
	}
	nu, nv := s.size[u], s.size[v]
	grid := make([]bool, nu*nv)
	for _, p := range px {
		grid[p[0]+nu*p[1]] = true
	}
	at := func(i, j int) bool { return i >= 0 && j >= 0 && i < nu && j < nv && grid[i+nu*j] }
	su, sv := s.spacing[u], s.spacing[v]
	// Marching squares: corners c0=(0,0) c1=(1,0) c2=(1,1) c3=(0,1); segments cut off inside
	// corners, oriented with the inside on their left (counter-clockwise contour).
	corner := [4][2]int{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	var area, perim float64
	var verts [][2]float64
	seen := map[[2]int]bool{}
	for j := -1; j < nv; j++ {
		for i := -1; i < nu; i++ {
			var in [4]bool
			for c := 0; c < 4; c++ {
				in[c] = at(i+corner[c][0], j+corner[c][1])
			}
			mid := func(c int) ([2]float64, [2]int) {
				a, b := corner[c], corner[(c+1)%4]
				key := [2]int{2*i + a[0] + b[0], 2*j + a[1] + b[1]}
				return [2]float64{float64(key[0]) / 2 * su, float64(key[1]) / 2 * sv}, key
			}
			var cross []int
			for c := 0; c < 4; c++ {
				if in[c] != in[(c+1)%4] {
					cross = append(cross, c)
				}
			}
			var segs [][3]int // edge, edge, inside corner
			switch len(cross) {
			case 2:
				ref := 0
				for c := 0; c < 4; c++ {
					if in[c] {
						ref = c
					}
				}
				segs = append(segs, [3]int{cross[0], cross[1], ref})
			case 4:
				for c := 0; c < 4; c++ {
					if in[c] {
						segs = append(segs, [3]int{(c + 3) % 4, c, c})
					}
				}
			}
			for _, sg := range segs {
				A, ka := mid(sg[0])
				B, kb := mid(sg[1])
				p := [2]float64{float64(i+corner[sg[2]][0]) * su, float64(j+corner[sg[2]][1]) * sv}
				if (B[0]-A[0])*(p[1]-A[1])-(B[1]-A[1])*(p[0]-A[0]) < 0 {
					A, B = B, A
				}
				area += (A[0]*B[1] - B[0]*A[1]) / 2
				perim += math.Hypot(B[0]-A[0], B[1]-A[1])
				for _, k := range [][2]int{ka, kb} {
					if !seen[k] {
						seen[k] = true
						verts = append(verts, [2]float64{float64(k[0]) / 2 * su, float64(k[1]) / 2 * sv})
					}
				}
			}
		}
	}
	var diam float64
	h := hull2(verts)
	for a := range h {
		for b := a + 1; b < len(h); b++ {
			diam = math.Max(diam, math.Hypot(h[a][0]-h[b][0], h[a][1]-h[b][1]))
		}
	}
	// PCA of the pixel centres.
	n := float64(len(px))
	var cu, cv float64
	for _, p := range px {
		cu += float64(p[0]) * su
		cv += float64(p[1]) * sv
	}
	cu, cv = cu/n, cv/n
	var xx, yy, xy float64
	for _, p := range px {
		du, dv := float64(p[0])*su-cu, float64(p[1])*sv-cv
		xx += du * du
		yy += dv * dv
		xy += du * dv
	}
	xx, yy, xy = xx/n, yy/n, xy/n
	tr, det := xx+yy, xx*yy-xy*xy
	disc := math.Sqrt(math.Max(tr*tr/4-det, 0))
	l1, l2 := tr/2+disc, math.Max(tr/2-disc, 0)
	sph := 2 * math.Sqrt(math.Pi*area) / perim
	const c = "shape2D"
	return []Feature{
		feature("", c, "MeshSurface", area, ""),
		feature("", c, "PixelSurface", n*su*sv, ""),
		feature("", c, "Perimeter", perim, ""),
		feature("", c, "PerimeterSurfaceRatio", perim/area, "zero area"),
		feature("", c, "Sphericity", sph, "zero perimeter"),
		feature("", c, "SphericalDisproportion", 1/sph, "zero area"),
		feature("", c, "MaxDiameter", diam, ""),
		feature("", c, "MajorAxisLength", 4*math.Sqrt(l1), ""),
		feature("", c, "MinorAxisLength", 4*math.Sqrt(l2), ""),
		feature("", c, "Elongation", math.Sqrt(l2/l1), "a single pixel"),
	}, nil
}
