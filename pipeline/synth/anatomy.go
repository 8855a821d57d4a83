package synth

import (
	"math"
	"math/rand/v2"
)

// The phantom is defined in the slice frame of the oblique-coronal stack, in millimetres from the
// centre of the field of view: u along the image rows (towards patient left), v down the image columns
// (inferior and posterior, along the long axis of the sacrum), w along the slice normal (posterior and
// superior). An oblique-coronal SIJ series is planned parallel to the sacrum, so the anatomy is simple
// in this frame and the tilt only enters the DICOM geometry.

// Tissue classes of the phantom.
const (
	tBackground uint8 = iota
	tFat
	tMuscle
	tMarrow
	tCortex
	tJoint
	tDisc
	tNerve
)

// Base signal of each tissue (arbitrary units before receiver gain): T1-weighted TSE and STIR.
// Fat is bright on T1 and suppressed on STIR; fluid is dark on T1 and bright on STIR.
var baseT1 = [...]float64{tBackground: 0, tFat: 820, tMuscle: 330, tMarrow: 560, tCortex: 70, tJoint: 300, tDisc: 280, tNerve: 420}
var baseSTIR = [...]float64{tBackground: 0, tFat: 55, tMuscle: 150, tMarrow: 110, tCortex: 40, tJoint: 260, tDisc: 620, tNerve: 320}

// Pathology signals.
const (
	oedemaSTIR  = 720 // fully oedematous marrow on STIR
	oedemaT1    = 0.5 // fraction of T1 marrow signal lost in fully oedematous marrow
	fatMetaT1   = 900 // fat metaplasia on T1
	fatMetaSTIR = 45
	scleroT1    = 95
	scleroSTIR  = 65
	erosionT1   = 240
	erosionSTIR = 600
	roiHalfMM   = 10.0 // half-width of the periarticular ROI across the joint
	cortexMM    = 1.4
)

// blob is a Gaussian bump in the slice frame.
type blob struct{ u, v, w, s2, amp float64 }

// sideAnatomy is the joint geometry and pathology of one side (0 = right, u < 0; 1 = left, u > 0).
type sideAnatomy struct {
	waveAmp, wavePhase float64
	skew               float64 // mm the joint line moves medially per mm posterior
	oedema             float64
	oedemaBlobs        []blob
	fatBlobs           []blob
	erosions           []blob
	sclerosisMM        float64
}

// anatomy is one patient's phantom.
type anatomy struct {
	du, dv                 float64 // offset of the anatomy from the FOV centre
	bodyU, bodyV           float64 // body ellipse semi-axes
	sacTop, sacBot         float64 // v extent of the sacrum
	sacHalfTop, sacHalfBot float64 // half-width of the sacrum at top and bottom
	sacThick               float64 // half-thickness of the sacrum along w (at the top)
	gap                    float64 // joint space width
	jointTop, jointBot     float64 // v extent of the auricular surface
	iliumTop, iliumWidth   float64
	iliumThick             float64
	texture                float64 // oedema heterogeneity 0–1
	fatStreak              float64
	side                   [2]sideAnatomy
}

const cosBorder = 0.958 // cosine of the slope of the sacral border (the joint line is ~17° from v)

