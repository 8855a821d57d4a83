package report

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	dw "github.com/sacrum-dev/sacrum/pipeline/dcmwrite"
	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// SOP classes written or referenced by this package.
const (
	ComprehensiveSR3DStorage = "1.2.840.10008.5.1.4.1.1.88.34"
	ComprehensiveSRStorage   = "1.2.840.10008.5.1.4.1.1.88.33"
	EnhancedSRStorage        = "1.2.840.10008.5.1.4.1.1.88.22"
	SegmentationStorage      = "1.2.840.10008.5.1.4.1.1.66.4"
	SecondaryCaptureStorage  = "1.2.840.10008.5.1.4.1.1.7"
)

// Manufacturer is written as Manufacturer (0008,0070) of every result object. Together with
// DeviceSerialNumber (0018,1000) = Node.UID it lets a node recognise its own objects when a PACS
// routes them back (see IsOwnObject).
const Manufacturer = "sacrum"

// Disclaimer is written into every result object (SR TEXT item, SEG and card ImageComments,
// burned into the card).
const Disclaimer = "Research use only, not for diagnostic use."

// IsOwnObject reports whether an instance with these Manufacturer and DeviceSerialNumber values
// was written by the node whose UID is nodeUID.
func IsOwnObject(manufacturer, deviceSerialNumber, nodeUID string) bool {
	return strings.TrimSpace(manufacturer) == Manufacturer && nodeUID != "" &&
		strings.TrimSpace(deviceSerialNumber) == nodeUID
}

// InstanceRef is one source image. For multi-frame (Enhanced MR) sources Frame is the 1-based
// frame number of the slice; it is 0 for single-frame instances.
type InstanceRef struct {
	SOPClassUID    string
	SOPInstanceUID string
	Frame          int
}

// SeriesRef is a source series; Instances are in the order of the volume's k (slice) axis.
type SeriesRef struct {
	SeriesInstanceUID   string
	FrameOfReferenceUID string
	SeriesDescription   string
	Instances           []InstanceRef
}

// Source is the analysed study. The patient attributes are copied into the result objects and
// must never be logged.
type Source struct {
	StudyInstanceUID, AccessionNumber, StudyID, StudyDate, StudyTime, ReferringPhysician string
	PatientName, PatientID, PatientBirthDate, PatientSex                                 string
	STIR                                                                                 SeriesRef // the grid of Result.Labels
	T1                                                                                   SeriesRef // optional (no Instances: not referenced)
}

// Contribution is one input feature's contribution to a prediction.
type Contribution struct {
	Name  string
	Value float64 // the feature value used
	SHAP  float64 // exact SHAP value on the log-odds scale
}

// Prediction is the model output for one endpoint.
type Prediction struct {
	Endpoint    string  // "ASAS40" or "ASAS20" (upper case: it is also the Finding's code value)
	Probability float64 // predicted probability of response
	DLRScore    float64 // deep-learning-radiomics score (LASSO linear predictor)
	Threshold   float64 // decision threshold on Probability (Youden, from training)
	Responder   bool    // Probability >= Threshold
	Variant     string  // "DLRC", or "DLR-only" when clinical inputs were missing
	TopFeatures []Contribution
}

// Model identifies the algorithms.
type Model struct {
	Name, Version                         string // the DLRC model bundle
	SegmentationName, SegmentationVersion string // the segmentation model (unused when provided)
}

// Node identifies the device writing the objects.
type Node struct {
	UID             string // Device Observer UID and DeviceSerialNumber
	Name            string // Device Observer Name, e.g. the AE title
	SoftwareVersion string // sacrum version
}

// SOPRef names an instance of this study (used for a predecessor SR).
type SOPRef struct {
	SOPClassUID, SOPInstanceUID, SeriesInstanceUID string
}

// SRClass selects the SR SOP class.
type SRClass int

const (
	Comprehensive3D SRClass = iota // default
	Comprehensive
	Enhanced
)

func (c SRClass) sopClass() (string, error) {
	switch c {
	case Comprehensive3D:
		return ComprehensiveSR3DStorage, nil
	case Comprehensive:
		return ComprehensiveSRStorage, nil
	case Enhanced:
		return EnhancedSRStorage, nil
	}
	return "", fmt.Errorf("report: unknown SR class %d", c)
}

// ParseSRClass maps a configuration value ("comprehensive3d", "comprehensive", "enhanced") to an
// SRClass.
func ParseSRClass(s string) (SRClass, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "comprehensive3d", "comprehensive-3d", "comprehensive 3d":
		return Comprehensive3D, nil
	case "comprehensive":
		return Comprehensive, nil
	case "enhanced":
		return Enhanced, nil
	}
	return 0, fmt.Errorf("report: unknown SR class %q (want comprehensive3d, comprehensive or enhanced)", s)
}

