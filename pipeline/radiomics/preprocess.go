package radiomics

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// Pre-processing in IBSI order (IBSI 1, chapter 2): normalisation, resampling, cropping,
// resegmentation, discretisation.

// Input errors, wrapped with details by Extract.
var (
	ErrEmptyMask   = errors.New("radiomics: empty mask")
	ErrROITooSmall = errors.New("radiomics: ROI too small")
	ErrNaN         = errors.New("radiomics: image has NaN or infinite voxels")
	Err2D          = errors.New("radiomics: 2D input")
)

// region is the image cropped around the ROI with its masks, on one grid.
type region struct {
	grid  image.Grid
	img   []float64
	morph []bool // morphological mask (the ROI)
	inten []bool // intensity mask (the ROI after resegmentation)
}

// bbox returns the lowest and highest index of voxels with mask[i] set, and the count.
func bbox(g image.Grid, in func(i int) bool) (lo, hi [3]int, n int) {
	lo = g.Size
	hi = [3]int{-1, -1, -1}
	idx := 0
	for k := 0; k < g.Size[2]; k++ {
		for j := 0; j < g.Size[1]; j++ {
			for i := 0; i < g.Size[0]; i++ {
				if in(idx) {
					n++
					p := [3]int{i, j, k}
					for a := 0; a < 3; a++ {
						lo[a] = min(lo[a], p[a])
						hi[a] = max(hi[a], p[a])
					}
				}
				idx++
			}
		}
	}
	return lo, hi, n
}

// normalise applies PyRadiomics' normalize: z-score over the whole image (sample standard
// deviation, as SimpleITK's NormalizeImageFilter), optional clipping at ±removeOutliers, then scale.
func normalise(v *image.Volume, s Settings) *image.Volume {
	out := image.NewVolume(v.Grid)
	n := float64(len(v.Data))
	var mean float64
	for _, x := range v.Data {
		mean += x
	}
	mean /= n
	var ss float64
	for _, x := range v.Data {
		ss += (x - mean) * (x - mean)
	}
	sd := 1.0
	if n > 1 && ss > 0 {
		sd = math.Sqrt(ss / (n - 1))
	}
	for i, x := range v.Data {
		z := (x - mean) / sd
		if s.RemoveOutliers > 0 {
			z = math.Max(-s.RemoveOutliers, math.Min(s.RemoveOutliers, z))
		}
		out.Data[i] = z * s.NormalizeScale
	}
	return out
}

// labelBBox returns the bounding box (lowest and highest index) and the count of voxels with label l.
func labelBBox(m *image.Labels, l uint8) (lo, hi [3]int, n int) {
	lo = m.Size
	hi = [3]int{-1, -1, -1}
	idx := 0
	for k := 0; k < m.Size[2]; k++ {
		for j := 0; j < m.Size[1]; j++ {
			row := m.Data[idx : idx+m.Size[0]]
			idx += m.Size[0]
			first, last := -1, -1
			for i, x := range row {
				if x == l {
					if first < 0 {
						first = i
					}
					last = i
					n++
				}
			}
			if first < 0 {
				continue
			}
			lo = [3]int{min(lo[0], first), min(lo[1], j), min(lo[2], k)}
			hi = [3]int{max(hi[0], last), max(hi[1], j), max(hi[2], k)}
		}
	}
	return lo, hi, n
}

// crop cuts the image and the ROI of mask (voxels equal to label) to the ROI's bounding box grown
// by pad[a] voxels along axis a (clipped to the image).
func crop(img *image.Volume, mask *image.Labels, label uint8, lo, hi [3]int, pad [3]int) region {
	var from, size [3]int
	for a := 0; a < 3; a++ {
		from[a] = max(0, lo[a]-pad[a])
		to := min(img.Size[a]-1, hi[a]+pad[a])
		size[a] = to - from[a] + 1
	}
	g := img.Grid
	g.Size = size
	g.Origin = img.Point(float64(from[0]), float64(from[1]), float64(from[2]))
	r := region{grid: g, img: make([]float64, g.Len()), morph: make([]bool, g.Len())}
	idx := 0
	for k := 0; k < size[2]; k++ {
		for j := 0; j < size[1]; j++ {
			src := img.Index(from[0], from[1]+j, from[2]+k)
			copy(r.img[idx:idx+size[0]], img.Data[src:src+size[0]])
			for i, l := range mask.Data[src : src+size[0]] {
				r.morph[idx+i] = l == label
			}
			idx += size[0]
		}
	}
	return r
}