func newAnatomy(r *rand.Rand, rec Record) *anatomy {
	a := &anatomy{
		du:         uniform(r, -6, 6),
		dv:         uniform(r, -8, 8),
		bodyU:      uniform(r, 118, 135),
		bodyV:      uniform(r, 220, 260),
		sacTop:     uniform(r, -72, -62),
		sacHalfTop: uniform(r, 48, 56),
		sacHalfBot: uniform(r, 14, 20),
		sacThick:   uniform(r, 20, 24),
		gap:        uniform(r, 2.2, 3.4),
		iliumWidth: uniform(r, 55, 70),
		iliumThick: uniform(r, 18, 22),
		texture:    rec.Latent.Texture,
		fatStreak:  uniform(r, -0.3, 0.3),
	}
	a.sacBot = a.sacTop + uniform(r, 125, 140)
	a.jointTop = a.sacTop + uniform(r, 4, 8)
	a.jointBot = a.sacTop + uniform(r, 100, 112)
	a.iliumTop = a.sacTop - uniform(r, 25, 40)
	lat := [2]float64{rec.Latent.OedemaRight, rec.Latent.OedemaLeft}
	for s := 0; s < 2; s++ {
		sd := &a.side[s]
		sd.waveAmp = uniform(r, 1.5, 3.5)
		sd.wavePhase = uniform(r, 0, 2*math.Pi)
		sd.skew = uniform(r, 0.15, 0.35)
		sd.oedema = lat[s]
		// Focal oedema (high texture) comes in few, tight lesions; diffuse oedema in many broad ones.
		nb := 3 + int(math.Round(5*(1-a.texture)))
		for b := 0; b < nb; b++ {
			sg := uniform(r, 7, 12) * (1.25 - 0.6*a.texture)
			sd.oedemaBlobs = append(sd.oedemaBlobs, a.jointBlob(r, s, sg, uniform(r, 0.6, 1.4), uniform(r, -4, 4)))
		}
		nf := int(math.Round(6 * rec.Latent.FatMetaplasia))
		for b := 0; b < nf; b++ {
			sd.fatBlobs = append(sd.fatBlobs, a.jointBlob(r, s, uniform(r, 2.5, 4.5), 1, uniform(r, -6, 6)))
		}
		ne := poisson(r, 4*rec.Latent.Erosion)
		for b := 0; b < ne; b++ {
			sd.erosions = append(sd.erosions, a.jointBlob(r, s, uniform(r, 1.5, 2.8), 1, uniform(r, -1.5, 1.5)))
		}
		sd.sclerosisMM = 3 * rec.Latent.Sclerosis * uniform(r, 0.8, 1.2)
	}
	return a
}

func poisson(r *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p < l {
			return k
		}
		k++
	}
}

// jointBlob places a blob on the joint line of side s, off the joint centre by off mm (negative: sacral side).
func (a *anatomy) jointBlob(r *rand.Rand, s int, sigma, amp, off float64) blob {
	v := uniform(r, a.jointTop+5, a.jointBot-5)
	w := uniform(r, -0.7, 0.7) * a.sacThick
	c := a.sacBorder(s, v, w) + a.gap/2 + off/cosBorder
	u := c
	if s == 0 {
		u = -c
	}
	return blob{u: u, v: v, w: w, s2: 2 * sigma * sigma, amp: amp}
}

// sacHalf is the half-width of the sacrum at v (a wedge, widest at S1).
func (a *anatomy) sacHalf(v float64) float64 {
	t := clamp((v-a.sacTop)/(a.sacBot-a.sacTop), 0, 1)
	return a.sacHalfTop + (a.sacHalfBot-a.sacHalfTop)*t
}

// sacBorder is the distance from the midline of the lateral border of the sacrum on side s.
func (a *anatomy) sacBorder(s int, v, w float64) float64 {
	sd := &a.side[s]
	return a.sacHalf(v) + sd.waveAmp*math.Sin(v/14+sd.wavePhase) - sd.skew*w
}

// voxel is what the first rendering pass learns about one voxel.
type voxel struct {
	tissue uint8
	side   int8    // -1 outside the periarticular band, else 0 right / 1 left
	bone   int8    // 0 sacrum, 1 ilium, -1 neither (joint space, soft tissue)
	depth  float64 // mm from the joint surface into the bone (bone voxels in the band)
	roi    bool
}

