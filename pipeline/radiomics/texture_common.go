package radiomics

import (
	"context"
	"fmt"
	"math"
	"sync"
)

// IBSI aggregation suffixes (IBSI 1, section 3.1.3).
const (
	agg2DAvg    = "2D_avg"    // per slice and direction, averaged (BTW3)
	agg2DComb   = "2D_comb"   // directions merged per slice, averaged over slices (SUJT)
	agg25DAvg   = "2_5D_avg"  // slices merged per direction, averaged over directions (JJUI)
	agg25DComb  = "2_5D_comb" // all 2D directional matrices merged (ZW7Z)
	agg3DAvg    = "3D_avg"    // per 3D direction, averaged (ITBB)
	agg3DComb   = "3D_comb"   // all 3D directional matrices merged (IAZD)
	agg2D       = "2D"        // per-slice matrix, averaged over slices (8QNN)
	agg25D      = "2_5D"      // per-slice matrices merged (62GR)
	agg3D       = "3D"        // one 3D matrix (KOBO)
	eps         = 2.220446049250313e-16
	reasonEmpty = "no voxel pairs, runs or zones in the region of interest"
)

// directionalAggs and zoneAggs are the IBSI aggregations of the directional families (GLCM,
// GLRLM) and of the others (GLSZM, GLDZM, NGTDM, NGLDM), in output order.
var (
	directionalAggs = []string{agg2DAvg, agg2DComb, agg25DAvg, agg25DComb, agg3DAvg, agg3DComb}
	zoneAggs        = []string{agg2D, agg25D, agg3D}
)

// texGrid is a validated Discretised region, copied onto a local grid: its bounding box plus a
// zero border of pad voxels, so that neighbours up to distance pad need no bounds checks.
type texGrid struct {
	// The Discretised grid (for the morphological mask).
	size   [3]int
	stride [3]int
	morph  []bool

	spacing [3]float64
	lo, hi  [3]int // inclusive bounding box of the intensity mask in the Discretised grid
	pad     int
	psize   [3]int // local grid: extent + 2·pad
	pstride [3]int
	lv      []int32    // grey levels on the local grid (0 outside the ROI and in the border)
	vox     []int32    // local index of every ROI voxel, in scan order (i fastest)
	coord   [3][]int16 // bounding-box coordinates of every ROI voxel

	ng       int
	nv       int     // voxels in the intensity mask
	maxLevel int     // highest grey level present (PyRadiomics' Ng)
	present  []bool  // present[l] for l in 1…ng
	levels   []int32 // the grey levels present, ascending: the rows of the GLCM and GLRLM
	row      []int32 // row[l]: the matrix row of grey level l (−1 when absent)
}