// resample interpolates image and mask onto a grid of the given spacing, covering the ROI's
// bounding box plus pad voxels of the new grid. IBSI aligns the grid centres; PyRadiomics aligns the
// grid corners. The mask is interpolated by nearest neighbour (PyRadiomics) or linearly and then
// thresholded (IBSI).
func resample(img *image.Volume, mask []bool, lo, hi [3]int, s Settings) (region, error) {
	centre := s.IBSI != nil && s.IBSI.GridAlignment == "centre"
	maskLinear := s.IBSI != nil && s.IBSI.MaskInterpolation == "linear"
	threshold := 0.5
	if s.IBSI != nil && s.IBSI.MaskThreshold > 0 {
		threshold = s.IBSI.MaskThreshold
	}
	var g image.Grid
	g.Direction = img.Direction
	var axes [3][]float64 // continuous source index of every new index along each axis
	var originIdx [3]float64
	for a := 0; a < 3; a++ {
		sp := img.Spacing[a]
		if a < len(s.ResampledPixelSpacing) && s.ResampledPixelSpacing[a] > 0 && hi[a] > lo[a] {
			sp = s.ResampledPixelSpacing[a]
		}
		r := sp / img.Spacing[a]
		n := img.Size[a]
		var off float64
		var first, last int
		if centre {
			nn := int(math.Ceil(float64(n)/r - 1e-9))
			off = float64(n-1)/2 - float64(nn-1)/2*r
			first = int(math.Floor((float64(lo[a])-0.5-off)/r)) - s.PadDistance
			last = int(math.Ceil((float64(hi[a])+0.5-off)/r)) + s.PadDistance
			first, last = max(first, 0), min(last, nn-1)
		} else {
			off = 0.5 * (r - 1)
			first = int(math.Floor((float64(lo[a])-0.5)/r - float64(s.PadDistance)))
			last = int(math.Ceil((float64(hi[a])+0.5)/r + float64(s.PadDistance)))
			first, last = max(first, 0), min(last, int(math.Ceil(float64(n)/r))-1)
		}
		if last < first {
			return region{}, fmt.Errorf("radiomics: resampling axis %d: empty grid", a)
		}
		g.Size[a] = last - first + 1
		g.Spacing[a] = sp
		originIdx[a] = off + float64(first)*r
		axes[a] = make([]float64, g.Size[a])
		for i := range axes[a] {
			axes[a][i] = originIdx[a] + float64(i)*r
		}
	}
	g.Origin = img.Point(originIdx[0], originIdx[1], originIdx[2])
	if err := g.Validate(); err != nil {
		return region{}, fmt.Errorf("radiomics: resampled grid: %w", err)
	}
	out := region{grid: g, morph: make([]bool, g.Len())}
	switch s.Interpolator {
	case "sitkNearestNeighbor":
		out.img = interpolate(img.Data, img.Size, axes, nearestKernel)
	case "sitkLinear":
		out.img = interpolate(img.Data, img.Size, axes, linearKernel)
	default:
		out.img = interpolate(bsplineCoefficients(img.Data, img.Size), img.Size, axes, bsplineKernel)
	}
	mv := make([]float64, len(mask))
	for i, b := range mask {
		if b {
			mv[i] = 1
		}
	}
	if maskLinear {
		m := interpolate(mv, img.Size, axes, linearKernel)
		for i, x := range m {
			out.morph[i] = x >= threshold
		}
	} else {
		m := interpolate(mv, img.Size, axes, nearestKernel)
		for i, x := range m {
			out.morph[i] = x >= 0.5
		}
	}
	return out, nil
}

