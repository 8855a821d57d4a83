package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sacrum-dev/sacrum/pipeline/dcmwrite"
	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// ImageOptions sets the acquisition matrix of the generated series.
type ImageOptions struct {
	Matrix int // rows = columns (default 256)
	Slices int // slices per series (default 20)
}

func (o ImageOptions) withDefaults() ImageOptions {
	if o.Matrix == 0 {
		o.Matrix = 256
	}
	if o.Slices == 0 {
		o.Slices = 20
	}
	return o
}

// Validate checks the options (the matrix must show the joints; slices must cover them).
func (o ImageOptions) Validate() error {
	o = o.withDefaults()
	if o.Matrix < 64 || o.Matrix > 1024 {
		return fmt.Errorf("synth: matrix %d: must be 64…1024", o.Matrix)
	}
	if o.Slices < 4 || o.Slices > 200 {
		return fmt.Errorf("synth: slices %d: must be 4…200", o.Slices)
	}
	// Each worker holds a few float64 copies of a series: keep a patient under ~1 GB.
	if n := o.Matrix * o.Matrix * o.Slices; n > 1<<25 {
		return fmt.Errorf("synth: matrix %d × %d slices = %d voxels per series: at most %d", o.Matrix, o.Slices, n, 1<<25)
	}
	return nil
}

// SliceThickness and SliceSpacing are the slice geometry of both series (contiguous 4 mm slices).
const (
	SliceThickness = 4.0
	SliceSpacing   = 4.0
)

// Study is one generated patient in memory: both series on one grid, and two readers' label maps.
type Study struct {
	Record  Record
	Grid    image.Grid // DICOM order: i = column, j = row, k = slice (instance number k+1)
	T1      []uint16   // stored pixel values, i fastest, then j, then k
	STIR    []uint16
	Reader1 *image.Labels // 1 = left SIJ, 2 = right SIJ; on Grid
	Reader2 *image.Labels
	Options ImageOptions
	seed    int64
}

// GeneratePatient renders patient idx of the cohort with the given seed (its clinical record from
// NewRecord; the split is left empty) in memory. Write it with Study.Write.
func GeneratePatient(seed int64, idx int, opt ImageOptions) (*Study, error) {
	return Render(seed, NewRecord(seed, idx), opt)
}

// Render draws the images and labels of rec.
func Render(seed int64, rec Record, opt ImageOptions) (*Study, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	st := &Study{Record: rec, Options: opt, seed: seed}
	if err := st.geometry(); err != nil {
		return nil, err
	}
	r := newRand(seed, fmt.Sprintf("image/%d", rec.Index))
	a := newAnatomy(r, rec)
	st.render(r, a)
	st.Reader2 = perturbLabels(newRand(seed, fmt.Sprintf("reader2/%d", rec.Index)), st.Reader1)
	return st, nil
}

// geometry sets the oblique-coronal grid: rows along patient left (+x), columns tilted from the
// feet direction towards posterior by the tilt angle, slices stacked along the normal. The values
// go through their DICOM decimal-string form so that the grid equals what a reader of the files gets.
func (st *Study) geometry() error {
	sc := st.Record.Scanner
	m, s := st.Options.Matrix, st.Options.Slices
	ps := sc.FOV / float64(m)
	th := sc.TiltDeg * math.Pi / 180
	row := [3]float64{1, 0, 0}
	col := [3]float64{0, math.Sin(th), -math.Cos(th)}
	nrm := [3]float64{0, math.Cos(th), math.Sin(th)}
	var origin [3]float64
	for a := 0; a < 3; a++ {
		origin[a] = sc.Centre[a] - row[a]*ps*float64(m-1)/2 - col[a]*ps*float64(m-1)/2 - nrm[a]*SliceSpacing*float64(s-1)/2
	}
	ds := func(x float64) float64 {
		v, _ := dcmwrite.ParseDS(dcmwrite.FormatDS(x))
		return v
	}
	g := image.Grid{Size: [3]int{m, m, s}, Spacing: [3]float64{ds(ps), ds(ps), SliceSpacing}}
	for a := 0; a < 3; a++ {
		g.Direction[3*a+0] = ds(row[a])
		g.Direction[3*a+1] = ds(col[a])
		g.Direction[3*a+2] = nrm[a]
		g.Origin[a] = ds(origin[a])
	}
	st.Grid = g
	return g.Validate()
}

