package radiomics

import (
	"context"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/sacrum-dev/sacrum/pipeline/image"
	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/mat"
)

// shapeInput is what the morphological families need: the masks on a grid with spacing, and the
// image values (for the intensity-weighted IBSI features).
type shapeInput struct {
	size    [3]int
	spacing [3]float64
	morph   []bool
	inten   []bool
	img     []float64
}

func (s shapeInput) pos(idx int) [3]float64 {
	i := idx % s.size[0]
	j := idx / s.size[0] % s.size[1]
	k := idx / (s.size[0] * s.size[1])
	return [3]float64{float64(i) * s.spacing[0], float64(j) * s.spacing[1], float64(k) * s.spacing[2]}
}

// geometry holds the shared results: mesh, PCA eigenvalues, hull.
type geometry struct {
	mesh    mesh
	nVoxels int
	eig     [3]float64 // covariance eigenvalues of the voxel centres (divided by N, PyRadiomics), descending
	eigIBSI [3]float64 // the same for the sample covariance (divided by N−1), as the IBSI reference values
	hull    *hull3
	hullErr error
	hullPts [][3]float64 // hull vertices in mm
	planes  [3][][]int   // per axis, the 2D hulls of the mesh vertices of each plane
}

func computeGeometry(s shapeInput) geometry {
	g := geometry{mesh: marchingCubes(s.morph, s.size, s.spacing)}
	var c [3]float64
	for i, in := range s.morph {
		if in {
			g.nVoxels++
			p := s.pos(i)
			for a := 0; a < 3; a++ {
				c[a] += p[a]
			}
		}
	}
	n := float64(g.nVoxels)
	for a := range c {
		c[a] /= n
	}
	var cov [3][3]float64
	for i, in := range s.morph {
		if in {
			p := sub3(s.pos(i), c)
			for a := 0; a < 3; a++ {
				for b := a; b < 3; b++ {
					cov[a][b] += p[a] * p[b]
				}
			}
		}
	}
	sym := mat.NewSymDense(3, nil)
	for a := 0; a < 3; a++ {
		for b := a; b < 3; b++ {
			sym.SetSym(a, b, cov[a][b]/n)
		}
	}
	var es mat.EigenSym
	if es.Factorize(sym, false) {
		v := es.Values(nil)
		sort.Sort(sort.Reverse(sort.Float64Slice(v)))
		for a := 0; a < 3; a++ {
			g.eig[a] = math.Max(v[a], 0)
			if n > 1 {
				g.eigIBSI[a] = g.eig[a] * n / (n - 1)
			}
		}
	}
	for a := 0; a < 3; a++ {
		g.planes[a] = planarHulls(g.mesh.vertices, a)
	}
	g.hull, g.hullErr = convexHull3(hullCandidates(g.mesh.vertices, g.planes))
	if g.hullErr == nil {
		for _, id := range g.hull.vertexIDs() {
			g.hullPts = append(g.hullPts, g.hull.scaled(id, s.spacing))
		}
	}
	return g
}

