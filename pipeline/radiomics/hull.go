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

// planarHulls groups the vertices by their coordinate on axis a and returns, per plane, the indices
// of the vertices of the plane's 2D convex hull (collinear points dropped).
func planarHulls(v [][3]int32, a int) [][]int {
	b, c := (a+1)%3, (a+2)%3
	if len(v) == 0 {
		return nil
	}
	lo, hi := v[0][a], v[0][a]
	for _, p := range v {
		lo, hi = min(lo, p[a]), max(hi, p[a])
	}
	planes := make([][]int, hi-lo+1)
	for i, p := range v {
		planes[p[a]-lo] = append(planes[p[a]-lo], i)
	}
	out := make([][]int, 0, len(planes))
	for _, ids := range planes {
		if len(ids) == 0 {
			continue
		}
		sort.Slice(ids, func(x, y int) bool {
			p, q := v[ids[x]], v[ids[y]]
			if p[b] != q[b] {
				return p[b] < q[b]
			}
			return p[c] < q[c]
		})
		cross := func(o, p, q int) int64 {
			return int64(v[p][b]-v[o][b])*int64(v[q][c]-v[o][c]) - int64(v[p][c]-v[o][c])*int64(v[q][b]-v[o][b])
		}
		if len(ids) < 3 {
			out = append(out, append([]int(nil), ids...))
			continue
		}
		h := make([]int, 0, 2*len(ids))
		for _, q := range ids {
			for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
				h = h[:len(h)-1]
			}
			h = append(h, q)
		}
		lower := len(h) + 1
		for i := len(ids) - 2; i >= 0; i-- {
			q := ids[i]
			for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
				h = h[:len(h)-1]
			}
			h = append(h, q)
		}
		out = append(out, h[:len(h)-1])
	}
	return out
}

// hullCandidates keeps the vertices that are vertices of the 2D hull of their own plane for all
// three axis-aligned planes through them: a vertex of the 3D hull is extreme in every plane
// section through it. planes[a] are the planar hulls along axis a.
func hullCandidates(v [][3]int32, planes [3][][]int) [][3]int64 {
	count := make([]uint8, len(v))
	for a := 0; a < 3; a++ {
		for _, h := range planes[a] {
			for _, i := range h {
				count[i]++
			}
		}
	}
	var out [][3]int64
	for i, p := range v {
		if count[i] == 3 {
			out = append(out, [3]int64{int64(p[0]), int64(p[1]), int64(p[2])})
		}
	}
	return out
}

// convexHull3 builds the hull of pts by quickhull (exact integer predicates).
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
	// Quickhull with conflict lists: every point outside the current hull waits on one face it
	// sees; the farthest point of a face is added next. Predicates are exact (integers).
	type face struct {
		v       [3]int
		outside []int
		alive   bool
	}
	var faces []*face
	edgeFace := map[[2]int]int{} // directed edge → index of the face holding it
	newFace := func(v [3]int) int {
		faces = append(faces, &face{v: v, alive: true})
		fi := len(faces) - 1
		for e := 0; e < 3; e++ {
			edgeFace[[2]int{v[e], v[(e+1)%3]}] = fi
		}
		return fi
	}
	above := func(fi int, p [3]int64) int64 {
		f := faces[fi].v
		return orient3(pts[f[0]], pts[f[1]], pts[f[2]], p)
	}
	var stack []int
	assign := func(cands []int, points []int) {
		for _, pi := range points {
			for _, fi := range cands {
				if above(fi, pts[pi]) > 0 {
					faces[fi].outside = append(faces[fi].outside, pi)
					break
				}
			}
		}
		for _, fi := range cands {
			if len(faces[fi].outside) > 0 {
				stack = append(stack, fi)
			}
		}
	}
	first := []int{
		newFace([3]int{i0, i1, i2}), newFace([3]int{i0, i3, i1}),
		newFace([3]int{i1, i3, i2}), newFace([3]int{i2, i3, i0}),
	}
	rest := make([]int, 0, len(pts))
	for i := range pts {
		if i != i0 && i != i1 && i != i2 && i != i3 {
			rest = append(rest, i)
		}
	}
	assign(first, rest)
	for len(stack) > 0 {
		fi := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f := faces[fi]
		if !f.alive || len(f.outside) == 0 {
			continue
		}
		// The farthest point (orient3 is distance × twice the face area, fixed for the face).
		far, best := -1, int64(0)
		for _, pi := range f.outside {
			if d := above(fi, pts[pi]); d > best {
				far, best = pi, d
			}
		}
		p := pts[far]
		// Faces visible from p: a connected patch around f.
		visible := []int{fi}
		isVisible := map[int]bool{fi: true}
		var horizon [][2]int
		for q := 0; q < len(visible); q++ {
			g := faces[visible[q]].v
			for e := 0; e < 3; e++ {
				u, v := g[e], g[(e+1)%3]
				nb := edgeFace[[2]int{v, u}]
				if isVisible[nb] {
					continue
				}
				if above(nb, p) > 0 {
					isVisible[nb] = true
					visible = append(visible, nb)
				} else {
					horizon = append(horizon, [2]int{u, v})
				}
			}
		}
		var orphans []int
		for _, vi := range visible {
			faces[vi].alive = false
			for _, pi := range faces[vi].outside {
				if pi != far {
					orphans = append(orphans, pi)
				}
			}
			faces[vi].outside = nil
		}
		var created []int
		for _, e := range horizon {
			created = append(created, newFace([3]int{e[0], e[1], far}))
		}
		assign(created, orphans)
	}
	for _, f := range faces {
		if f.alive {
			h.faces = append(h.faces, f.v)
		}
	}
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

// maxDistance is the largest distance between points (mm). Points are visited by decreasing
// distance from their centroid, and pairs that cannot beat the best so far are skipped.
func maxDistance(p [][3]float64) float64 {
	if len(p) < 2 {
		return 0
	}
	var c [3]float64
	for _, q := range p {
		for a := 0; a < 3; a++ {
			c[a] += q[a] / float64(len(p))
		}
	}
	type pr struct {
		p [3]float64
		r float64
	}
	s := make([]pr, len(p))
	for i, q := range p {
		s[i] = pr{q, norm3(sub3(q, c))}
	}
	sort.Slice(s, func(i, j int) bool { return s[i].r > s[j].r })
	var best float64
	for i := range s {
		if 2*s[i].r <= best {
			break
		}
		for j := i + 1; j < len(s); j++ {
			if s[i].r+s[j].r <= best {
				break
			}
			if d := norm3(sub3(s[i].p, s[j].p)); d > best {
				best = d
			}
		}
	}
	return best
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
// vertices that share their coordinate on axis a (mm), from the planes' 2D hulls.
func maxPlanarDiameter(v [][3]int32, hulls [][]int, spacing [3]float64) float64 {
	var best float64
	pos := func(i int) [3]float64 {
		return [3]float64{float64(v[i][0]) / 2 * spacing[0], float64(v[i][1]) / 2 * spacing[1], float64(v[i][2]) / 2 * spacing[2]}
	}
	for _, h := range hulls {
		pts := make([][3]float64, len(h))
		for k, i := range h {
			pts[k] = pos(i)
		}
		best = math.Max(best, maxDistance(pts))
	}
	return best
}
