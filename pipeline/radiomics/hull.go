package radiomics

import (
	"errors"
	"math"
	"sort"
)

// Convex hulls of mesh vertices. Vertices are doubled voxel indices (integers), so the orientation
// tests are exact; a hull of the index points scaled by the spacing is the hull of the scaled points.

// hull3 is a closed triangulated convex polyhedron: faces index pts, oriented outward.
type hull3 struct {
	pts   [][3]int64
	faces [][3]int
}

var errFlatHull = errors.New("convex hull: points are coplanar")

func orient3(a, b, c, p [3]int64) int64 {
	ux, uy, uz := b[0]-a[0], b[1]-a[1], b[2]-a[2]
	vx, vy, vz := c[0]-a[0], c[1]-a[1], c[2]-a[2]
	wx, wy, wz := p[0]-a[0], p[1]-a[1], p[2]-a[2]
	return ux*(vy*wz-vz*wy) - uy*(vx*wz-vz*wx) + uz*(vx*wy-vy*wx)
}

// hullCandidates keeps the vertices that are extreme along some axis-parallel line through the
// lattice; the others lie between two kept points and cannot be hull vertices.
func hullCandidates(v [][3]int32) [][3]int64 {
	keep := make([]bool, len(v))
	for a := 0; a < 3; a++ {
		b, c := (a+1)%3, (a+2)%3
		type ext struct{ lo, hi int }
		lines := map[[2]int32]ext{}
		for i, p := range v {
			key := [2]int32{p[b], p[c]}
			e, ok := lines[key]
			if !ok {
				lines[key] = ext{i, i}
				continue
			}
			if p[a] < v[e.lo][a] {
				e.lo = i
			}
			if p[a] > v[e.hi][a] {
				e.hi = i
			}
			lines[key] = e
		}
		for _, e := range lines {
			keep[e.lo], keep[e.hi] = true, true
		}
	}
	var out [][3]int64
	for i, p := range v {
		if keep[i] {
			out = append(out, [3]int64{int64(p[0]), int64(p[1]), int64(p[2])})
		}
	}
	return out
}

// convexHull3 builds the hull incrementally (exact integer predicates).
func convexHull3(pts [][3]int64) (*hull3, error) {
	if len(pts) < 4 {
		return nil, errFlatHull
	}
	// Initial tetrahedron from extreme points.
	i0 := 0
	for i, p := range pts {
		if p[0] < pts[i0][0] {
			i0 = i
		}
	}
	far := func(score func(p [3]int64) int64) int {
		best, bi := int64(-1), -1
		for i, p := range pts {
			if s := score(p); s > best {
				best, bi = s, i
			}
		}
		return bi
	}
	a := pts[i0]
	i1 := far(func(p [3]int64) int64 {
		d := [3]int64{p[0] - a[0], p[1] - a[1], p[2] - a[2]}
		return d[0]*d[0] + d[1]*d[1] + d[2]*d[2]
	})
	b := pts[i1]
	i2 := far(func(p [3]int64) int64 {
		u := [3]int64{b[0] - a[0], b[1] - a[1], b[2] - a[2]}
		w := [3]int64{p[0] - a[0], p[1] - a[1], p[2] - a[2]}
		c := [3]int64{u[1]*w[2] - u[2]*w[1], u[2]*w[0] - u[0]*w[2], u[0]*w[1] - u[1]*w[0]}
		return c[0]*c[0] + c[1]*c[1] + c[2]*c[2]
	})
	c := pts[i2]
	i3 := far(func(p [3]int64) int64 {
		o := orient3(a, b, c, p)
		if o < 0 {
			o = -o
		}
		return o
	})
	if i1 == i0 || i2 < 0 || i3 < 0 || orient3(a, b, c, pts[i3]) == 0 {
		return nil, errFlatHull
	}
	h := &hull3{pts: pts}
	if orient3(a, b, c, pts[i3]) > 0 { // make (i0,i1,i2) face away from i3
		i1, i2 = i2, i1
	}
	h.faces = [][3]int{{i0, i1, i2}, {i0, i3, i1}, {i1, i3, i2}, {i2, i3, i0}}
	alive := []bool{true, true, true, true}
	edgeFace := map[[2]int]int{} // directed edge → face holding it
	addFace := func(f [3]int) {
		h.faces = append(h.faces, f)
		alive = append(alive, true)
		fi := len(h.faces) - 1
		for e := 0; e < 3; e++ {
			edgeFace[[2]int{f[e], f[(e+1)%3]}] = fi
		}
	}
	for fi, f := range h.faces {
		for e := 0; e < 3; e++ {
			edgeFace[[2]int{f[e], f[(e+1)%3]}] = fi
		}
	}
	// Insert far points first so the hull grows quickly and later points are mostly inside.
	var cx, cy, cz int64
	for _, p := range pts {
		cx, cy, cz = cx+p[0], cy+p[1], cz+p[2]
	}
	n := int64(len(pts))
	order := make([]int, len(pts))
	dist := make([]int64, len(pts))
	for i, p := range pts {
		order[i] = i
		dx, dy, dz := n*p[0]-cx, n*p[1]-cy, n*p[2]-cz
		dist[i] = dx/n*dx + dy/n*dy + dz/n*dz
	}
	sort.Slice(order, func(x, y int) bool { return dist[order[x]] > dist[order[y]] })
	var visible []int
	for _, pi := range order {
		if pi == i0 || pi == i1 || pi == i2 || pi == i3 {
			continue
		}
		p := pts[pi]
		visible = visible[:0]
		for fi, f := range h.faces {
			if alive[fi] && orient3(pts[f[0]], pts[f[1]], pts[f[2]], p) > 0 {
				visible = append(visible, fi)
			}
		}
		if len(visible) == 0 {
			continue
		}
		var horizon [][2]int
		for _, fi := range visible {
			f := h.faces[fi]
			for e := 0; e < 3; e++ {
				u, v := f[e], f[(e+1)%3]
				if of, ok := edgeFace[[2]int{v, u}]; ok && alive[of] && orient3(pts[h.faces[of][0]], pts[h.faces[of][1]], pts[h.faces[of][2]], p) <= 0 {
					horizon = append(horizon, [2]int{u, v})
				}
			}
		}
		for _, fi := range visible {
			alive[fi] = false
			f := h.faces[fi]
			for e := 0; e < 3; e++ {
				delete(edgeFace, [2]int{f[e], f[(e+1)%3]})
			}
		}
		for _, e := range horizon {
			addFace([3]int{e[0], e[1], pi})
		}
	}
	var faces [][3]int
	for fi, f := range h.faces {
		if alive[fi] {
			faces = append(faces, f)
		}
	}
	h.faces = faces
	return h, nil
}