// Options tune the output.
type Options struct {
	SRClass SRClass
	// SeriesNumber of the SR; the SEG gets SeriesNumber+1 and the card SeriesNumber+2.
	// 0 means 900.
	SeriesNumber int
	// AllFrames writes every slice of each segment into the SEG, not only the slices that hold
	// at least one voxel of the segment.
	AllFrames bool
}

// Result is everything needed to write the result objects of one processed study.
type Result struct {
	Source      Source
	Predictions []Prediction
	Labels      *image.Labels // on the STIR grid: 1 left SIJ region, 2 right (other values ignored)
	Provided    bool          // the segmentation came with the study (MANUAL, not the model)
	Heatmap     *image.Volume // class-activation map on the STIR grid; optional
	STIRVolume  *image.Volume // the STIR image for the card
	Model       Model
	Node        Node
	Predecessor *SOPRef // the previous SR of this study, when re-processed
	Options     Options
	UIDRoot     string    // organisation UID root; empty: 2.25 UUID-derived UIDs
	Now         time.Time // time of writing (content date/time; seeds the UIDs)
}

// ObjectRef is one written object.
type ObjectRef struct {
	Path              string // Part 10 file
	SOPClassUID       string
	SOPInstanceUID    string
	SeriesInstanceUID string
}

// Objects are the written result objects.
type Objects struct {
	SR, SEG, Card ObjectRef
}

// Write writes the SEG, the result card and the SR (which references the other two) into dir,
// named by their SOP Instance UIDs.
func Write(ctx context.Context, dir string, r *Result) (Objects, error) {
	var out Objects
	if err := ctx.Err(); err != nil {
		return out, err
	}
	if err := r.validate(); err != nil {
		return out, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return out, fmt.Errorf("report: %w", err)
	}
	u := r.uids()
	srClass, _ := r.Options.SRClass.sopClass()
	out.SEG = ObjectRef{filepath.Join(dir, "SEG-"+u.segSOP+".dcm"), SegmentationStorage, u.segSOP, u.segSeries}
	out.Card = ObjectRef{filepath.Join(dir, "SC-"+u.cardSOP+".dcm"), SecondaryCaptureStorage, u.cardSOP, u.cardSeries}
	out.SR = ObjectRef{filepath.Join(dir, "SR-"+u.srSOP+".dcm"), srClass, u.srSOP, u.srSeries}

	// The SEG first: the SR references it. On failure no object of the run is left behind.
	steps := []struct {
		name  string
		ref   ObjectRef
		build func() (dw.Dataset, error)
	}{
		{"SEG", out.SEG, func() (dw.Dataset, error) { return buildSEG(r, u) }},
		{"card", out.Card, func() (dw.Dataset, error) { return buildCard(r, u) }},
		{"SR", out.SR, func() (dw.Dataset, error) { return buildSR(r, u, out) }},
	}
	var written []string
	for _, s := range steps {
		err := ctx.Err()
		var d dw.Dataset
		if err == nil {
			d, err = s.build()
		}
		if err == nil {
			meta := dw.FileMeta{SOPClassUID: s.ref.SOPClassUID, SOPInstanceUID: s.ref.SOPInstanceUID}
			if err = dw.WriteFile(s.ref.Path, meta, d); err != nil {
				err = fmt.Errorf("report: %s: %w", s.name, err)
			}
		}
		if err != nil {
			for _, p := range written {
				os.Remove(p)
			}
			return Objects{}, err
		}
		written = append(written, s.ref.Path)
	}
	return out, nil
}

