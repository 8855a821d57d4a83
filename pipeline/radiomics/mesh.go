package radiomics

import "math"

// Marching cubes (Lorensen & Cline) on a binary mask at iso-level 0.5, as IBSI 3.1 and PyRadiomics
// use for the mesh-based volume and surface area. With a binary mask every vertex lies at the
// midpoint of a cube edge, so vertices are kept in doubled integer voxel coordinates (exact).
//
// The case table is generated rather than copied: on every cube face the crossing edges are joined
// by segments that cut off the inside corners (so inside corners that only touch diagonally on a
// face are kept apart, which makes the surface closed and consistent between neighbouring cubes);
// the segments, oriented with the inside on one side, chain into loops that are fanned into
// triangles with outward normals.

// cubeEdges are the 12 cube edges as corner pairs; corner c sits at (c&1, c>>1&1, c>>2&1).
var cubeEdges = func() [12][2]int {
	var e [12][2]int
	n := 0
	for c := 0; c < 8; c++ {
		for _, bit := range []int{1, 2, 4} {
			if c&bit == 0 {
				e[n] = [2]int{c, c | bit}
				n++
			}
		}
	}
	return e
}()

// mcTable lists, for each of the 256 corner configurations (bit c set = corner c inside), the
// triangles as triples of cube edge indices.
var mcTable = buildMCTable()

func edgeIndex(a, b int) int {
	if a > b {
		a, b = b, a
	}
	for i, e := range cubeEdges {
		if e[0] == a && e[1] == b {
			return i
		}
	}
	return -1
}

func cornerPos(c int) [3]float64 {
	return [3]float64{float64(c & 1), float64(c >> 1 & 1), float64(c >> 2 & 1)}
}

func buildMCTable() [256][][3]int {
	var table [256][][3]int
	for cfg := 1; cfg < 255; cfg++ {
		inside := func(c int) bool { return cfg>>c&1 == 1 }
		next := map[int]int{} // segment start edge → end edge
		for a := 0; a < 3; a++ {
			for side := 0; side < 2; side++ {
				// The face's corners in cyclic order.
				u, v := 1<<((a+1)%3), 1<<((a+2)%3)
				base := side << a
				cyc := [4]int{base, base | u, base | u | v, base | v}
				var normal [3]float64
				normal[a] = float64(2*side - 1)
				var segs [][3]int // edge, edge, reference inside corner
				var crossing []int
				for t := 0; t < 4; t++ {
					if inside(cyc[t]) != inside(cyc[(t+1)%4]) {
						crossing = append(crossing, t)
					}
				}
				switch len(crossing) {
				case 2:
					e0 := edgeIndex(cyc[crossing[0]], cyc[(crossing[0]+1)%4])
					e1 := edgeIndex(cyc[crossing[1]], cyc[(crossing[1]+1)%4])
					ref := -1
					for _, c := range cyc {
						if inside(c) {
							ref = c
						}
					}
					segs = append(segs, [3]int{e0, e1, ref})
				case 4:
					for t := 0; t < 4; t++ {
						if inside(cyc[t]) { // cut off each inside corner on its own
							prev, nxt := cyc[(t+3)%4], cyc[(t+1)%4]
							segs = append(segs, [3]int{edgeIndex(prev, cyc[t]), edgeIndex(cyc[t], nxt), cyc[t]})
						}
					}
				}
				for _, s := range segs {
					A, B := edgeMid(s[0]), edgeMid(s[1])
					p := cornerPos(s[2])
					d := sub3(B, A)
					if dot3(cross3(d, normal), sub3(p, A)) > 0 {
						next[s[0]] = s[1]
					} else {
						next[s[1]] = s[0]
					}
				}
			}
		}
		done := map[int]bool{}
		for start := 0; start < 12; start++ {
			if _, ok := next[start]; !ok || done[start] {
				continue
			}
			var loop []int
			for e := start; !done[e]; e = next[e] {
				done[e] = true
				loop = append(loop, e)
			}
			// Fan from the start vertex that encloses the most volume.
			best, bestV := 0, math.Inf(-1)
			for s0 := 0; s0 < len(loop); s0++ {
				var v float64
				for t := 1; t+1 < len(loop); t++ {
					a := edgeMid(loop[s0])
					b := edgeMid(loop[(s0+t)%len(loop)])
					c := edgeMid(loop[(s0+t+1)%len(loop)])
					v += dot3(a, cross3(b, c))
				}
				if v > bestV+1e-12 {
					best, bestV = s0, v
				}
			}
			for t := 1; t+1 < len(loop); t++ {
				table[cfg] = append(table[cfg], [3]int{loop[best], loop[(best+t)%len(loop)], loop[(best+t+1)%len(loop)]})
			}
		}
	}
	return table
}