// slicePosition is ImagePositionPatient of slice k, rounded as it is written.
func (st *Study) slicePosition(k int) [3]float64 {
	g := st.Grid
	var p [3]float64
	for a := 0; a < 3; a++ {
		v, _ := dcmwrite.ParseDS(dcmwrite.FormatDS(g.Origin[a] + g.Direction[3*a+2]*g.Spacing[2]*float64(k)))
		p[a] = v
	}
	return p
}

// smoothTable is a 1D smooth random profile (three sinusoids) used to build separable texture.
func smoothTable(r *rand.Rand, n int, step, minWL, maxWL float64) []float64 {
	t := make([]float64, n)
	for h := 0; h < 3; h++ {
		wl := uniform(r, minWL, maxWL) // wavelength mm
		ph := uniform(r, 0, 2*math.Pi)
		amp := uniform(r, 0.15, 0.35)
		for i := range t {
			t[i] += amp * math.Sin(2*math.Pi*float64(i)*step/wl+ph)
		}
	}
	return t
}

type bandVoxel struct {
	idx        int
	u, v, w    float64 // anatomy frame
	side, bone int8
	tissue     uint8
	depth      float64
	roi        bool
}

func (st *Study) render(r *rand.Rand, a *anatomy) {
	g := st.Grid
	m, ns := g.Size[0], g.Size[2]
	ps, dz := g.Spacing[0], g.Spacing[2]
	n := g.Len()
	t1 := make([]float64, n)
	stir := make([]float64, n)
	lab := image.NewLabels(g)
	tu, tv, tw := smoothTable(r, m, ps, 12, 45), smoothTable(r, m, ps, 12, 45), smoothTable(r, ns, dz, 12, 45)
	fu, fv, fw := smoothTable(r, m, ps, 60, 160), smoothTable(r, m, ps, 60, 160), smoothTable(r, ns, dz, 60, 160)
	var band []bandVoxel
	for k := 0; k < ns; k++ {
		w := (float64(k) - float64(ns-1)/2) * dz
		for j := 0; j < m; j++ {
			v := (float64(j) - float64(m-1)/2) * ps
			for i := 0; i < m; i++ {
				u := (float64(i) - float64(m-1)/2) * ps
				tex := tu[i] + tv[j] + tw[k]
				vx := a.classify(u, v, w, fu[i]+fv[j]+fw[k])
				idx := i + m*(j+m*k)
				f := 1 + 0.06*tex
				t1[idx] = baseT1[vx.tissue] * f
				stir[idx] = baseSTIR[vx.tissue] * f
				if vx.side < 0 {
					continue
				}
				if vx.roi {
					if vx.side == 1 {
						lab.Data[idx] = 1 // left (patient left = +x = +u)
					} else {
						lab.Data[idx] = 2
					}
				}
				band = append(band, bandVoxel{idx: idx, u: u - a.du, v: v - a.dv, w: w, side: vx.side, bone: vx.bone,
					tissue: vx.tissue, depth: vx.depth, roi: vx.roi})
			}
		}
	}
	st.Reader1 = lab
	st.pathology(a, band, t1, stir)
	st.T1, st.STIR = st.scanner(r, t1, stir)
}

// pathology adds the latent lesions inside the periarticular band: erosions, sclerosis, fat
// metaplasia and bone-marrow oedema, in that order of precedence.
func (st *Study) pathology(a *anatomy, band []bandVoxel, t1, stir []float64) {
	// Normalise the oedema blob field per side so that its mean over the ROI marrow is 1: the mean
	// oedema then tracks the latent extent whatever the texture.
	raw := make([]float64, len(band))
	var sum, cnt [2]float64
	for b, x := range band {
		if x.tissue != tMarrow {
			continue
		}
		raw[b] = blobSum(a.side[x.side].oedemaBlobs, x.u, x.v, x.w)
		if x.roi {
			sum[x.side] += raw[b]
			cnt[x.side]++
		}
	}
	var norm [2]float64
	for s := range norm {
		if sum[s] > 0 {
			norm[s] = cnt[s] / sum[s]
		}
	}
	h := a.texture
	for b, x := range band {
		sd := &a.side[x.side]
		i := x.idx
		if len(sd.erosions) > 0 && (x.tissue == tJoint || x.depth < 6) {
			if blobSum(sd.erosions, x.u, x.v, x.w) > math.Exp(-1) {
				t1[i], stir[i] = erosionT1, erosionSTIR
				continue
			}
		}
		switch x.tissue {
		case tJoint:
			stir[i] += 280 * sd.oedema // capsulitis / effusion
			continue
		case tMarrow:
		default:
			continue
		}
		scl := sd.sclerosisMM
		if x.bone == 0 {
			scl /= 2 // sclerosis is mainly iliac
		}
		if x.depth < scl+cortexMM {
			t1[i], stir[i] = scleroT1, scleroSTIR
			continue
		}
		if x.depth < 12 && blobSum(sd.fatBlobs, x.u, x.v, x.w) > 0.5 {
			t1[i], stir[i] = fatMetaT1, fatMetaSTIR
			continue
		}
		o := sd.oedema * 1.7 * math.Exp(-x.depth/7) * ((1 - h) + h*raw[b]*norm[x.side])
		o = math.Min(o, 2)
		t1[i] *= math.Max(0.2, 1-oedemaT1*o)
		stir[i] += o * (oedemaSTIR - stir[i])
	}
}

