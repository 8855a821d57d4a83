package volume

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/sacrum-dev/sacrum/pipeline/dcmread"
)

// SOP classes the pipeline treats specially.
const (
	SOPClassMR         = "1.2.840.10008.5.1.4.1.1.4"
	SOPClassEnhancedMR = "1.2.840.10008.5.1.4.1.1.4.1"
	SOPClassSegment    = "1.2.840.10008.5.1.4.1.1.66.4"
	sopClassDICOMDIR   = "1.2.840.10008.1.3.10"
)

// Native (uncompressed) transfer syntaxes; compressed pixel data is refused with a clear error.
var nativeSyntaxes = map[string]binary.ByteOrder{
	"1.2.840.10008.1.2":   binary.LittleEndian, // implicit VR little endian
	"1.2.840.10008.1.2.1": binary.LittleEndian, // explicit VR little endian
	"1.2.840.10008.1.2.2": binary.BigEndian,    // explicit VR big endian (retired)
	deflatedSyntax:        binary.LittleEndian, // deflated explicit VR little endian (the parser inflates it)
}

// Instance is what the pipeline needs from one DICOM file: identity, the series attributes series selection
// looks at, and the image frames (one for classic MR, NumberOfFrames for Enhanced MR and SEG).
type Instance struct {
	Path                string
	SOPClassUID         string
	SOPInstanceUID      string
	StudyUID            string
	SeriesUID           string
	FrameOfReferenceUID string
	Modality            string
	SeriesDescription   string
	ProtocolName        string
	SeriesNumber        int
	InstanceNumber      int
	// ScanningSequence holds (0018,0020) values, e.g. ["SE","IR"]; for Enhanced MR it is derived from
	// EchoPulseSequence (SPIN → SE, GRADIENT → GR, BOTH → SE, GR) and InversionRecovery (YES → IR).
	ScanningSequence []string
	InversionTime    float64 // ms, 0 when absent
	RepetitionTime   float64 // ms
	EchoTime         float64 // ms
	Rows, Columns    int
	BitsAllocated    int
	Signed           bool // PixelRepresentation 1
	Frames           []Frame

	// DICOM SEG only: segment number → label, and the series the segmentation was derived from.
	Segments         map[int]string
	ReferencedSeries []string

	pixels []byte
	order  binary.ByteOrder
}

// Frame is one 2D image plane of an instance.
type Frame struct {
	Position       [3]float64 // ImagePositionPatient: centre of the first transmitted pixel, LPS mm
	Orientation    [6]float64 // ImageOrientationPatient: row direction then column direction
	PixelSpacing   [2]float64 // (between rows, between columns) mm
	SliceThickness float64
	Slope          float64
	Intercept      float64
	Segment        int // SEG: referenced segment number
	Number         int // frame index within the instance's pixel data (0-based)
}

// ParseFile reads one DICOM file. Pixel data is kept raw and decoded on assembly.
func ParseFile(path string) (in *Instance, err error) {
	// The parser is third-party code fed with files from the network: a panic on a malformed file must
	// become an error naming the file, not a crash of the node.
	defer func() {
		if r := recover(); r != nil {
			in, err = nil, fmt.Errorf("%s: malformed DICOM file (parser failed: %v)", path, r)
		}
	}()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := prescan(b); err != nil {
		return nil, fmt.Errorf("%s: not a readable DICOM file: %w", path, err)
	}
	ds, err := dicom.Parse(bytes.NewReader(b), int64(len(b)), nil, dicom.SkipProcessingPixelDataValue(), dicom.AllowMissingMetaElementGroupLength())
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable DICOM file: %w", path, err)
	}
	return fromDataset(path, &ds)
}

