package synth

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
)

// Record is one synthetic patient: the clinical row, the outcome, the generating model's true
// probabilities, the latent variables that drive the images, and the scanner.
type Record struct {
	Index     int // 0-based position in the cohort
	PatientID string
	StudyUID  string
	Accession string
	StudyDate string // YYYYMMDD
	BirthDate string // YYYYMMDD
	Name      string // DICOM PN, obviously synthetic

	Age              int
	Sex              string // "M" or "F"
	HLAB27           int    // 1 positive, 0 negative
	DiseaseDurationY float64
	CRP              float64 // mg/L
	ESR              int     // mm/h
	BASDAI           float64 // 0–10
	ASDASCRP         float64
	BASFI            float64 // 0–10

	ASAS20, ASAS40 bool
	Split          string // "train" or "test"

	P20, P40 float64 // true response probabilities of the generating model
	Latent   Latent
	Scanner  Scanner
}

// Latent holds the per-patient variables of the generating model.
type Latent struct {
	Inflammation  float64 // systemic inflammatory activity, z-score; drives CRP, ESR, BASDAI and (partly) oedema
	OedemaLeft    float64 // extent of periarticular bone-marrow oedema at the left SIJ, 0–1
	OedemaRight   float64 // same at the right SIJ
	Texture       float64 // heterogeneity of the oedema (0 diffuse … 1 focal, patchy), 0–1
	FatMetaplasia float64 // amount of subchondral fat metaplasia, 0–1
	Erosion       float64 // erosion burden, 0–1 (expected erosions per joint = 4 × Erosion)
	Sclerosis     float64 // subchondral sclerosis thickness, 0–1 (× 3 mm)
	Eta           float64 // linear predictor of response (logit scale)
	Response      float64 // latent response R = Eta + logistic noise; ASAS20 if R > T20, ASAS40 if R > T40
}

// Oedema is the mean oedema extent of both joints.
func (l Latent) Oedema() float64 { return (l.OedemaLeft + l.OedemaRight) / 2 }

// Scanner holds the acquisition parameters that vary between patients.
type Scanner struct {
	FieldStrength float64 // T: 1.5 or 3
	Model         string
	TiltDeg       float64 // oblique-coronal tilt of the slices from the coronal plane
	FOV           float64 // mm, square
	Scale         float64 // global receiver gain (both series)
	NoiseSigma    float64 // Rician noise σ in signal units before Scale
	Centre        [3]float64
}