// shapeFeatures computes PyRadiomics' shape class (3D) with its names and definitions.
func shapeFeatures(s shapeInput, g geometry) []Feature {
	const c = "shape"
	v, a := g.mesh.volume, g.mesh.area
	voxelVolume := s.spacing[0] * s.spacing[1] * s.spacing[2]
	diam := maxDistance(g.hullPts)
	if g.hullErr != nil {
		diam = math.NaN()
	}
	sph := math.Cbrt(36*math.Pi*v*v) / a
	return []Feature{
		feature("morph_volume", c, "MeshVolume", v, ""),
		feature("morph_vol_approx", c, "VoxelVolume", float64(g.nVoxels)*voxelVolume, ""),
		feature("morph_area_mesh", c, "SurfaceArea", a, ""),
		feature("morph_av", c, "SurfaceVolumeRatio", a/v, "zero mesh volume"),
		feature("morph_sphericity", c, "Sphericity", sph, "zero mesh area"),
		feature("morph_comp_1", c, "Compactness1", v/(math.Sqrt(math.Pi)*math.Pow(a, 1.5)), "zero mesh area"),
		feature("morph_comp_2", c, "Compactness2", 36*math.Pi*v*v/(a*a*a), "zero mesh area"),
		feature("morph_sph_dispr", c, "SphericalDisproportion", 1/sph, "zero mesh volume"),
		feature("morph_diam", c, "Maximum3DDiameter", diam, "the mesh is flat"),
		feature("", c, "Maximum2DDiameterSlice", maxPlanarDiameter(g.mesh.vertices, g.planes[2], s.spacing), ""),
		feature("", c, "Maximum2DDiameterColumn", maxPlanarDiameter(g.mesh.vertices, g.planes[1], s.spacing), ""),
		feature("", c, "Maximum2DDiameterRow", maxPlanarDiameter(g.mesh.vertices, g.planes[0], s.spacing), ""),
		feature("", c, "MajorAxisLength", 4*math.Sqrt(g.eig[0]), ""),
		feature("", c, "MinorAxisLength", 4*math.Sqrt(g.eig[1]), ""),
		feature("", c, "LeastAxisLength", 4*math.Sqrt(g.eig[2]), ""),
		feature("morph_pca_elongation", c, "Elongation", math.Sqrt(g.eig[1]/g.eig[0]), "a single voxel"),
		feature("morph_pca_flatness", c, "Flatness", math.Sqrt(g.eig[2]/g.eig[0]), "a single voxel"),
	}
}

// morphologyFeatures computes every IBSI morphological feature (IBSI 3.1), in the order of the
// IBSI reference table.
func morphologyFeatures(ctx context.Context, s shapeInput, g geometry) []Feature {
	v, a := g.mesh.volume, g.mesh.area
	voxelVolume := s.spacing[0] * s.spacing[1] * s.spacing[2]
	sph := math.Cbrt(36*math.Pi*v*v) / a
	// Centre of mass shift: geometric centre of the ROI vs intensity-weighted centre.
	var cg, ci [3]float64
	var ng, wsum, isum float64
	var ni int
	for i := range s.morph {
		p := s.pos(i)
		if s.morph[i] {
			ng++
			for x := 0; x < 3; x++ {
				cg[x] += p[x]
			}
		}
		if s.inten[i] {
			ni++
			isum += s.img[i]
			wsum += s.img[i]
			for x := 0; x < 3; x++ {
				ci[x] += s.img[i] * p[x]
			}
		}
	}
	for x := 0; x < 3; x++ {
		cg[x] /= ng
		ci[x] /= wsum
	}
	com := norm3(sub3(cg, ci))
	mean := isum / float64(ni)
	// Bounding boxes and enclosing ellipsoids.
	lo := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	for _, p := range g.hullPts {
		for x := 0; x < 3; x++ {
			lo[x], hi[x] = math.Min(lo[x], p[x]), math.Max(hi[x], p[x])
		}
	}
	ext := sub3(hi, lo)
	aabbV := ext[0] * ext[1] * ext[2]
	aabbA := 2 * (ext[0]*ext[1] + ext[0]*ext[2] + ext[1]*ext[2])
	ombbV, ombbA := orientedMinimumBox(g.hullPts, boxNormals(g.hull, s.spacing))
	// Approximate enclosing ellipsoid: semi-axes 2√λ.
	ea, eb, ec := 2*math.Sqrt(g.eigIBSI[0]), 2*math.Sqrt(g.eigIBSI[1]), 2*math.Sqrt(g.eigIBSI[2])
	aeeV := 4 * math.Pi * ea * eb * ec / 3
	aeeA := ellipsoidArea(ea, eb, ec)
	mv, mvA := math.NaN(), math.NaN()
	if ax, ok := minimumVolumeEllipsoid(g.hullPts); ok {
		mv = 4 * math.Pi * ax[0] * ax[1] * ax[2] / 3
		mvA = ellipsoidArea(ax[0], ax[1], ax[2])
	}
	hullV, hullA := math.NaN(), math.NaN()
	if g.hullErr == nil {
		hullV, hullA = g.hull.volumeArea(s.spacing)
	}
	moran, geary := spatialAutocorrelation(ctx, s)
	diam := maxDistance(g.hullPts)
	if g.hullErr != nil {
		diam = math.NaN()
	}
	const flat = "the mesh is flat"
	return []Feature{
		feature("morph_volume", "", "", v, ""),
		feature("morph_vol_approx", "", "", float64(g.nVoxels)*voxelVolume, ""),
		feature("morph_area_mesh", "", "", a, ""),
		feature("morph_av", "", "", a/v, "zero mesh volume"),
		feature("morph_comp_1", "", "", v/(math.Sqrt(math.Pi)*math.Pow(a, 1.5)), "zero mesh area"),
		feature("morph_comp_2", "", "", 36*math.Pi*v*v/(a*a*a), "zero mesh area"),
		feature("morph_sph_dispr", "", "", 1/sph, "zero mesh volume"),
		feature("morph_sphericity", "", "", sph, "zero mesh area"),
		feature("morph_asphericity", "", "", 1/sph-1, "zero mesh volume"),
		feature("morph_com", "", "", com, "zero total intensity"),
		feature("morph_diam", "", "", diam, flat),
		feature("morph_pca_maj_axis", "", "", 4*math.Sqrt(g.eigIBSI[0]), ""),
		feature("morph_pca_min_axis", "", "", 4*math.Sqrt(g.eigIBSI[1]), ""),
		feature("morph_pca_least_axis", "", "", 4*math.Sqrt(g.eigIBSI[2]), ""),
		feature("morph_pca_elongation", "", "", math.Sqrt(g.eigIBSI[1]/g.eigIBSI[0]), "a single voxel"),
		feature("morph_pca_flatness", "", "", math.Sqrt(g.eigIBSI[2]/g.eigIBSI[0]), "a single voxel"),
		feature("morph_vol_dens_aabb", "", "", v/aabbV, flat),
		feature("morph_area_dens_aabb", "", "", a/aabbA, flat),
		feature("morph_vol_dens_ombb", "", "", v/ombbV, flat),
		feature("morph_area_dens_ombb", "", "", a/ombbA, flat),
		feature("morph_vol_dens_aee", "", "", v/aeeV, "a flat voxel distribution"),
		feature("morph_area_dens_aee", "", "", a/aeeA, "a flat voxel distribution"),
		feature("morph_vol_dens_mvee", "", "", v/mv, flat),
		feature("morph_area_dens_mvee", "", "", a/mvA, flat),
		feature("morph_vol_dens_conv_hull", "", "", v/hullV, flat),
		feature("morph_area_dens_conv_hull", "", "", a/hullA, flat),
		feature("morph_integ_int", "", "", v*mean, ""),
		feature("morph_moran_i", "", "", moran, "a single voxel or zero variance"),
		feature("morph_geary_c", "", "", geary, "a single voxel or zero variance"),
	}
}