func edgeMid(e int) [3]float64 {
	a, b := cornerPos(cubeEdges[e][0]), cornerPos(cubeEdges[e][1])
	return [3]float64{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2}
}

func sub3(a, b [3]float64) [3]float64 { return [3]float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func dot3(a, b [3]float64) float64    { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func cross3(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
func norm3(a [3]float64) float64 { return math.Sqrt(dot3(a, a)) }

// mesh is the marching-cubes surface of a mask: its volume and area (mm³, mm²) and its vertices in
// doubled voxel index coordinates (vertex position = index/2 · spacing).
type mesh struct {
	volume, area float64
	vertices     [][3]int32
}

// marchingCubes meshes the mask (size, i fastest) with the given spacing.
func marchingCubes(mask []bool, size [3]int, spacing [3]float64) mesh {
	var m mesh
	// Work on the mask's bounding box with a one-voxel empty border.
	lo, hi := size, [3]int{-1, -1, -1}
	idx := 0
	for k := 0; k < size[2]; k++ {
		for j := 0; j < size[1]; j++ {
			for i := 0; i < size[0]; i++ {
				if mask[idx] {
					lo = [3]int{min(lo[0], i), min(lo[1], j), min(lo[2], k)}
					hi = [3]int{max(hi[0], i), max(hi[1], j), max(hi[2], k)}
				}
				idx++
			}
		}
	}
	if hi[0] < 0 {
		return m
	}
	var n [3]int
	for a := 0; a < 3; a++ {
		n[a] = hi[a] - lo[a] + 3
	}
	pad := make([]bool, n[0]*n[1]*n[2])
	for k := lo[2]; k <= hi[2]; k++ {
		for j := lo[1]; j <= hi[1]; j++ {
			src := lo[0] + size[0]*(j+size[1]*k)
			dst := 1 + n[0]*(j-lo[1]+1+n[1]*(k-lo[2]+1))
			copy(pad[dst:dst+hi[0]-lo[0]+1], mask[src:src+hi[0]-lo[0]+1])
		}
	}
	// Doubled coordinates of each edge's midpoint relative to the cube's corner 0.
	var mid [12][3]float64
	for e, c := range cubeEdges {
		a, b := cornerPos(c[0]), cornerPos(c[1])
		for x := 0; x < 3; x++ {
			mid[e][x] = (a[x] + b[x]) / 2 * spacing[x]
		}
	}
	var corner [8]int
	for c := 0; c < 8; c++ {
		corner[c] = c&1 + n[0]*(c>>1&1+n[1]*(c>>2&1))
	}
	for k := 0; k < n[2]-1; k++ {
		for j := 0; j < n[1]-1; j++ {
			base := n[0] * (j + n[1]*k)
			for i := 0; i < n[0]-1; i++ {
				o := base + i
				cfg := 0
				for c := 0; c < 8; c++ {
					if pad[o+corner[c]] {
						cfg |= 1 << c
					}
				}
				tris := mcTable[cfg]
				if len(tris) == 0 {
					continue
				}
				org := [3]float64{float64(i) * spacing[0], float64(j) * spacing[1], float64(k) * spacing[2]}
				for _, t := range tris {
					var p [3][3]float64
					for v := 0; v < 3; v++ {
						for x := 0; x < 3; x++ {
							p[v][x] = org[x] + mid[t[v]][x]
						}
					}
					c := cross3(sub3(p[1], p[0]), sub3(p[2], p[0]))
					m.area += norm3(c) / 2
					m.volume += dot3(p[0], cross3(p[1], p[2])) / 6
				}
			}
		}
	}
	// Vertices: one per pair of 6-neighbours with one voxel inside and one outside.
	stride := [3]int{1, n[0], n[0] * n[1]}
	for k := 0; k < n[2]; k++ {
		for j := 0; j < n[1]; j++ {
			for i := 0; i < n[0]; i++ {
				o := i + n[0]*(j+n[1]*k)
				p := [3]int{i, j, k}
				for a := 0; a < 3; a++ {
					if p[a]+1 >= n[a] || pad[o] == pad[o+stride[a]] {
						continue
					}
					q := [3]int32{int32(2 * (i + lo[0] - 1)), int32(2 * (j + lo[1] - 1)), int32(2 * (k + lo[2] - 1))}
					q[a]++
					m.vertices = append(m.vertices, q)
				}
			}
		}
	}
	return m
}