func (r *Result) validate() error {
	s := r.Source
	if s.StudyInstanceUID == "" {
		return errors.New("report: source has no StudyInstanceUID")
	}
	if s.STIR.SeriesInstanceUID == "" || s.STIR.FrameOfReferenceUID == "" {
		return errors.New("report: STIR series needs SeriesInstanceUID and FrameOfReferenceUID")
	}
	if r.Labels == nil {
		return errors.New("report: no label map")
	}
	if err := r.Labels.Validate(); err != nil {
		return fmt.Errorf("report: label map: %w", err)
	}
	if len(r.Labels.Data) != r.Labels.Len() {
		return fmt.Errorf("report: label map has %d voxels, grid %v needs %d", len(r.Labels.Data), r.Labels.Size, r.Labels.Len())
	}
	if n := len(s.STIR.Instances); n != r.Labels.Size[2] {
		return fmt.Errorf("report: STIR series lists %d instances, label map has %d slices", n, r.Labels.Size[2])
	}
	for i, in := range s.STIR.Instances {
		if in.SOPClassUID == "" || in.SOPInstanceUID == "" {
			return fmt.Errorf("report: STIR instance %d lacks SOP class or instance UID", i)
		}
	}
	for i, in := range s.T1.Instances {
		if in.SOPClassUID == "" || in.SOPInstanceUID == "" || s.T1.SeriesInstanceUID == "" {
			return fmt.Errorf("report: T1 instance %d lacks SOP class, instance or series UID", i)
		}
	}
	for _, v := range []*image.Volume{r.STIRVolume, r.Heatmap} {
		if v != nil && (!v.SameGrid(r.Labels.Grid, 1e-3) || len(v.Data) != v.Len()) {
			return fmt.Errorf("report: volume on grid %v is not on the label map's grid %v: %w", v.Size, r.Labels.Size, image.ErrGridMismatch)
		}
	}
	if r.STIRVolume == nil {
		return errors.New("report: no STIR volume for the result card")
	}
	if len(r.Predictions) == 0 {
		return errors.New("report: no predictions")
	}
	for _, p := range r.Predictions {
		if p.Endpoint == "" {
			return errors.New("report: prediction without endpoint")
		}
		if p.Variant != "DLRC" && p.Variant != "DLR-only" {
			return fmt.Errorf("report: %s: model variant %q (want DLRC or DLR-only)", p.Endpoint, p.Variant)
		}
		for _, x := range []float64{p.Probability, p.DLRScore, p.Threshold} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("report: %s: non-finite prediction value", p.Endpoint)
			}
		}
		if p.Probability < 0 || p.Probability > 1 {
			return fmt.Errorf("report: %s: probability %v outside [0, 1]", p.Endpoint, p.Probability)
		}
		for _, c := range p.TopFeatures {
			if math.IsNaN(c.SHAP) || math.IsInf(c.SHAP, 0) || math.IsNaN(c.Value) || math.IsInf(c.Value, 0) {
				return fmt.Errorf("report: %s: feature %q has a non-finite value", p.Endpoint, c.Name)
			}
		}
	}
	if r.Labels.Count(1)+r.Labels.Count(2) == 0 {
		return errors.New("report: label map is empty (no left or right SIJ voxel)")
	}
	if r.Node.UID == "" {
		return errors.New("report: node UID is empty")
	}
	if r.Now.IsZero() {
		return errors.New("report: Now is not set")
	}
	if _, err := r.Options.SRClass.sopClass(); err != nil {
		return err
	}
	if _, err := newUID(r.UIDRoot, "check"); err != nil {
		return err
	}
	if p := r.Predecessor; p != nil && (p.SOPClassUID == "" || p.SOPInstanceUID == "" || p.SeriesInstanceUID == "") {
		return errors.New("report: predecessor SR needs SOP class, instance and series UIDs")
	}
	return nil
}

// uidSet holds the UIDs of one run.
type uidSet struct {
	srSOP, srSeries, segSOP, segSeries, cardSOP, cardSeries string
	dimension                                               string
	tracking                                                map[string]string // by endpoint
}

// uids derives the run's UIDs from the study, the node and the time of writing, so the same
// inputs give the same objects (golden tests) and every run gives new ones.
func (r *Result) uids() uidSet {
	seed := r.Source.StudyInstanceUID + "|" + r.Node.UID + "|" + r.Now.UTC().Format(time.RFC3339Nano)
	mk := func(kind string) string { u, _ := newUID(r.UIDRoot, seed+"|"+kind); return u }
	u := uidSet{
		srSOP: mk("sr"), srSeries: mk("sr-series"),
		segSOP: mk("seg"), segSeries: mk("seg-series"),
		cardSOP: mk("card"), cardSeries: mk("card-series"),
		dimension: mk("dimension"), tracking: map[string]string{},
	}
	for _, p := range r.Predictions {
		u.tracking[p.Endpoint] = mk("tracking|" + p.Endpoint)
	}
	return u
}

// newUID derives a UID from seed: root + "." + 64 hash bits in decimal, or without a root the
// 2.25 form of 128 hash bits (PS3.5 §B.2).
func newUID(root, seed string) (string, error) {
	h := sha256.Sum256([]byte(seed))
	if root == "" {
		return "2.25." + new(big.Int).SetBytes(h[:16]).String(), nil
	}
	root = strings.TrimSuffix(root, ".")
	for _, c := range strings.Split(root, ".") {
		if c == "" || strings.Trim(c, "0123456789") != "" || (len(c) > 1 && c[0] == '0') {
			return "", fmt.Errorf("report: UID root %q is not a valid UID prefix", root)
		}
	}
	u := root + "." + new(big.Int).SetBytes(h[:8]).String()
	if len(u) > 64 {
		return "", fmt.Errorf("report: UID root %q too long (UIDs are at most 64 characters)", root)
	}
	return u, nil
}

// dicomDate and dicomTime format DA and TM values.
func dicomDate(t time.Time) string { return t.Format("20060102") }
func dicomTime(t time.Time) string { return t.Format("150405.000000") }