func fromDataset(path string, ds *dicom.Dataset) (*Instance, error) {
	el := ds.Elements
	in := &Instance{
		Path:                path,
		SOPClassUID:         dcmread.String(el, tag.SOPClassUID),
		SOPInstanceUID:      dcmread.String(el, tag.SOPInstanceUID),
		StudyUID:            dcmread.String(el, tag.StudyInstanceUID),
		SeriesUID:           dcmread.String(el, tag.SeriesInstanceUID),
		FrameOfReferenceUID: dcmread.String(el, tag.FrameOfReferenceUID),
		Modality:            dcmread.String(el, tag.Modality),
		SeriesDescription:   dcmread.String(el, tag.SeriesDescription),
		ProtocolName:        dcmread.String(el, tag.ProtocolName),
		SeriesNumber:        int(dcmread.Float(el, tag.SeriesNumber, 0)),
		InstanceNumber:      int(dcmread.Float(el, tag.InstanceNumber, 0)),
		ScanningSequence:    dcmread.Strings(el, tag.ScanningSequence),
		InversionTime:       dcmread.Float(el, tag.InversionTime, 0),
		RepetitionTime:      dcmread.Float(el, tag.RepetitionTime, 0),
		EchoTime:            dcmread.Float(el, tag.EchoTime, 0),
		Rows:                int(dcmread.Float(el, tag.Rows, 0)),
		Columns:             int(dcmread.Float(el, tag.Columns, 0)),
		BitsAllocated:       int(dcmread.Float(el, tag.BitsAllocated, 0)),
		Signed:              dcmread.Float(el, tag.PixelRepresentation, 0) == 1,
	}
	if in.SOPClassUID == sopClassDICOMDIR {
		return nil, fmt.Errorf("%s: %w", path, errDICOMDIR)
	}
	if in.SeriesUID == "" {
		return nil, fmt.Errorf("%s: SeriesInstanceUID (0020,000E) missing", path)
	}
	if in.Rows <= 0 || in.Columns <= 0 {
		return nil, fmt.Errorf("%s: Rows/Columns (0028,0010/0011) missing or zero: not an image", path)
	}
	switch in.BitsAllocated {
	case 1, 8, 16, 32:
	default:
		return nil, fmt.Errorf("%s: BitsAllocated (0028,0100) = %d is not supported", path, in.BitsAllocated)
	}
	if spp := dcmread.Float(el, tag.SamplesPerPixel, 1); spp != 1 {
		return nil, fmt.Errorf("%s: SamplesPerPixel (0028,0002) = %g: only greyscale images are supported", path, spp)
	}
	ts := dcmread.First(ds.Elements, tag.TransferSyntaxUID)
	order, ok := nativeSyntaxes[ts]
	if !ok {
		return nil, fmt.Errorf("%s: transfer syntax %q is compressed or unknown; send uncompressed (native) pixel data", path, ts)
	}
	in.order = order
	pe := dcmread.Find(el, tag.PixelData)
	if pe == nil {
		return nil, fmt.Errorf("%s: PixelData (7FE0,0010) missing", path)
	}
	pdi, ok := pe.Value.GetValue().(dicom.PixelDataInfo)
	if !ok || pdi.IsEncapsulated || !pdi.IntentionallyUnprocessed {
		return nil, fmt.Errorf("%s: PixelData (7FE0,0010) is encapsulated; only native pixel data is supported", path)
	}
	in.pixels = pdi.UnprocessedValueData

	nFrames := int(dcmread.Float(el, tag.NumberOfFrames, 1))
	if nFrames < 1 {
		return nil, fmt.Errorf("%s: NumberOfFrames (0028,0008) = %d", path, nFrames)
	}
	need := in.Rows * in.Columns * nFrames
	if in.BitsAllocated == 1 {
		need = (need + 7) / 8
	} else {
		need *= in.BitsAllocated / 8
	}
	if len(in.pixels) < need {
		return nil, fmt.Errorf("%s: PixelData (7FE0,0010) has %d bytes, %d×%d×%d frames need %d", path, len(in.pixels), in.Rows, in.Columns, nFrames, need)
	}

	shared := dcmread.Items(el, tag.SharedFunctionalGroupsSequence)
	perFrame := dcmread.Items(el, tag.PerFrameFunctionalGroupsSequence)
	enhanced := len(perFrame) > 0 || len(shared) > 0
	if in.SOPClassUID == SOPClassSegment {
		in.Segments = map[int]string{}
		for _, it := range dcmread.Items(el, tag.SegmentSequence) {
			in.Segments[int(dcmread.Float(it, tag.SegmentNumber, 0))] = dcmread.String(it, tag.SegmentLabel)
		}
		for _, it := range dcmread.Items(el, tag.ReferencedSeriesSequence) {
			in.ReferencedSeries = append(in.ReferencedSeries, dcmread.String(it, tag.SeriesInstanceUID))
		}
	}
	if !enhanced {
		f, err := classicFrame(el)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if nFrames != 1 {
			return nil, fmt.Errorf("%s: %d frames without per-frame functional groups", path, nFrames)
		}
		in.Frames = []Frame{f}
		return in, nil
	}
	if len(perFrame) != nFrames {
		return nil, fmt.Errorf("%s: PerFrameFunctionalGroupsSequence (5200,9230) has %d items for %d frames", path, len(perFrame), nFrames)
	}
	var sharedEl []*dicom.Element
	if len(shared) > 0 {
		sharedEl = shared[0]
	}
	if in.SOPClassUID == SOPClassEnhancedMR {
		in.enhancedSequence(el, sharedEl)
	}
	for n, pf := range perFrame {
		f, err := enhancedFrame(pf, sharedEl)
		if err != nil {
			return nil, fmt.Errorf("%s: frame %d: %w", path, n+1, err)
		}
		f.Number = n
		in.Frames = append(in.Frames, f)
	}
	return in, nil
}