func newTexGrid(d *Discretised, pad int) (*texGrid, error) {
	if d == nil {
		return nil, fmt.Errorf("radiomics: texture: no region of interest")
	}
	n := d.Size[0] * d.Size[1] * d.Size[2]
	if d.Size[0] <= 0 || d.Size[1] <= 0 || d.Size[2] <= 0 {
		return nil, fmt.Errorf("radiomics: texture: size %v: every dimension must be positive", d.Size)
	}
	if len(d.Level) != n {
		return nil, fmt.Errorf("radiomics: texture: %d grey levels for a %v grid (%d voxels)", len(d.Level), d.Size, n)
	}
	if d.Morph != nil && len(d.Morph) != n {
		return nil, fmt.Errorf("radiomics: texture: morphological mask has %d voxels, grid has %d", len(d.Morph), n)
	}
	if d.NG < 1 {
		return nil, fmt.Errorf("radiomics: texture: NG %d: need at least one grey level", d.NG)
	}
	g := &texGrid{
		size:    d.Size,
		stride:  [3]int{1, d.Size[0], d.Size[0] * d.Size[1]},
		spacing: d.Spacing,
		morph:   d.Morph,
		ng:      d.NG,
		pad:     pad,
		present: make([]bool, d.NG+1),
		lo:      d.Size,
		hi:      [3]int{-1, -1, -1},
	}
	idx := 0
	for k := 0; k < d.Size[2]; k++ {
		for j := 0; j < d.Size[1]; j++ {
			for i := 0; i < d.Size[0]; i++ {
				l := d.Level[idx]
				idx++
				if l == 0 {
					continue
				}
				if l < 0 || int(l) > d.NG {
					return nil, fmt.Errorf("radiomics: texture: voxel (%d,%d,%d) has grey level %d outside 1…%d", i, j, k, l, d.NG)
				}
				g.nv++
				g.present[l] = true
				g.maxLevel = max(g.maxLevel, int(l))
				c := [3]int{i, j, k}
				for a := 0; a < 3; a++ {
					g.lo[a] = min(g.lo[a], c[a])
					g.hi[a] = max(g.hi[a], c[a])
				}
			}
		}
	}
	if g.nv == 0 {
		return nil, fmt.Errorf("radiomics: texture: the region of interest is empty")
	}
	if g.morph == nil {
		g.morph = make([]bool, n)
		for i, l := range d.Level {
			g.morph[i] = l > 0
		}
	}
	g.row = make([]int32, d.NG+1)
	for l := range g.row {
		g.row[l] = -1
		if g.present[l] {
			g.row[l] = int32(len(g.levels))
			g.levels = append(g.levels, int32(l))
		}
	}
	for a := 0; a < 3; a++ {
		g.psize[a] = g.extent(a) + 2*pad
	}
	g.pstride = [3]int{1, g.psize[0], g.psize[0] * g.psize[1]}
	g.lv = make([]int32, g.psize[0]*g.psize[1]*g.psize[2])
	g.vox = make([]int32, 0, g.nv)
	for a := 0; a < 3; a++ {
		g.coord[a] = make([]int16, 0, g.nv)
	}
	for k := 0; k < g.extent(2); k++ {
		for j := 0; j < g.extent(1); j++ {
			src := g.lo[0] + d.Size[0]*(g.lo[1]+j+d.Size[1]*(g.lo[2]+k))
			for i := 0; i < g.extent(0); i++ {
				l := d.Level[src+i]
				if l == 0 {
					continue
				}
				p := g.local(i, j, k)
				g.lv[p] = l
				g.vox = append(g.vox, int32(p))
				g.coord[0] = append(g.coord[0], int16(i))
				g.coord[1] = append(g.coord[1], int16(j))
				g.coord[2] = append(g.coord[2], int16(k))
			}
		}
	}
	return g, nil
}

// local is the local-grid index of bounding-box coordinates (i, j, k).
func (g *texGrid) local(i, j, k int) int {
	return (i + g.pad) + g.pstride[1]*(j+g.pad) + g.pstride[2]*(k+g.pad)
}

// offset is the local-grid index step of a neighbour offset.
func (g *texGrid) offset(o [3]int) int {
	return o[0] + o[1]*g.pstride[1] + o[2]*g.pstride[2]
}

// unit is the unit (slice along axis, or 0 for the volume) of the n-th ROI voxel.
func (g *texGrid) unit(n, axis int) int {
	if axis < 0 {
		return 0
	}
	return int(g.coord[axis][n])
}

// extent is the bounding-box size along axis a.
func (g *texGrid) extent(a int) int { return g.hi[a] - g.lo[a] + 1 }

// units is the number of 2D slices along sliceAxis (1 when sliceAxis < 0: the whole volume).
func (g *texGrid) units(sliceAxis int) int {
	if sliceAxis < 0 {
		return 1
	}
	return g.extent(sliceAxis)
}