// ellipsoidArea approximates the surface of an ellipsoid with semi-axes a ≥ b ≥ c by the Legendre
// series of IBSI 3.1.20 (20 terms).
func ellipsoidArea(a, b, c float64) float64 {
	if !(a > 0) || !(b > 0) || !(c > 0) {
		return math.NaN()
	}
	alpha := math.Sqrt(1 - b*b/(a*a))
	beta := math.Sqrt(1 - c*c/(a*a))
	if alpha == 0 && beta == 0 {
		return 4 * math.Pi * a * a
	}
	ab := alpha * beta
	x := (alpha*alpha + beta*beta) / (2 * ab)
	var sum float64
	for nu := 0; nu <= 20; nu++ {
		sum += math.Pow(ab, float64(nu)) / (1 - 4*float64(nu*nu)) * legendrePolynomial(nu, x)
	}
	return 4 * math.Pi * a * b * sum
}

// legendrePolynomial evaluates the Legendre polynomial P_n(x) by Bonnet's recursion.
func legendrePolynomial(n int, x float64) float64 {
	p0, p1 := 1.0, x
	if n == 0 {
		return p0
	}
	for k := 1; k < n; k++ {
		p0, p1 = p1, (float64(2*k+1)*x*p1-float64(k)*p0)/float64(k+1)
	}
	return p1
}