var errDICOMDIR = errors.New("DICOMDIR media directory, not an image")

// classicFrame reads the image plane and rescale of a single-frame image.
func classicFrame(el []*dicom.Element) (Frame, error) {
	f := Frame{Slope: dcmread.Float(el, tag.RescaleSlope, 1), Intercept: dcmread.Float(el, tag.RescaleIntercept, 0)}
	if err := plane(el, el, el, &f); err != nil {
		return f, err
	}
	if f.Slope == 0 {
		f.Slope = 1
	}
	f.SliceThickness = dcmread.Float(el, tag.SliceThickness, 0)
	return f, nil
}

// enhancedFrame reads one frame's functional groups, falling back to the shared groups.
func enhancedFrame(pf, shared []*dicom.Element) (Frame, error) {
	group := func(seq tag.Tag) []*dicom.Element {
		if it := dcmread.Items(pf, seq); len(it) > 0 {
			return it[0]
		}
		if it := dcmread.Items(shared, seq); len(it) > 0 {
			return it[0]
		}
		return nil
	}
	f := Frame{Slope: 1}
	if err := plane(group(tag.PlanePositionSequence), group(tag.PlaneOrientationSequence), group(tag.PixelMeasuresSequence), &f); err != nil {
		return f, err
	}
	f.SliceThickness = dcmread.Float(group(tag.PixelMeasuresSequence), tag.SliceThickness, 0)
	if pv := group(tag.PixelValueTransformationSequence); pv != nil {
		f.Slope, f.Intercept = dcmread.Float(pv, tag.RescaleSlope, 1), dcmread.Float(pv, tag.RescaleIntercept, 0)
		if f.Slope == 0 {
			f.Slope = 1
		}
	}
	if si := group(tag.SegmentIdentificationSequence); si != nil {
		f.Segment = int(dcmread.Float(si, tag.ReferencedSegmentNumber, 0))
	}
	return f, nil
}