// Model coefficients (documented in SYNTHETIC.md; the tests check the rates they imply).
const (
	T40 = 0.25  // threshold of the latent response for ASAS40
	T20 = -1.35 // threshold for ASAS20 (lower, so every ASAS40 responder is an ASAS20 responder)

	coefCRP       = 0.55  // per SD of ln(CRP+1)
	coefAge       = -0.35 // per 9 years
	coefHLAB27    = 0.50
	coefDuration  = -0.35 // per SD of ln(duration)
	coefBASFI     = -0.20 // per 2.5 points
	coefOedema    = 2.00  // per 0.2 of mean oedema extent
	coefTexture   = -0.30 // per 0.25 of texture
	coefFat       = -0.20 // per 0.25 of fat metaplasia
	meanOedema    = 0.40
	meanTexture   = 0.50
	meanFat       = 0.35
	meanLogCRP    = 2.45
	sdLogCRP      = 0.85
	meanLogDurati = 1.20
	sdLogDuration = 0.75
)

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func clamp(x, lo, hi float64) float64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// NewRecord draws patient idx of the cohort with the given seed. It does not depend on the cohort
// size, so patient 0 of a 1-patient cohort equals patient 0 of a 183-patient one (except the split).
func NewRecord(seed int64, idx int) Record {
	r := newRand(seed, fmt.Sprintf("clinical/%d", idx))
	z := r.NormFloat64
	rec := Record{Index: idx}
	rec.PatientID = fmt.Sprintf("SYN%04d", idx+1)
	rec.Name = fmt.Sprintf("SYNTHETIC^PATIENT %04d", idx+1)
	rec.StudyUID = uid(seed, fmt.Sprintf("study/%d", idx))
	rec.Accession = fmt.Sprintf("SYN%d%05d", seed%1000, idx+1)
	if seed < 0 {
		rec.Accession = fmt.Sprintf("SYNN%d%05d", (-seed)%1000, idx+1)
	}

	// Demographics (paper: 26.5 ± 9.0 years, 66 % male).
	if r.Float64() < 0.66 {
		rec.Sex = "M"
	} else {
		rec.Sex = "F"
	}
	// Shifted log-normal: mean 16 + 10.5 = 26.5, SD 9.0 (σ² = ln(1 + 9²/10.5²), μ = ln 10.5 − σ²/2).
	rec.Age = int(math.Round(clamp(16+math.Exp(2.076+0.742*z()), 16, 70)))
	if r.Float64() < 0.85 {
		rec.HLAB27 = 1
	}
	lnDur := meanLogDurati + sdLogDuration*z()
	rec.DiseaseDurationY = round1(clamp(math.Exp(lnDur), 0.2, float64(rec.Age-10)))

	// Inflammation drives the laboratory values and disease activity, and half of the oedema.
	l := &rec.Latent
	l.Inflammation = z()
	lnCRP := meanLogCRP + sdLogCRP*(0.7*l.Inflammation+0.71*z())
	rec.CRP = round1(clamp(math.Exp(lnCRP)-1, 0.1, 200))
	rec.ESR = int(math.Round(clamp(24+13*(0.6*l.Inflammation+0.8*z()), 2, 120)))
	q := func(mean, infl float64) float64 { return clamp(mean+1.3*infl*l.Inflammation+1.7*z(), 0, 10) }
	fatigue, spinal, peripheral, enthesis := q(5.4, 0.4), q(5.8, 0.6), q(3.6, 0.4), q(4.4, 0.4)
	stiffSev, stiffDur, global := q(5.2, 0.6), q(4.8, 0.6), q(5.6, 0.6)
	rec.BASDAI = round1((fatigue + spinal + peripheral + enthesis + (stiffSev+stiffDur)/2) / 5)
	// ASDAS-CRP (Lukas 2009): back pain, morning stiffness duration, patient global, peripheral pain/swelling, ln(CRP+1).
	rec.ASDASCRP = math.Round((0.12*spinal+0.06*stiffDur+0.11*global+0.07*peripheral+0.58*math.Log(rec.CRP+1))*100) / 100
	zDur := (math.Log(rec.DiseaseDurationY) - meanLogDurati) / sdLogDuration
	rec.BASFI = round1(clamp(3.6+0.8*zDur+0.45*(rec.BASDAI-5)+1.6*z(), 0, 10))

	// Imaging latents: oedema is half systemic inflammation, half local (not seen by the clinical variables).
	oz := 0.5*l.Inflammation + 0.87*z()
	oed := logistic(-0.5 + 1.25*oz)
	l.OedemaLeft = clamp(oed+0.08*z(), 0, 1)
	l.OedemaRight = clamp(oed+0.08*z(), 0, 1)
	l.Texture = clamp(0.5+0.25*z(), 0, 1)
	l.FatMetaplasia = logistic(-0.7 + 0.8*zDur + 0.8*z())
	l.Erosion = logistic(-0.6 + 0.5*zDur + 0.3*l.Inflammation + 0.8*z())
	l.Sclerosis = logistic(-0.9 + 0.7*zDur + 0.9*z())

	// Response: ordinal logistic on clinical variables and imaging.
	zCRP := (math.Log(rec.CRP+1) - meanLogCRP) / sdLogCRP
	l.Eta = coefCRP*zCRP + coefAge*(float64(rec.Age)-26.5)/9 + coefHLAB27*(float64(rec.HLAB27)-0.85) +
		coefDuration*zDur + coefBASFI*(rec.BASFI-3.6)/2.5 +
		coefOedema*(l.Oedema()-meanOedema)/0.2 + coefTexture*(l.Texture-meanTexture)/0.25 +
		coefFat*(l.FatMetaplasia-meanFat)/0.25
	rec.P40 = logistic(l.Eta - T40)
	rec.P20 = logistic(l.Eta - T20)
	u := clamp(r.Float64(), 1e-12, 1-1e-12)
	l.Response = l.Eta + math.Log(u/(1-u))
	rec.ASAS40 = l.Response > T40
	rec.ASAS20 = l.Response > T20

	// Scanner and geometry.
	s := &rec.Scanner
	if r.Float64() < 0.55 {
		s.FieldStrength, s.Model, s.NoiseSigma = 1.5, "SYNTH-MR 1.5T", 20+4*r.Float64()
	} else {
		s.FieldStrength, s.Model, s.NoiseSigma = 3, "SYNTH-MR 3T", 12+4*r.Float64()
	}
	s.TiltDeg = round1(20 + 15*r.Float64())
	s.FOV = 220 + 20*r.Float64()
	s.Scale = 0.9 + 0.2*r.Float64()
	s.Centre = [3]float64{round1(4 * z()), round1(30 + 6*z()), round1(-140 + 10*z())}

	// Dates: a study in 2024, a birth date consistent with the age.
	day := r.IntN(360)
	study := dateAdd(2024, day)
	rec.StudyDate = study
	rec.BirthDate = dateAdd(2024-rec.Age-1, day+1+r.IntN(360))
	return rec
}