// classify returns the tissue at (u, v, w) (FOV-centred slice-frame mm) and its periarticular context.
func (a *anatomy) classify(u, v, w float64, planes float64) voxel {
	u -= a.du
	v -= a.dv
	vx := voxel{side: -1, bone: -1}
	e := (u/a.bodyU)*(u/a.bodyU) + (v/a.bodyV)*(v/a.bodyV)
	if e >= 1 {
		return vx
	}
	if e > (1-16/a.bodyU)*(1-16/a.bodyU) {
		vx.tissue = tFat
		return vx
	}
	s := 0
	au := -u
	if u > 0 {
		s, au = 1, u
	}
	// L5 vertebral body and the L5/S1 disc above the sacrum.
	if au < 25 && math.Abs(w) < 15 && v < a.sacTop && v > a.sacTop-40 {
		if v > a.sacTop-8 {
			vx.tissue = tDisc
			return vx
		}
		return a.bone(vx, minf(25-au, 15-math.Abs(w), v-(a.sacTop-40), a.sacTop-8-v))
	}
	b := a.sacBorder(s, v, w)
	// Sacrum: a wedge between sacTop and sacBot, thinning towards the tip.
	if v > a.sacTop && v < a.sacBot && au < b {
		th := a.sacThick * (1 - 0.45*(v-a.sacTop)/(a.sacBot-a.sacTop))
		if math.Abs(w) < th {
			// Sacral foramina: four pairs of nerve canals.
			fu := 0.55 * a.sacHalf(v)
			for f := 0; f < 4; f++ {
				fv := a.sacTop + 22 + float64(f)*25
				if (au-fu)*(au-fu)+(v-fv)*(v-fv) < 20 && v < a.sacBot-10 {
					vx.tissue = tNerve
					return vx
				}
			}
			d := (b - au) * cosBorder
			vx = a.bone(vx, minf(d, v-a.sacTop, a.sacBot-v, th-math.Abs(w)))
			if v > a.jointTop && v < a.jointBot && d < roiHalfMM+6 {
				vx.side, vx.bone, vx.depth = int8(s), 0, d
				vx.roi = d-a.gap/2 <= roiHalfMM && th-math.Abs(w) > 0
			}
			return vx
		}
	}
	// Ilium: medial border at the joint, diverging from the sacrum below the auricular surface.
	m := b + a.gap + 1.4*math.Max(0, v-a.jointBot)
	if v > a.iliumTop && v < a.jointBot+30 && au > m && au < m+a.iliumWidth {
		th := a.iliumThick - 0.08*(au-m)
		if math.Abs(w-2) < th {
			d := (au - m) * cosBorder
			vx = a.bone(vx, minf(d, m+a.iliumWidth-au, v-a.iliumTop, a.jointBot+30-v, th-math.Abs(w-2)))
			if v > a.jointTop && v < a.jointBot && d < roiHalfMM+6 {
				vx.side, vx.bone, vx.depth = int8(s), 1, d
				vx.roi = d+a.gap/2 <= roiHalfMM
			}
			return vx
		}
	}
	// Joint space between the auricular surfaces.
	if v > a.jointTop && v < a.jointBot && au >= b && au <= m && math.Abs(w) < a.sacThick*0.8 {
		vx.tissue, vx.side, vx.roi = tJoint, int8(s), true
		return vx
	}
	// Intermuscular fat planes: a thin level set of the smooth texture field.
	if math.Abs(planes-a.fatStreak) < 0.04 {
		vx.tissue = tFat
	} else {
		vx.tissue = tMuscle
	}
	return vx
}

func (a *anatomy) bone(vx voxel, inside float64) voxel {
	if inside < cortexMM {
		vx.tissue = tCortex
	} else {
		vx.tissue = tMarrow
	}
	return vx
}

func minf(x ...float64) float64 {
	m := x[0]
	for _, y := range x[1:] {
		m = math.Min(m, y)
	}
	return m
}

func blobSum(bs []blob, u, v, w float64) float64 {
	var s float64
	for _, b := range bs {
		d2 := (u-b.u)*(u-b.u) + (v-b.v)*(v-b.v) + (w-b.w)*(w-b.w)
		if d2 < 9*b.s2 {
			s += b.amp * math.Exp(-d2/b.s2)
		}
	}
	return s
}