// orientedMinimumBox approximates the oriented minimum bounding box: for each hull face normal, the
// minimum-area rectangle of the points projected on the face plane (rotating calipers). It returns
// the smallest such box's volume and area. (IBSI gives no reference value for the phantom.)
func orientedMinimumBox(p [][3]float64, normals [][3]float64) (vol, area float64) {
	if len(p) < 4 {
		return math.NaN(), math.NaN()
	}
	vol, area = math.Inf(1), math.NaN()
	for _, n := range normals {
		// Orthonormal basis (u, w) of the plane.
		u := cross3(n, [3]float64{1, 0, 0})
		if norm3(u) < 0.5 {
			u = cross3(n, [3]float64{0, 1, 0})
		}
		u = scale3(u, 1/norm3(u))
		w := cross3(n, u)
		lo, hi := math.Inf(1), math.Inf(-1)
		pts := make([][2]float64, len(p))
		for i, q := range p {
			h := dot3(q, n)
			lo, hi = math.Min(lo, h), math.Max(hi, h)
			pts[i] = [2]float64{dot3(q, u), dot3(q, w)}
		}
		depth := hi - lo
		ra, rx, ry := minAreaRect(hull2(pts))
		if v := ra * depth; v < vol {
			vol, area = v, 2*(rx*ry+rx*depth+ry*depth)
		}
	}
	return vol, area
}

func scale3(a [3]float64, s float64) [3]float64 { return [3]float64{a[0] * s, a[1] * s, a[2] * s} }

// boxNormals returns the unit normals of the hull's faces (deduplicated) and the axis directions.
func boxNormals(h *hull3, spacing [3]float64) [][3]float64 {
	var out [][3]float64
	seen := map[[3]int64]bool{}
	add := func(n [3]float64) {
		l := norm3(n)
		if l == 0 {
			return
		}
		n = scale3(n, 1/l)
		if n[0] < 0 || (n[0] == 0 && (n[1] < 0 || (n[1] == 0 && n[2] < 0))) {
			n = scale3(n, -1)
		}
		key := [3]int64{int64(math.Round(n[0] * 1e9)), int64(math.Round(n[1] * 1e9)), int64(math.Round(n[2] * 1e9))}
		if !seen[key] {
			seen[key] = true
			out = append(out, n)
		}
	}
	add([3]float64{1, 0, 0})
	add([3]float64{0, 1, 0})
	add([3]float64{0, 0, 1})
	if h != nil {
		for _, f := range h.faces {
			a, b, c := h.scaled(f[0], spacing), h.scaled(f[1], spacing), h.scaled(f[2], spacing)
			add(cross3(sub3(b, a), sub3(c, a)))
		}
	}
	return out
}

// minAreaRect returns the area and side lengths of the minimum-area rectangle enclosing a convex
// polygon (rotating calipers over its edges).
func minAreaRect(h [][2]float64) (area, w, l float64) {
	area = math.Inf(1)
	if len(h) < 3 {
		return 0, 0, 0
	}
	for i := range h {
		e := [2]float64{h[(i+1)%len(h)][0] - h[i][0], h[(i+1)%len(h)][1] - h[i][1]}
		el := math.Hypot(e[0], e[1])
		if el == 0 {
			continue
		}
		e[0], e[1] = e[0]/el, e[1]/el
		lo1, hi1, lo2, hi2 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, q := range h {
			a := q[0]*e[0] + q[1]*e[1]
			b := -q[0]*e[1] + q[1]*e[0]
			lo1, hi1 = math.Min(lo1, a), math.Max(hi1, a)
			lo2, hi2 = math.Min(lo2, b), math.Max(hi2, b)
		}
		if ar := (hi1 - lo1) * (hi2 - lo2); ar < area {
			area, w, l = ar, hi1-lo1, hi2-lo2
		}
	}
	return area, w, l
}