// scanner applies the receiver gain, a smooth bias field (coil sensitivity) and Rician noise, and
// quantises to 12-bit stored values.
func (st *Study) scanner(r *rand.Rand, t1, stir []float64) ([]uint16, []uint16) {
	g := st.Grid
	m, ns := g.Size[0], g.Size[2]
	sc := st.Record.Scanner
	// Bias: 1 + linear and quadratic terms over the FOV (±15 % at the edges).
	bu, bv, bw, bq := uniform(r, -0.08, 0.08), uniform(r, -0.08, 0.08), uniform(r, -0.04, 0.04), uniform(r, -0.1, 0.0)
	bias := make([]float64, m*m*ns)
	for k := 0; k < ns; k++ {
		z := 2*float64(k)/float64(max(ns-1, 1)) - 1
		for j := 0; j < m; j++ {
			y := 2*float64(j)/float64(m-1) - 1
			for i := 0; i < m; i++ {
				x := 2*float64(i)/float64(m-1) - 1
				bias[i+m*(j+m*k)] = 1 + bu*x + bv*y + bw*z + bq*(x*x+y*y)
			}
		}
	}
	quant := func(sig []float64, gain, sigma float64) []uint16 {
		out := make([]uint16, len(sig))
		for i, s := range sig {
			re := s*bias[i] + sigma*r.NormFloat64()
			im := sigma * r.NormFloat64()
			v := gain*math.Sqrt(re*re+im*im) + 0.5 // ≥ 0.5, so truncation rounds
			out[i] = uint16(min(v, 4095))
		}
		return out
	}
	return quant(t1, sc.Scale, sc.NoiseSigma), quant(stir, sc.Scale*uniform(r, 0.95, 1.05), sc.NoiseSigma*1.2)
}

// perturbLabels makes reader 2 from reader 1: per side one of erode, dilate, or shift by one voxel
// in-plane (4-connected), at random. It visits only the labelled voxels and their neighbours.
func perturbLabels(r *rand.Rand, in *image.Labels) *image.Labels {
	g := in.Grid
	out := image.NewLabels(g)
	nb := [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}}
	var vox [3][][3]int
	for k := 0; k < g.Size[2]; k++ {
		for j := 0; j < g.Size[1]; j++ {
			for i := 0; i < g.Size[0]; i++ {
				if l := in.Data[g.Index(i, j, k)]; l == 1 || l == 2 {
					vox[l] = append(vox[l], [3]int{i, j, k})
				}
			}
		}
	}
	at := func(l uint8, i, j, k int) bool { return g.Contains(i, j, k) && in.Data[g.Index(i, j, k)] == l }
	set := func(l uint8, i, j, k int) {
		if g.Contains(i, j, k) && out.Data[g.Index(i, j, k)] == 0 {
			out.Data[g.Index(i, j, k)] = l
		}
	}
	for _, l := range []uint8{1, 2} {
		op := r.IntN(3)
		d := nb[r.IntN(4)]
		for _, v := range vox[l] {
			i, j, k := v[0], v[1], v[2]
			switch op {
			case 0: // erode: keep voxels whose four in-plane neighbours are labelled too
				keep := true
				for _, n := range nb {
					keep = keep && at(l, i+n[0], j+n[1], k)
				}
				if keep {
					set(l, i, j, k)
				}
			case 1: // dilate
				set(l, i, j, k)
				for _, n := range nb {
					set(l, i+n[0], j+n[1], k)
				}
			default: // shift by one voxel
				set(l, i+d[0], j+d[1], k)
			}
		}
	}
	return out
}