// scaled returns the position of point i in mm.
func (h *hull3) scaled(i int, spacing [3]float64) [3]float64 {
	p := h.pts[i]
	return [3]float64{float64(p[0]) / 2 * spacing[0], float64(p[1]) / 2 * spacing[1], float64(p[2]) / 2 * spacing[2]}
}

// volumeArea returns the hull's volume and area in mm.
func (h *hull3) volumeArea(spacing [3]float64) (vol, area float64) {
	for _, f := range h.faces {
		a, b, c := h.scaled(f[0], spacing), h.scaled(f[1], spacing), h.scaled(f[2], spacing)
		area += norm3(cross3(sub3(b, a), sub3(c, a))) / 2
		vol += dot3(a, cross3(b, c)) / 6
	}
	return vol, area
}

// vertexIDs lists the points used by faces.
func (h *hull3) vertexIDs() []int {
	seen := map[int]bool{}
	var ids []int
	for _, f := range h.faces {
		for _, v := range f {
			if !seen[v] {
				seen[v] = true
				ids = append(ids, v)
			}
		}
	}
	sort.Ints(ids)
	return ids
}

// maxDistance is the largest distance between points (mm).
func maxDistance(p [][3]float64) float64 {
	var best float64
	for i := range p {
		for j := i + 1; j < len(p); j++ {
			if d := dot3(sub3(p[i], p[j]), sub3(p[i], p[j])); d > best {
				best = d
			}
		}
	}
	return math.Sqrt(best)
}

// hull2 returns the convex hull of 2D points (Andrew's monotone chain), counter-clockwise.
func hull2(p [][2]float64) [][2]float64 {
	if len(p) < 3 {
		return p
	}
	sort.Slice(p, func(i, j int) bool {
		if p[i][0] != p[j][0] {
			return p[i][0] < p[j][0]
		}
		return p[i][1] < p[j][1]
	})
	cross := func(o, a, b [2]float64) float64 {
		return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
	}
	h := make([][2]float64, 0, 2*len(p))
	for _, q := range p {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	lower := len(h) + 1
	for i := len(p) - 2; i >= 0; i-- {
		q := p[i]
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	return h[:len(h)-1]
}

// maxPlanarDiameter is PyRadiomics' Maximum2DDiameter along axis a: the largest distance between
// vertices that share their coordinate on axis a (mm).
func maxPlanarDiameter(v [][3]int32, spacing [3]float64, a int) float64 {
	b, c := (a+1)%3, (a+2)%3
	planes := map[int32][][2]float64{}
	for _, p := range v {
		planes[p[a]] = append(planes[p[a]], [2]float64{float64(p[b]) / 2 * spacing[b], float64(p[c]) / 2 * spacing[c]})
	}
	var best float64
	for _, pts := range planes {
		h := hull2(pts)
		for i := range h {
			for j := i + 1; j < len(h); j++ {
				dx, dy := h[i][0]-h[j][0], h[i][1]-h[j][1]
				best = math.Max(best, dx*dx+dy*dy)
			}
		}
	}
	return math.Sqrt(best)
}