// minimumVolumeEllipsoid returns the semi-axes (descending) of the minimum-volume enclosing
// ellipsoid of p by Khachiyan's algorithm with Todd and Yıldırım's away steps, stopped when the
// weighted points lie within 1e-7 of the boundary and no point is outside by more (the inverse of
// the moment matrix is kept by Sherman–Morrison updates and refreshed every 500 steps).
func minimumVolumeEllipsoid(p [][3]float64) ([3]float64, bool) {
	n := len(p)
	if n < 4 {
		return [3]float64{}, false
	}
	const d = 3
	u := make([]float64, n)
	for i := range u {
		u[i] = 1 / float64(n)
	}
	q := func(i int) [4]float64 { return [4]float64{p[i][0], p[i][1], p[i][2], 1} }
	var inv [4][4]float64
	refresh := func() bool {
		x := mat.NewSymDense(4, nil)
		for i := 0; i < n; i++ {
			qi := q(i)
			for a := 0; a < 4; a++ {
				for b := a; b < 4; b++ {
					x.SetSym(a, b, x.At(a, b)+u[i]*qi[a]*qi[b])
				}
			}
		}
		var ch mat.Cholesky
		if !ch.Factorize(x) {
			return false
		}
		var xi mat.SymDense
		if err := ch.InverseTo(&xi); err != nil {
			return false
		}
		for a := 0; a < 4; a++ {
			for b := 0; b < 4; b++ {
				inv[a][b] = xi.At(a, b)
			}
		}
		return true
	}
	if !refresh() {
		return [3]float64{}, false
	}
	for iter := 1; iter <= 20000; iter++ {
		// Todd–Yıldırım: a Khachiyan step towards the farthest point, or an away step from the
		// nearest point that still has weight, whichever is further from optimal.
		j, mj := 0, math.Inf(-1)
		k, mk := -1, math.Inf(1)
		for i := 0; i < n; i++ {
			qi := q(i)
			var m float64
			for a := 0; a < 4; a++ {
				r := inv[a][0]*qi[0] + inv[a][1]*qi[1] + inv[a][2]*qi[2] + inv[a][3]*qi[3]
				m += qi[a] * r
			}
			if m > mj {
				j, mj = i, m
			}
			if u[i] > 0 && m < mk {
				k, mk = i, m
			}
		}
		epsPlus, epsMinus := mj/(d+1)-1, 1-mk/(d+1)
		if epsPlus <= 1e-7 && epsMinus <= 1e-7 {
			break
		}
		var step float64 // u ← (1−step)·u + step·e_t, X ← (1−step)·X + step·q_t q_tᵀ
		t, mt := j, mj
		if epsPlus >= epsMinus {
			step = (mj - d - 1) / ((d + 1) * (mj - 1))
		} else {
			beta := math.Min((d+1-mk)/((d+1)*(mk-1)), u[k]/(1-u[k]))
			step, t, mt = -beta, k, mk
		}
		for i := range u {
			u[i] *= 1 - step
		}
		u[t] += step
		if u[t] < 1e-15 {
			u[t] = 0
		}
		if iter%500 == 0 {
			if !refresh() {
				return [3]float64{}, false
			}
			continue
		}
		// Sherman–Morrison: X'⁻¹ = (X⁻¹ − a·vvᵀ/(1 + a·m)) / (1−step), v = X⁻¹q, a = step/(1−step).
		qt := q(t)
		var v [4]float64
		for a := 0; a < 4; a++ {
			v[a] = inv[a][0]*qt[0] + inv[a][1]*qt[1] + inv[a][2]*qt[2] + inv[a][3]*qt[3]
		}
		al := step / (1 - step)
		den := 1 + al*mt
		for a := 0; a < 4; a++ {
			for b := 0; b < 4; b++ {
				inv[a][b] = (inv[a][b] - al*v[a]*v[b]/den) / (1 - step)
			}
		}
	}
	var c [3]float64
	for i := range p {
		for a := 0; a < 3; a++ {
			c[a] += u[i] * p[i][a]
		}
	}
	s := mat.NewSymDense(3, nil)
	for i := range p {
		for a := 0; a < 3; a++ {
			for b := a; b < 3; b++ {
				s.SetSym(a, b, s.At(a, b)+u[i]*p[i][a]*p[i][b])
			}
		}
	}
	for a := 0; a < 3; a++ {
		for b := a; b < 3; b++ {
			s.SetSym(a, b, s.At(a, b)-c[a]*c[b])
		}
	}
	// A = (S)⁻¹/d; semi-axes are 1/√eig(A) = √(d·eig(S)).
	var es mat.EigenSym
	if !es.Factorize(s, false) {
		return [3]float64{}, false
	}
	v := es.Values(nil)
	sort.Sort(sort.Reverse(sort.Float64Slice(v)))
	var ax [3]float64
	for a := 0; a < 3; a++ {
		if !(v[a] > 0) {
			return [3]float64{}, false
		}
		ax[a] = math.Sqrt(d * v[a])
	}
	return ax, true
}