// resampleLabels maps a label map onto grid g by nearest neighbour in patient coordinates
// (PyRadiomics correctMask); voxels of g outside the mask's extent get label 0.
func resampleLabels(m *image.Labels, g image.Grid) *image.Labels {
	out := image.NewLabels(g)
	// Inverse of the mask's index → LPS map: the direction is orthonormal, so its inverse is its
	// transpose; divide by the spacing afterwards.
	d := m.Direction
	for k := 0; k < g.Size[2]; k++ {
		for j := 0; j < g.Size[1]; j++ {
			for i := 0; i < g.Size[0]; i++ {
				p := g.Point(float64(i), float64(j), float64(k))
				rel := [3]float64{p[0] - m.Origin[0], p[1] - m.Origin[1], p[2] - m.Origin[2]}
				var idx [3]int
				inside := true
				for a := 0; a < 3; a++ {
					c := (d[a]*rel[0] + d[3+a]*rel[1] + d[6+a]*rel[2]) / m.Spacing[a]
					idx[a] = int(math.Floor(c + 0.5))
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
	return out
}

// kernel returns the source taps and weights for continuous index x on an axis of n voxels; ok is
// false outside the image (x < -0.5 or x > n-0.5), where the value is 0 as in SimpleITK.
type kernel func(x float64, n int) (idx []int, w []float64, ok bool)

func nearestKernel(x float64, n int) ([]int, []float64, bool) {
	if x < -0.5 || x > float64(n)-0.5 {
		return nil, nil, false
	}
	i := int(math.Floor(x + 0.5))
	return []int{min(max(i, 0), n-1)}, []float64{1}, true
}

func linearKernel(x float64, n int) ([]int, []float64, bool) {
	if x < -0.5 || x > float64(n)-0.5 {
		return nil, nil, false
	}
	i := int(math.Floor(x))
	f := x - float64(i)
	return []int{min(max(i, 0), n-1), min(max(i+1, 0), n-1)}, []float64{1 - f, f}, true
}

// bsplineKernel evaluates the cubic B-spline basis (taps mirrored at the borders).
func bsplineKernel(x float64, n int) ([]int, []float64, bool) {
	if x < -0.5 || x > float64(n)-0.5 {
		return nil, nil, false
	}
	i0 := int(math.Floor(x)) - 1
	idx := make([]int, 4)
	w := make([]float64, 4)
	for t := 0; t < 4; t++ {
		i := i0 + t
		d := math.Abs(x - float64(i))
		switch {
		case d < 1:
			w[t] = 2.0/3 - d*d + d*d*d/2
		case d < 2:
			w[t] = (2 - d) * (2 - d) * (2 - d) / 6
		}
		idx[t] = mirror(i, n)
	}
	return idx, w, true
}

func mirror(i, n int) int {
	if n == 1 {
		return 0
	}
	p := 2 * (n - 1)
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - i
	}
	return i
}

// interpolate samples a separable kernel at the grid axes[0]×axes[1]×axes[2].
func interpolate(src []float64, size [3]int, axes [3][]float64, k kernel) []float64 {
	type taps struct {
		idx []int
		w   []float64
		ok  bool
	}
	var tp [3][]taps
	for a := 0; a < 3; a++ {
		tp[a] = make([]taps, len(axes[a]))
		for i, x := range axes[a] {
			idx, w, ok := k(x, size[a])
			tp[a][i] = taps{idx, w, ok}
		}
	}
	out := make([]float64, len(axes[0])*len(axes[1])*len(axes[2]))
	o := 0
	for _, tk := range tp[2] {
		for _, tj := range tp[1] {
			for _, ti := range tp[0] {
				if tk.ok && tj.ok && ti.ok {
					var sum float64
					for c, kk := range tk.idx {
						for b, jj := range tj.idx {
							wkj := tk.w[c] * tj.w[b]
							if wkj == 0 {
								continue
							}
							row := src[size[0]*(jj+size[1]*kk):]
							for a, ii := range ti.idx {
								sum += wkj * ti.w[a] * row[ii]
							}
						}
					}
					out[o] = sum
				}
				o++
			}
		}
	}
	return out
}

// bsplineCoefficients computes cubic B-spline interpolation coefficients by the recursive
// prefilter of Unser (pole √3−2, gain 6) along each axis with mirror boundaries.
func bsplineCoefficients(src []float64, size [3]int) []float64 {
	c := append([]float64(nil), src...)
	z := math.Sqrt(3) - 2
	line := make([]float64, max(size[0], size[1], size[2]))
	for a := 0; a < 3; a++ {
		n := size[a]
		if n < 2 {
			continue
		}
		stride := [3]int{1, size[0], size[0] * size[1]}[a]
		var outer [][2]int // start index of every line along axis a
		for k := 0; k < size[2]; k++ {
			for j := 0; j < size[1]; j++ {
				for i := 0; i < size[0]; i++ {
					p := [3]int{i, j, k}
					if p[a] == 0 {
						outer = append(outer, [2]int{i + size[0]*(j+size[1]*k), 0})
					}
				}
			}
		}
		for _, st := range outer {
			l := line[:n]
			for t := 0; t < n; t++ {
				l[t] = c[st[0]+t*stride]
			}
			prefilterLine(l, z)
			for t := 0; t < n; t++ {
				c[st[0]+t*stride] = l[t]
			}
		}
	}
	return c
}

func prefilterLine(c []float64, z float64) {
	n := len(c)
	const gain = 6.0
	for i := range c {
		c[i] *= gain
	}
	// Causal initialisation (mirror boundary), truncated where z^k is negligible.
	horizon := min(n, int(math.Ceil(math.Log(1e-12)/math.Log(math.Abs(z))))+1)
	sum := c[0]
	zk := z
	for k := 1; k < horizon; k++ {
		sum += zk * c[k]
		zk *= z
	}
	if horizon >= n { // exact mirror-symmetric initialisation for short lines
		zn := math.Pow(z, float64(n-1))
		iz := 1 / z
		z2n := zn * zn * iz
		sum = c[0] + zn*c[n-1]
		zk = z
		for k := 1; k < n-1; k++ {
			sum += (zk + z2n) * c[k]
			zk *= z
			z2n *= iz
		}
		sum /= 1 - zn*zn
	}
	c[0] = sum
	for k := 1; k < n; k++ {
		c[k] += z * c[k-1]
	}
	c[n-1] = (z / (z*z - 1)) * (z*c[n-2] + c[n-1])
	for k := n - 2; k >= 0; k-- {
		c[k] = z * (c[k+1] - c[k])
	}
}

// resegment returns the intensity mask: the ROI voxels inside the resegmentation range
// (PyRadiomics modes absolute, relative to the ROI maximum, or in ROI standard deviations).
func resegment(r *region, s Settings) {
	r.inten = append([]bool(nil), r.morph...)
	if len(s.ResegmentRange) == 0 {
		return
	}
	lo, hi := s.ResegmentRange[0], math.Inf(1)
	if len(s.ResegmentRange) > 1 {
		hi = s.ResegmentRange[1]
	}
	switch s.ResegmentMode {
	case "relative":
		mx := math.Inf(-1)
		for i, in := range r.morph {
			if in {
				mx = math.Max(mx, r.img[i])
			}
		}
		lo, hi = lo*mx, hi*mx
	case "sigma":
		var n, sum, ss float64
		for i, in := range r.morph {
			if in {
				n++
				sum += r.img[i]
			}
		}
		mean := sum / n
		for i, in := range r.morph {
			if in {
				ss += (r.img[i] - mean) * (r.img[i] - mean)
			}
		}
		sd := math.Sqrt(ss / n)
		lo, hi = mean+lo*sd, mean+hi*sd
	}
	for i, in := range r.inten {
		if in && (r.img[i] < lo || r.img[i] > hi) {
			r.inten[i] = false
		}
	}
}

// binning describes a discretisation: level(x) and the grey level count.
type binning struct {
	fixedCount bool
	count      int     // FBN: number of bins
	width      float64 // FBS: bin width
	low        float64 // lower edge of bin 1 (FBS) or ROI minimum (FBN)
	high       float64 // ROI maximum (FBN)
}

// newBinning derives the discretisation of values (the intensity-mask voxels) under s.
func newBinning(values []float64, s Settings) binning {
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, x := range values {
		mn, mx = math.Min(mn, x), math.Max(mx, x)
	}
	if s.BinCount > 0 {
		return binning{fixedCount: true, count: s.BinCount, low: mn, high: mx}
	}
	b := binning{width: s.BinWidth}
	if s.IBSI != nil && s.IBSI.BinningConvention == "ibsi" {
		b.low = mn
		if len(s.ResegmentRange) > 0 && s.ResegmentMode == "absolute" {
			b.low = s.ResegmentRange[0]
		}
		return b
	}
	// PyRadiomics: edges at multiples of binWidth, starting at or below the minimum.
	b.low = mn - pyMod(mn, s.BinWidth)
	return b
}

func pyMod(a, b float64) float64 {
	m := math.Mod(a, b)
	if m != 0 && (m < 0) != (b < 0) {
		m += b
	}
	return m
}

// level returns the grey level (1-based) of x.
func (b binning) level(x float64) int32 {
	if b.fixedCount {
		if b.high <= b.low {
			return 1
		}
		l := int32(math.Floor(float64(b.count)*(x-b.low)/(b.high-b.low))) + 1
		return min(max(l, 1), int32(b.count))
	}
	// Bin i covers [low+i·w, low+(i+1)·w), edges computed as numpy.arange does.
	i := int(math.Floor((x - b.low) / b.width))
	for b.low+float64(i+1)*b.width <= x {
		i++
	}
	for i > 0 && b.low+float64(i)*b.width > x {
		i--
	}
	return int32(max(i, 0) + 1)
}

// value returns the intensity represented by grey level l (the lower bin edge for FBS, the bin
// centre for FBN).
func (b binning) value(l int) float64 {
	if b.fixedCount {
		return b.low + (float64(l)-0.5)*(b.high-b.low)/float64(b.count)
	}
	return b.low + float64(l-1)*b.width
}

// discretise builds the texture input: the ROI's bounding box with grey levels.
func discretise(r *region, img []float64, b binning) *Discretised {
	lo, hi, _ := bbox(r.grid, func(i int) bool { return r.morph[i] })
	var size [3]int
	for a := 0; a < 3; a++ {
		size[a] = hi[a] - lo[a] + 1
	}
	d := &Discretised{Size: size, Spacing: r.grid.Spacing}
	n := size[0] * size[1] * size[2]
	d.Level = make([]int32, n)
	d.Morph = make([]bool, n)
	idx := 0
	for k := lo[2]; k <= hi[2]; k++ {
		for j := lo[1]; j <= hi[1]; j++ {
			for i := lo[0]; i <= hi[0]; i++ {
				src := r.grid.Index(i, j, k)
				d.Morph[idx] = r.morph[src]
				if r.inten[src] {
					l := b.level(img[src])
					d.Level[idx] = l
					d.NG = max(d.NG, int(l))
				}
				idx++
			}
		}
	}
	if b.fixedCount {
		d.NG = b.count
	}
	return d
}

// roiValues returns the intensity-mask voxel values of img, sorted ascending.
func roiValues(r *region, img []float64) []float64 {
	var v []float64
	for i, in := range r.inten {
		if in {
			v = append(v, img[i])
		}
	}
	sort.Float64s(v)
	return v
}