func maxInt(s []int) int {
	m := 0
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

// directions lists the neighbour offsets (di, dj, dk) whose Chebyshev norm is in dists, one of
// each ± pair (the first non-zero of dk, dj, di positive, as PyRadiomics generates its angles),
// with no offset along skipAxis (-1: none). With limit, offsets must be smaller than the bounding
// box along every axis (PyRadiomics' angle rule, which drops z angles for a single-slice ROI).
func (g *texGrid) directions(dists []int, skipAxis int, limit bool) [][3]int {
	dmax := 0
	for _, d := range dists {
		dmax = max(dmax, d)
	}
	var out [][3]int
	for dk := dmax; dk >= -dmax; dk-- {
		for dj := dmax; dj >= -dmax; dj-- {
			for di := dmax; di >= -dmax; di-- {
				o := [3]int{di, dj, dk}
				if !positiveHalf(o) {
					continue
				}
				cheb := max(abs(di), abs(dj), abs(dk))
				if !containsInt(dists, cheb) {
					continue
				}
				ok := true
				for a := 0; a < 3; a++ {
					if a == skipAxis && o[a] != 0 {
						ok = false
					}
					if limit && abs(o[a]) >= g.extent(a) {
						ok = false
					}
				}
				if ok {
					out = append(out, o)
				}
			}
		}
	}
	return out
}

func positiveHalf(o [3]int) bool {
	for a := 2; a >= 0; a-- {
		if o[a] != 0 {
			return o[a] > 0
		}
	}
	return false
}

func containsInt(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// neighbourhood lists every offset with Chebyshev norm 1…d (both signs), without offsets along
// skipAxis (-1: none): the 26 (3D) or 8 (2D) neighbours for d = 1.
func neighbourhood(dists []int, skipAxis int) [][3]int {
	dmax := 0
	for _, d := range dists {
		dmax = max(dmax, d)
	}
	var out [][3]int
	for dk := -dmax; dk <= dmax; dk++ {
		for dj := -dmax; dj <= dmax; dj++ {
			for di := -dmax; di <= dmax; di++ {
				o := [3]int{di, dj, dk}
				cheb := max(abs(di), abs(dj), abs(dk))
				if cheb == 0 || !containsInt(dists, cheb) || (skipAxis >= 0 && o[skipAxis] != 0) {
					continue
				}
				out = append(out, o)
			}
		}
	}
	return out
}

// sliceAxisOf maps PyRadiomics' force2Ddimension (numpy order z, y, x) to the grid axis.
func sliceAxisOf(force2DDimension int) (int, error) {
	switch force2DDimension {
	case 0:
		return 2, nil
	case 1:
		return 1, nil
	case 2:
		return 0, nil
	}
	return 0, fmt.Errorf("radiomics: texture: force2Ddimension %d: must be 0, 1 or 2", force2DDimension)
}

// textureConfig is TextureOptions checked and resolved.
type textureConfig struct {
	ibsi      bool
	aggs      map[string]bool
	dists     []int
	symmetric bool
	weighting string
	alpha     int
	force2D   bool
	sliceAxis int // the 2D slice axis (IBSI 2D/2.5D aggregations and PyRadiomics force2D)
}

func resolveTextureOptions(o TextureOptions) (textureConfig, error) {
	c := textureConfig{ibsi: o.IBSI, symmetric: o.Symmetrical, weighting: o.WeightingNorm, alpha: o.Alpha, force2D: o.Force2D}
	c.dists = o.Distances
	if len(c.dists) == 0 {
		c.dists = []int{1}
	}
	for _, d := range c.dists {
		if d < 1 {
			return c, fmt.Errorf("radiomics: texture: distance %d: distances must be at least 1", d)
		}
		if d > 64 {
			return c, fmt.Errorf("radiomics: texture: distance %d: too large", d)
		}
	}
	switch o.WeightingNorm {
	case "", "no_weighting", "manhattan", "euclidean", "infinity":
	default:
		return c, fmt.Errorf("radiomics: texture: weightingNorm %q: want manhattan, euclidean, infinity or no_weighting", o.WeightingNorm)
	}
	if o.Alpha < 0 {
		return c, fmt.Errorf("radiomics: texture: gldm_a %d: must not be negative", o.Alpha)
	}
	ax, err := sliceAxisOf(o.Force2DDimension)
	if err != nil {
		return c, err
	}
	c.sliceAxis = ax
	if len(o.Aggregations) > 0 {
		c.aggs = map[string]bool{}
		for _, a := range o.Aggregations {
			if !containsString(directionalAggs, a) && !containsString(zoneAggs, a) {
				return c, fmt.Errorf("radiomics: texture: aggregation %q: want one of %v or %v", a, directionalAggs, zoneAggs)
			}
			c.aggs[a] = true
		}
	}
	return c, nil
}

// want reports whether the IBSI aggregation a is requested.
func (c textureConfig) want(a string) bool { return c.aggs == nil || c.aggs[a] }

func containsString(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// pyAxisTag is the IBSI aggregation that PyRadiomics' default per-direction computation equals:
// 3D, or 2.5D with force2D (PyRadiomics merges the slices per direction).
func (c textureConfig) pyDirectionalTag() string {
	if c.weighting == "no_weighting" {
		if c.force2D {
			return agg25DComb
		}
		return agg3DComb
	}
	if c.weighting != "" {
		return ""
	}
	if c.force2D {
		return agg25DAvg
	}
	return agg3DAvg
}

func (c textureConfig) pyZoneTag() string {
	if c.force2D {
		return agg25D
	}
	return agg3D
}

// pyGeometry is the slice axis PyRadiomics computes in (-1 for 3D).
func (c textureConfig) pyGeometry() int {
	if c.force2D {
		return c.sliceAxis
	}
	return -1
}

// directionWeight is PyRadiomics' weight of a direction for weightingNorm; exponential says
// whether the GLCM form exp(-‖d‖²) is used (the GLRLM uses ‖d‖ itself).
func directionWeight(norm string, o [3]int, spacing [3]float64, exponential bool) float64 {
	var v [3]float64
	for a := 0; a < 3; a++ {
		v[a] = math.Abs(float64(o[a])) * spacing[a]
	}
	var d float64
	switch norm {
	case "infinity":
		d = max(v[0], v[1], v[2])
	case "euclidean":
		d = math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2])
	case "manhattan":
		d = v[0] + v[1] + v[2]
	default:
		return 1
	}
	if exponential {
		return math.Exp(-d * d)
	}
	return d
}

// dirMatrices holds one dense matrix per (unit, direction); units are slices (2D) or the volume.
type dirMatrices struct {
	nu, nd, size int
	m            []float64
}

func newDirMatrices(nu, nd, size int) *dirMatrices {
	return &dirMatrices{nu: nu, nd: nd, size: size, m: make([]float64, nu*nd*size)}
}

func (x *dirMatrices) at(u, d int) []float64 {
	o := (u*x.nd + d) * x.size
	return x.m[o : o+x.size]
}

// merged sums the matrices of the units us and directions ds.
func (x *dirMatrices) merged(us, ds []int) []float64 {
	out := make([]float64, x.size)
	for _, u := range us {
		for _, d := range ds {
			for i, v := range x.at(u, d) {
				out[i] += v
			}
		}
	}
	return out
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func sum(s []float64) float64 {
	t := 0.0
	for _, v := range s {
		t += v
	}
	return t
}

// featureMean averages feature vectors; nanSkip ignores NaN entries (numpy nanmean) instead of
// propagating them (IBSI: a feature undefined in one matrix is undefined in the average).
type featureMean struct {
	sum     []float64
	n       []int
	nanSkip bool
	any     bool
}

func newFeatureMean(nf int, nanSkip bool) *featureMean {
	return &featureMean{sum: make([]float64, nf), n: make([]int, nf), nanSkip: nanSkip}
}

func (m *featureMean) add(f []float64) {
	m.any = true
	for i, v := range f {
		if math.IsNaN(v) && m.nanSkip {
			continue
		}
		m.sum[i] += v
		m.n[i]++
	}
}

func (m *featureMean) mean() []float64 {
	out := make([]float64, len(m.sum))
	for i := range out {
		if m.n[i] == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = m.sum[i] / float64(m.n[i])
	}
	return out
}

// aggregateDirectional computes the features of a directional family (GLCM, GLRLM) for one IBSI
// aggregation. f returns nil for an empty matrix, which is left out of the averages.
func aggregateDirectional(x *dirMatrices, agg string, nf int, nanSkip bool, f func([]float64) []float64) []float64 {
	m := newFeatureMean(nf, nanSkip)
	add := func(v []float64) {
		if v != nil {
			m.add(v)
		}
	}
	switch agg {
	case agg2DAvg, agg3DAvg:
		for u := 0; u < x.nu; u++ {
			for d := 0; d < x.nd; d++ {
				add(f(x.at(u, d)))
			}
		}
	case agg2DComb:
		for u := 0; u < x.nu; u++ {
			add(f(x.merged([]int{u}, seq(x.nd))))
		}
	case agg25DAvg:
		for d := 0; d < x.nd; d++ {
			add(f(x.merged(seq(x.nu), []int{d})))
		}
	case agg25DComb, agg3DComb:
		add(f(x.merged(seq(x.nu), seq(x.nd))))
	}
	if !m.any {
		return nil
	}
	return m.mean()
}

// featureName describes one feature of a family in both conventions.
type featureName struct {
	ibsi   string // IBSI tag without the aggregation suffix ("" if IBSI has none)
	py     string // PyRadiomics name ("" if PyRadiomics has none or deprecated it)
	reason string // why the value can be undefined
}

// emit turns values into Features. ibsiAgg is the aggregation suffix ("" for no IBSI tag); names
// with an empty field in the selected convention are skipped.
func emit(out []Feature, names []featureName, vals []float64, class string, ibsiMode bool, ibsiAgg string, pyName bool) []Feature {
	for i, n := range names {
		if ibsiMode && n.ibsi == "" {
			continue
		}
		if !ibsiMode && n.py == "" {
			continue
		}
		f := Feature{Value: math.NaN(), Reason: reasonEmpty}
		if vals != nil {
			f.Value, f.Reason = vals[i], ""
			if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
				f.Value, f.Reason = math.NaN(), n.reason
				if f.Reason == "" {
					f.Reason = "undefined for this region"
				}
			}
		}
		if n.ibsi != "" && ibsiAgg != "" {
			f.IBSI = n.ibsi + "_" + ibsiAgg
		}
		if pyName && n.py != "" {
			f.PyRadiomics, f.Class = n.py, class
		}
		out = append(out, f)
	}
	return out
}

// runFamily resolves the options, builds the grid and runs one family.
func runFamily(ctx context.Context, d *Discretised, opt TextureOptions, fam func(context.Context, *texGrid, textureConfig) ([]Feature, error)) ([]Feature, error) {
	c, g, err := prepareTexture(d, opt)
	if err != nil {
		return nil, err
	}
	return fam(ctx, g, c)
}

// ibsiDirectional emits every requested IBSI aggregation of a directional family (GLCM, GLRLM);
// build returns the matrices of one geometry (slices along axis, or 3D for axis -1) and the
// feature function of a matrix, and is called once per geometry.
func ibsiDirectional(ctx context.Context, c textureConfig, names []featureName, class string,
	build func(axis int) (*dirMatrices, func([]float64) []float64)) ([]Feature, error) {
	var out []Feature
	for _, dim := range []int{2, 3} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		aggs, axis := directionalAggs[:4], c.sliceAxis
		if dim == 3 {
			aggs, axis = directionalAggs[4:], -1
		}
		var x *dirMatrices
		var f func([]float64) []float64
		for _, a := range aggs {
			if !c.want(a) {
				continue
			}
			if x == nil {
				x, f = build(axis)
			}
			out = emit(out, names, aggregateDirectional(x, a, len(names), false, f), class, true, a, a == agg3DAvg)
		}
	}
	return out, nil
}