// spatialAutocorrelation computes Moran's I and Geary's C over the intensity-mask voxels with
// inverse-distance weights (IBSI 3.1.28–29), exactly: over all pairs directly for small ROIs, and
// through FFT correlations summed over every voxel offset for large ones.
func spatialAutocorrelation(ctx context.Context, s shapeInput) (moran, geary float64) {
	var n int
	for _, in := range s.inten {
		if in {
			n++
		}
	}
	if n < 2 {
		return math.NaN(), math.NaN()
	}
	if n <= 3000 {
		return autocorrelationPairs(ctx, s)
	}
	return autocorrelationFFT(ctx, s)
}

// autocorrelationPairs sums over all voxel pairs (in parallel).
func autocorrelationPairs(ctx context.Context, s shapeInput) (moran, geary float64) {
	var pos [][3]float64
	var val []float64
	for i, in := range s.inten {
		if in {
			pos = append(pos, s.pos(i))
			val = append(val, s.img[i])
		}
	}
	n := len(val)
	var mean float64
	for _, x := range val {
		mean += x
	}
	mean /= float64(n)
	var ss float64
	for _, x := range val {
		ss += (x - mean) * (x - mean)
	}
	workers := runtime.GOMAXPROCS(0)
	type part struct{ w, mi, gc float64 }
	parts := make([]part, workers)
	var wg sync.WaitGroup
	for t := 0; t < workers; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			var p part
			for i := t; i < n; i += workers {
				if i%256 == 0 && ctx.Err() != nil {
					return
				}
				di := val[i] - mean
				for j := i + 1; j < n; j++ {
					w := 1 / norm3(sub3(pos[i], pos[j]))
					p.w += w
					p.mi += w * di * (val[j] - mean)
					d := val[i] - val[j]
					p.gc += w * d * d
				}
			}
			parts[t] = p
		}(t)
	}
	wg.Wait()
	var w, mi, gc float64
	for _, p := range parts {
		w, mi, gc = w+p.w, mi+p.mi, gc+p.gc
	}
	if ss == 0 {
		return math.NaN(), math.NaN()
	}
	// Sums over ordered pairs are twice the sums over i<j; the factor cancels in I and C.
	return float64(n) / w * mi / ss, float64(n-1) / (2 * w) * gc / ss
}