// commonModules are the Patient, General Study, General Series, General Equipment and SOP
// Common attributes shared by the three objects.
func commonModules(r *Result, sopClass, sopInstance, seriesUID, modality, seriesDescription string, seriesNumber int) dw.Dataset {
	s := r.Source
	now := r.Now
	model := r.Model.Name
	if r.Model.Version != "" {
		model += " " + r.Model.Version
	}
	var d dw.Dataset
	d = append(d,
		dw.Str(dw.T(0x0008, 0x0005), "CS", "ISO_IR 192"),
		dw.Str(dw.T(0x0008, 0x0012), "DA", dicomDate(now)),
		dw.Str(dw.T(0x0008, 0x0013), "TM", dicomTime(now)),
		dw.Str(dw.T(0x0008, 0x0016), "UI", sopClass),
		dw.Str(dw.T(0x0008, 0x0018), "UI", sopInstance),
		dw.Str(dw.T(0x0008, 0x0020), "DA", s.StudyDate),
		dw.Str(dw.T(0x0008, 0x0021), "DA", dicomDate(now)),
		dw.Str(dw.T(0x0008, 0x0023), "DA", dicomDate(now)),
		dw.Str(dw.T(0x0008, 0x0030), "TM", s.StudyTime),
		dw.Str(dw.T(0x0008, 0x0031), "TM", dicomTime(now)),
		dw.Str(dw.T(0x0008, 0x0033), "TM", dicomTime(now)),
		dw.Str(dw.T(0x0008, 0x0050), "SH", s.AccessionNumber),
		dw.Str(dw.T(0x0008, 0x0060), "CS", modality),
		dw.Str(dw.T(0x0008, 0x0070), "LO", Manufacturer),
		dw.Str(dw.T(0x0008, 0x0090), "PN", s.ReferringPhysician),
		dw.Str(dw.T(0x0008, 0x103E), "LO", dw.Truncate(seriesDescription, 64)),
		dw.Str(dw.T(0x0008, 0x1090), "LO", dw.Truncate(model, 64)),
		dw.Str(dw.T(0x0010, 0x0010), "PN", s.PatientName),
		dw.Str(dw.T(0x0010, 0x0020), "LO", s.PatientID),
		dw.Str(dw.T(0x0010, 0x0030), "DA", s.PatientBirthDate),
		dw.Str(dw.T(0x0010, 0x0040), "CS", s.PatientSex),
		dw.Str(dw.T(0x0018, 0x1000), "LO", r.Node.UID),
		dw.Str(dw.T(0x0018, 0x1020), "LO", dw.Truncate(r.Node.SoftwareVersion, 64)),
		dw.SQ(dw.T(0x0018, 0xA001), contributingEquipment(r)),
		dw.Str(dw.T(0x0020, 0x000D), "UI", s.StudyInstanceUID),
		dw.Str(dw.T(0x0020, 0x000E), "UI", seriesUID),
		dw.Str(dw.T(0x0020, 0x0010), "SH", s.StudyID),
		dw.Str(dw.T(0x0020, 0x0011), "IS", strconv.Itoa(seriesNumber)),
		dw.Str(dw.T(0x0020, 0x0013), "IS", "1"),
	)
	return d
}

// contributingEquipment names the algorithm (PS3.3 C.12.1.1.5; purpose 109102 Processing
// Equipment).
func contributingEquipment(r *Result) dw.Dataset {
	desc := "Prediction of TNF-inhibitor response (ASAS40, ASAS20) by " + r.Model.Name + " " + r.Model.Version
	return dw.Dataset{
		dw.Str(dw.T(0x0008, 0x0070), "LO", Manufacturer),
		dw.Str(dw.T(0x0008, 0x1090), "LO", dw.Truncate(strings.TrimSpace(r.Model.Name+" "+r.Model.Version), 64)),
		dw.Str(dw.T(0x0018, 0x1000), "LO", r.Node.UID),
		dw.Str(dw.T(0x0018, 0x1020), "LO", dw.Truncate(r.Node.SoftwareVersion, 64)),
		dw.Str(dw.T(0x0018, 0xA002), "DT", r.Now.UTC().Format("20060102150405.000000")+"+0000"),
		dw.Str(dw.T(0x0018, 0xA003), "ST", dw.Truncate(desc, 1024)),
		dw.Code{Value: "109102", Scheme: "DCM", Meaning: "Processing Equipment"}.Seq(dw.T(0x0040, 0xA170)),
	}
}

// seriesNumbers returns the SR, SEG and card series numbers.
func (o Options) seriesNumbers() (sr, seg, card int) {
	n := o.SeriesNumber
	if n <= 0 {
		n = 900
	}
	return n, n + 1, n + 2
}