// enhancedSequence maps Enhanced MR sequence attributes onto the classic ones series selection uses.
func (in *Instance) enhancedSequence(el, shared []*dicom.Element) {
	if len(in.ScanningSequence) == 0 {
		switch strings.ToUpper(dcmread.String(el, tag.EchoPulseSequence)) {
		case "SPIN":
			in.ScanningSequence = append(in.ScanningSequence, "SE")
		case "GRADIENT":
			in.ScanningSequence = append(in.ScanningSequence, "GR")
		case "BOTH":
			in.ScanningSequence = append(in.ScanningSequence, "SE", "GR")
		}
		if strings.EqualFold(dcmread.String(el, tag.InversionRecovery), "YES") {
			in.ScanningSequence = append(in.ScanningSequence, "IR")
		}
	}
	lookup := func(seq, t tag.Tag) float64 {
		if it := dcmread.Items(shared, seq); len(it) > 0 {
			return dcmread.Float(it[0], t, 0)
		}
		return 0
	}
	if in.InversionTime == 0 {
		in.InversionTime = lookup(tag.MRModifierSequence, tag.InversionTimes)
	}
	if in.RepetitionTime == 0 {
		in.RepetitionTime = lookup(tag.MRTimingAndRelatedParametersSequence, tag.RepetitionTime)
	}
	if in.EchoTime == 0 {
		in.EchoTime = lookup(tag.MREchoSequence, tag.EffectiveEchoTime)
	}
}

// plane fills position, orientation and pixel spacing, each from its own element list.
func plane(pos, ori, meas []*dicom.Element, f *Frame) error {
	p := dcmread.Floats(pos, tag.ImagePositionPatient)
	if len(p) != 3 {
		return fmt.Errorf("ImagePositionPatient (0020,0032) has %d values, want 3", len(p))
	}
	o := dcmread.Floats(ori, tag.ImageOrientationPatient)
	if len(o) != 6 {
		return fmt.Errorf("ImageOrientationPatient (0020,0037) has %d values, want 6", len(o))
	}
	s := dcmread.Floats(meas, tag.PixelSpacing)
	if len(s) != 2 || !(s[0] > 0) || !(s[1] > 0) {
		return fmt.Errorf("PixelSpacing (0028,0030) = %v, want two positive values", s)
	}
	copy(f.Position[:], p)
	copy(f.Orientation[:], o)
	f.PixelSpacing = [2]float64{s[0], s[1]}
	for _, v := range append(append(p, o...), s...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.New("image plane attributes contain a non-finite value")
		}
	}
	r, c := o[:3], o[3:]
	if math.Abs(norm(r)-1) > 1e-2 || math.Abs(norm(c)-1) > 1e-2 || math.Abs(dot(r, c)) > 1e-2 {
		return fmt.Errorf("ImageOrientationPatient (0020,0037) = %v: row and column directions must be orthonormal", o)
	}
	return nil
}

// framePixels decodes frame n into dst (row-major, columns fastest) as stored values times slope plus intercept.
func (in *Instance) framePixels(n int, slope, intercept float64, dst []float64) {
	np := in.Rows * in.Columns
	off := n * np
	switch in.BitsAllocated {
	case 1:
		for p := 0; p < np; p++ {
			bit := off + p
			dst[p] = float64(in.pixels[bit>>3]>>(bit&7)&1)*slope + intercept
		}
	case 8:
		b := in.pixels[off : off+np]
		for p, v := range b {
			if in.Signed {
				dst[p] = float64(int8(v))*slope + intercept
			} else {
				dst[p] = float64(v)*slope + intercept
			}
		}
	case 16:
		b := in.pixels[2*off : 2*(off+np)]
		for p := range np {
			v := in.order.Uint16(b[2*p:])
			if in.Signed {
				dst[p] = float64(int16(v))*slope + intercept
			} else {
				dst[p] = float64(v)*slope + intercept
			}
		}
	case 32:
		b := in.pixels[4*off : 4*(off+np)]
		for p := range np {
			v := in.order.Uint32(b[4*p:])
			if in.Signed {
				dst[p] = float64(int32(v))*slope + intercept
			} else {
				dst[p] = float64(v)*slope + intercept
			}
		}
	}
}

func dot(a, b []float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func norm(a []float64) float64   { return math.Sqrt(dot(a, a)) }

func cross(a, b []float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