// ibsiZoneAggs emits every requested IBSI aggregation (2D, 2_5D, 3D) of a zone-type family;
// compute returns the feature values of one aggregation (slices along axis, or 3D for axis -1).
func ibsiZoneAggs(ctx context.Context, c textureConfig, names []featureName, class string,
	compute func(agg string, axis int) []float64) ([]Feature, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Feature
	for _, a := range zoneAggs {
		if !c.want(a) {
			continue
		}
		axis := c.sliceAxis
		if a == agg3D {
			axis = -1
		}
		out = emit(out, names, compute(a, axis), class, true, a, a == agg3D)
	}
	return out, nil
}

// pyDirectional computes a PyRadiomics directional class from its per-angle matrices: averaged
// over the angles (nanmean), or merged with PyRadiomics' distance weights when weightingNorm is
// set (exponential: the GLCM's exp(−‖d‖²); the GLRLM uses ‖d‖).
func pyDirectional(c textureConfig, g *texGrid, x *dirMatrices, dirs [][3]int, nf int, exponential bool, f func([]float64) []float64) []float64 {
	if c.weighting == "" {
		return aggregateDirectional(x, agg3DAvg, nf, true, f)
	}
	w := make([]float64, x.size)
	for di, o := range dirs {
		wt := directionWeight(c.weighting, o, g.spacing, exponential)
		for i, v := range x.at(0, di) {
			w[i] += wt * v
		}
	}
	return f(w)
}