// dateAdd returns YYYYMMDD of day d (0-based, may exceed a year) after 1 January of year y.
func dateAdd(y, d int) string {
	days := [12]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for {
		n := 365
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			n = 366
		}
		if d < n {
			break
		}
		d -= n
		y++
	}
	leap := y%4 == 0 && (y%100 != 0 || y%400 == 0)
	for m := 0; m < 12; m++ {
		n := days[m]
		if m == 1 && leap {
			n = 29
		}
		if d < n {
			return fmt.Sprintf("%04d%02d%02d", y, m+1, d+1)
		}
		d -= n
	}
	return fmt.Sprintf("%04d1231", y)
}

// NewCohort draws n patients and assigns the train/test split (4:1, stratified on ASAS40).
func NewCohort(seed int64, n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = NewRecord(seed, i)
	}
	AssignSplit(seed, recs)
	return recs
}

// AssignSplit puts round(n/5) patients of each ASAS40 class, chosen at random, in the test set.
func AssignSplit(seed int64, recs []Record) {
	r := newRand(seed, "split")
	for _, cls := range []bool{false, true} {
		var idx []int
		for i := range recs {
			if recs[i].ASAS40 == cls {
				idx = append(idx, i)
			}
		}
		r.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		nTest := int(math.Round(float64(len(idx)) / 5))
		if len(recs) == 1 {
			nTest = 0
		}
		for k, i := range idx {
			if k < nTest {
				recs[i].Split = "test"
			} else {
				recs[i].Split = "train"
			}
		}
	}
}

// ClinicalHeader is the header of clinical.csv (a contract other tools rely on).
var ClinicalHeader = []string{"patient_id", "study_uid", "accession", "age", "sex", "hla_b27", "disease_duration_y",
	"crp_mg_l", "esr_mm_h", "basdai", "asdas_crp", "basfi", "asas20", "asas40", "split"}

// TruthHeader is the header of truth.csv.
var TruthHeader = []string{"patient_id", "p_asas20", "p_asas40", "eta", "response", "inflammation", "oedema",
	"oedema_left", "oedema_right", "texture", "fat_metaplasia", "erosion", "sclerosis", "field_strength_t",
	"tilt_deg", "scale", "noise_sigma"}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func ff(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func f6(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }

// WriteClinicalCSV writes clinical.csv.
func WriteClinicalCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	cw.Write(ClinicalHeader)
	for _, p := range recs {
		cw.Write([]string{p.PatientID, p.StudyUID, p.Accession, strconv.Itoa(p.Age), p.Sex, strconv.Itoa(p.HLAB27),
			ff(p.DiseaseDurationY), ff(p.CRP), strconv.Itoa(p.ESR), ff(p.BASDAI), ff(p.ASDASCRP), ff(p.BASFI),
			b01(p.ASAS20), b01(p.ASAS40), p.Split})
	}
	cw.Flush()
	return cw.Error()
}

// WriteTruthCSV writes truth.csv.
func WriteTruthCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	cw.Write(TruthHeader)
	for _, p := range recs {
		l, s := p.Latent, p.Scanner
		cw.Write([]string{p.PatientID, f6(p.P20), f6(p.P40), f6(l.Eta), f6(l.Response), f6(l.Inflammation),
			f6(l.Oedema()), f6(l.OedemaLeft), f6(l.OedemaRight), f6(l.Texture), f6(l.FatMetaplasia), f6(l.Erosion),
			f6(l.Sclerosis), ff(s.FieldStrength), ff(s.TiltDeg), f6(s.Scale), f6(s.NoiseSigma)})
	}
	cw.Flush()
	return cw.Error()
}

// AUC is the area under the ROC curve of score for the binary outcome y (ties count one half),
// computed from the Mann–Whitney statistic. It returns NaN when a class is empty.
func AUC(score []float64, y []bool) float64 {
	type pair struct {
		s float64
		y bool
	}
	ps := make([]pair, len(score))
	for i := range score {
		ps[i] = pair{score[i], y[i]}
	}
	sort.Slice(ps, func(a, b int) bool { return ps[a].s < ps[b].s })
	var rankSum float64
	var nPos, nNeg int
	for i := 0; i < len(ps); {
		j := i
		for j < len(ps) && ps[j].s == ps[i].s {
			j++
		}
		avg := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if ps[k].y {
				rankSum += avg
				nPos++
			} else {
				nNeg++
			}
		}
		i = j
	}
	if nPos == 0 || nNeg == 0 {
		return math.NaN()
	}
	return (rankSum - float64(nPos*(nPos+1))/2) / float64(nPos*nNeg)
}

// rng helpers shared by the image code.
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