// autocorrelationFFT evaluates the pair sums through correlations over offsets o:
// W = Σ_o w(o)·Cmm(o), Σ w zᵢzⱼ = Σ_o w(o)·Czz(o) and Σ w (zᵢ−zⱼ)² = 2 Σ_o w(o)·Cqm(o) − 2 Σ w zᵢzⱼ,
// with m the mask, z the centred intensities, q = z² and w(o) = 1/‖o‖ (mm).
func autocorrelationFFT(ctx context.Context, s shapeInput) (moran, geary float64) {
	lo, hi, n := bbox(image.Grid{Size: s.size}, func(i int) bool { return s.inten[i] })
	var mean float64
	for i, in := range s.inten {
		if in {
			mean += s.img[i]
		}
	}
	mean /= float64(n)
	var box, size [3]int
	for a := 0; a < 3; a++ {
		box[a] = hi[a] - lo[a] + 1
		size[a] = fftSize(2*box[a] - 1)
	}
	total := size[0] * size[1] * size[2]
	mz := make([]complex128, total) // m + i·z
	qm := make([]complex128, total) // q
	var ss float64
	for k := lo[2]; k <= hi[2]; k++ {
		for j := lo[1]; j <= hi[1]; j++ {
			for i := lo[0]; i <= hi[0]; i++ {
				src := i + s.size[0]*(j+s.size[1]*k)
				if !s.inten[src] {
					continue
				}
				z := s.img[src] - mean
				ss += z * z
				dst := (i - lo[0]) + size[0]*((j-lo[1])+size[1]*(k-lo[2]))
				mz[dst] = complex(1, z)
				qm[dst] = complex(z*z, 0)
			}
		}
	}
	if ss == 0 {
		return math.NaN(), math.NaN()
	}
	fft3(mz, size, false)
	fft3(qm, size, false)
	// Spectra of m and z from the packed transform (both real): M(k) = (P(k) + conj P(−k))/2,
	// Z(k) = (P(k) − conj P(−k))/(2i).
	c1 := make([]complex128, total) // Cmm + i·Czz
	c2 := make([]complex128, total) // Cqm
	for k := 0; k < size[2]; k++ {
		for j := 0; j < size[1]; j++ {
			for i := 0; i < size[0]; i++ {
				x := i + size[0]*(j+size[1]*k)
				nx := (size[0]-i)%size[0] + size[0]*((size[1]-j)%size[1]+size[1]*((size[2]-k)%size[2]))
				p, pn := mz[x], cmplxConj(mz[nx])
				mk := (p + pn) / 2
				zk := (p - pn) / complex(0, 2)
				c1[x] = cmplxConj(mk)*mk + complex(0, 1)*cmplxConj(zk)*zk
				c2[x] = cmplxConj(qm[x]) * mk
			}
		}
		if ctx.Err() != nil {
			return math.NaN(), math.NaN()
		}
	}
	fft3(c1, size, true)
	fft3(c2, size, true)
	var w, sI, sQ float64
	for k := 0; k < size[2]; k++ {
		ok := signedOffset(k, size[2], box[2])
		for j := 0; j < size[1]; j++ {
			oj := signedOffset(j, size[1], box[1])
			for i := 0; i < size[0]; i++ {
				oi := signedOffset(i, size[0], box[0])
				if oi == math.MaxInt || oj == math.MaxInt || ok == math.MaxInt || (oi == 0 && oj == 0 && ok == 0) {
					continue
				}
				d := [3]float64{float64(oi) * s.spacing[0], float64(oj) * s.spacing[1], float64(ok) * s.spacing[2]}
				wt := 1 / norm3(d)
				x := i + size[0]*(j+size[1]*k)
				w += wt * real(c1[x])
				sI += wt * imag(c1[x])
				sQ += wt * real(c2[x])
			}
		}
	}
	gc := 2*sQ - 2*sI
	return float64(n) / w * sI / ss, float64(n-1) / (2 * w) * gc / ss
}

func cmplxConj(c complex128) complex128 { return complex(real(c), -imag(c)) }

// signedOffset maps an FFT index to its offset, or MaxInt when no voxel pair has that offset.
func signedOffset(i, size, box int) int {
	if i < box {
		return i
	}
	if i > size-box {
		return i - size
	}
	return math.MaxInt
}

// fftSize is the smallest 2^a·3^b·5^c ≥ n.
func fftSize(n int) int {
	for m := max(n, 1); ; m++ {
		r := m
		for _, f := range []int{2, 3, 5} {
			for r%f == 0 {
				r /= f
			}
		}
		if r == 1 {
			return m
		}
	}
}

// fft3 transforms data (size[0] fastest) in place along the three axes; inverse is normalised.
func fft3(data []complex128, size [3]int, inverse bool) {
	stride := [3]int{1, size[0], size[0] * size[1]}
	for a := 0; a < 3; a++ {
		n := size[a]
		if n == 1 {
			continue
		}
		f := fourier.NewCmplxFFT(n)
		line := make([]complex128, n)
		out := make([]complex128, n)
		b, c := (a+1)%3, (a+2)%3
		for y := 0; y < size[c]; y++ {
			for x := 0; x < size[b]; x++ {
				start := x*stride[b] + y*stride[c]
				for t := 0; t < n; t++ {
					line[t] = data[start+t*stride[a]]
				}
				if inverse {
					f.Sequence(out, line)
				} else {
					f.Coefficients(out, line)
				}
				for t := 0; t < n; t++ {
					if inverse {
						out[t] /= complex(float64(n), 0)
					}
					data[start+t*stride[a]] = out[t]
				}
			}
		}
	}
}