// prepareTexture checks the options and builds the local grid, with a border wide enough for the
// largest neighbour distance.
func prepareTexture(d *Discretised, opt TextureOptions) (textureConfig, *texGrid, error) {
	c, err := resolveTextureOptions(opt)
	if err != nil {
		return c, nil, err
	}
	g, err := newTexGrid(d, max(maxInt(c.dists), 1))
	return c, g, err
}

// TextureFeatures computes every texture family: GLCM, GLRLM, GLSZM, GLDZM (IBSI only), NGTDM and
// NGLDM / PyRadiomics GLDM, in the convention selected by opt.IBSI. The families run concurrently
// on one shared copy of the region; the result is in that family order.
func TextureFeatures(ctx context.Context, d *Discretised, opt TextureOptions) ([]Feature, error) {
	c, g, err := prepareTexture(d, opt)
	if err != nil {
		return nil, err
	}
	families := []func(context.Context, *texGrid, textureConfig) ([]Feature, error){
		glcmFamily, glrlmFamily, glszmFamily, gldzmFamily, ngtdmFamily, ngldmFamily,
	}
	results := make([][]Feature, len(families))
	errs := make([]error, len(families))
	var wg sync.WaitGroup
	for i, fam := range families {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = fam(ctx, g, c)
		}()
	}
	wg.Wait()
	var out []Feature
	for i := range families {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, results[i]...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
