package report

import (
	"fmt"
	dw "github.com/sacrum-dev/sacrum/pipeline/dcmwrite"
	"image/color"
	"math"
	"sort"
	"strconv"
)

// segment describes one SEG segment: label value in the label map = segment number.
type segment struct {
	number     uint16
	label      string
	laterality dw.Code
	colour     color.RGBA // RecommendedDisplayCIELabValue and the card's outline colour
}

// segments are the two SIJ regions of the label map (1 left, 2 right).
func segments() []segment {
	return []segment{
		{1, "Left sacroiliac joint region", codeLeft, color.RGBA{0, 200, 255, 255}},
		{2, "Right sacroiliac joint region", codeRight, color.RGBA{60, 230, 120, 255}},
	}
}

// segFrame is one SEG frame: a slice k of segment s.
type segFrame struct {
	segment uint16
	k       int
}

// segFrames lists the frames: per segment (in number order) the slices holding at least one
// voxel of it, or every slice with allFrames.
func segFrames(r *Result) []segFrame {
	g := r.Labels.Grid
	n := g.Size[0] * g.Size[1]
	var frames []segFrame
	for _, s := range segments() {
		if r.Labels.Count(uint8(s.number)) == 0 {
			continue
		}
		for k := 0; k < g.Size[2]; k++ {
			if r.Options.AllFrames || hasLabel(r.Labels.Data[k*n:(k+1)*n], uint8(s.number)) {
				frames = append(frames, segFrame{s.number, k})
			}
		}
	}
	return frames
}

func hasLabel(slice []uint8, l uint8) bool {
	for _, x := range slice {
		if x == l {
			return true
		}
	}
	return false
}

// packFrames packs the frames' binary masks 1 bit per pixel, least significant bit first, rows
// then columns, frames concatenated without padding between them (PS3.5 §8.1.1).
func packFrames(r *Result, frames []segFrame) []byte {
	g := r.Labels.Grid
	n := g.Size[0] * g.Size[1]
	out := make([]byte, (n*len(frames)+7)/8)
	bit := 0
	for _, f := range frames {
		slice := r.Labels.Data[f.k*n : (f.k+1)*n]
		for _, x := range slice {
			if x == uint8(f.segment) {
				out[bit>>3] |= 1 << (bit & 7)
			}
			bit++
		}
	}
	return out
}

// orientation returns ImageOrientationPatient (row then column direction cosines) of the grid.
func orientation(d [9]float64) []float64 {
	return []float64{d[0], d[3], d[6], d[1], d[4], d[7]}
}

// buildSEG assembles the Segmentation instance.
func buildSEG(r *Result, u uidSet) (dw.Dataset, error) {
	g := r.Labels.Grid
	if g.Size[0] > 0xFFFF || g.Size[1] > 0xFFFF {
		return nil, fmt.Errorf("report: SEG: %dx%d pixels exceed DICOM's 65535 rows or columns", g.Size[0], g.Size[1])
	}
	frames := segFrames(r)
	_, segNumber, _ := r.Options.seriesNumbers()
	d := commonModules(r, SegmentationStorage, u.segSOP, u.segSeries, "SEG", "sacrum SIJ regions SEG (research use only)", segNumber)

	algorithmType, algorithmName, algorithmVersion := "AUTOMATIC", r.Model.SegmentationName, r.Model.SegmentationVersion
	if r.Provided {
		algorithmType = "MANUAL"
	} else if algorithmName == "" {
		return nil, fmt.Errorf("report: SEG: automatic segmentation needs Model.SegmentationName")
	}
	var segItems []dw.Dataset
	for _, s := range segments() {
		typ := codeSIJ.Item()
		typ = append(typ, s.laterality.Seq(dw.T(0x0062, 0x0011)))
		item := dw.Dataset{
			dw.Code{Value: "91723000", Scheme: "SCT", Meaning: "Anatomical Structure"}.Seq(dw.T(0x0062, 0x0003)),
			dw.US(dw.T(0x0062, 0x0004), s.number),
			dw.Str(dw.T(0x0062, 0x0005), "LO", s.label),
			dw.Str(dw.T(0x0062, 0x0008), "CS", algorithmType),
			dw.US(dw.T(0x0062, 0x000D), cieLab(s.colour)...),
			dw.SQ(dw.T(0x0062, 0x000F), typ),
		}
		if !r.Provided {
			item = append(item, dw.Str(dw.T(0x0062, 0x0009), "LO", dw.Truncate(algorithmName, 64)))
			item = append(item, dw.SQ(dw.T(0x0062, 0x0007), dw.Dataset{
				dw.Code{Value: "123110", Scheme: "DCM", Meaning: "Artificial Intelligence"}.Seq(dw.T(0x0066, 0x002F)),
				dw.Str(dw.T(0x0066, 0x0031), "LO", dw.Truncate(algorithmVersion, 64)),
				dw.Str(dw.T(0x0066, 0x0036), "LO", dw.Truncate(algorithmName, 64)),
			}))
		}
		segItems = append(segItems, item)
	}

	// Dimension index values: the segment number and the 1-based rank of the frame's slice among
	// the slices that occur in the SEG.
	present := map[int]bool{}
	for _, f := range frames {
		present[f.k] = true
	}
	var ks []int
	for k := range present {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	rank := map[int]uint32{}
	for i, k := range ks {
		rank[k] = uint32(i + 1)
	}

	perFrame := make([]dw.Dataset, len(frames))
	for i, f := range frames {
		srcItem := sourceImage(r.Source.STIR.Instances[f.k])
		pos := g.Point(0, 0, float64(f.k))
		perFrame[i] = dw.Dataset{
			dw.SQ(dw.T(0x0008, 0x9124), dw.Dataset{
				dw.SQ(dw.T(0x0008, 0x2112), srcItem),
				dw.Code{Value: "113076", Scheme: "DCM", Meaning: "Segmentation"}.Seq(dw.T(0x0008, 0x9215)),
			}),
			dw.SQ(dw.T(0x0020, 0x9111), dw.Dataset{dw.UL(dw.T(0x0020, 0x9157), uint32(f.segment), rank[f.k])}),
			dw.SQ(dw.T(0x0020, 0x9113), dw.Dataset{dw.DS(dw.T(0x0020, 0x0032), pos[:]...)}),
			dw.SQ(dw.T(0x0062, 0x000A), dw.Dataset{dw.US(dw.T(0x0062, 0x000B), f.segment)}),
		}
	}
	shared := dw.Dataset{
		dw.SQ(dw.T(0x0020, 0x9116), dw.Dataset{dw.DS(dw.T(0x0020, 0x0037), orientation(g.Direction)...)}),
		dw.SQ(dw.T(0x0028, 0x9110), dw.Dataset{
			dw.DS(dw.T(0x0018, 0x0050), g.Spacing[2]),
			dw.DS(dw.T(0x0018, 0x0088), g.Spacing[2]),
			dw.DS(dw.T(0x0028, 0x0030), g.Spacing[1], g.Spacing[0]),
		}),
	}
	dimOrg := dw.Str(dw.T(0x0020, 0x9164), "UI", u.dimension)

	seen := map[string]bool{}
	var refs []dw.Dataset
	for _, in := range r.Source.STIR.Instances {
		if !seen[in.SOPInstanceUID] {
			seen[in.SOPInstanceUID] = true
			refs = append(refs, dw.Dataset{dw.Str(dw.T(0x0008, 0x1150), "UI", in.SOPClassUID), dw.Str(dw.T(0x0008, 0x1155), "UI", in.SOPInstanceUID)})
		}
	}

	d = append(d,
		dw.Str(dw.T(0x0008, 0x0008), "CS", "DERIVED", "PRIMARY"),
		dw.SQ(dw.T(0x0008, 0x1115), dw.Dataset{
			dw.SQ(dw.T(0x0008, 0x114A), refs...),
			dw.Str(dw.T(0x0020, 0x000E), "UI", r.Source.STIR.SeriesInstanceUID),
		}),
		dw.Str(dw.T(0x0020, 0x0052), "UI", r.Source.STIR.FrameOfReferenceUID),
		dw.Str(dw.T(0x0020, 0x1040), "LO"),
		dw.Str(dw.T(0x0020, 0x4000), "LT", Disclaimer),
		dw.SQ(dw.T(0x0020, 0x9221), dw.Dataset{dimOrg}),
		dw.SQ(dw.T(0x0020, 0x9222),
			dw.Dataset{dimOrg, dw.AT(dw.T(0x0020, 0x9165), dw.T(0x0062, 0x000B)), dw.AT(dw.T(0x0020, 0x9167), dw.T(0x0062, 0x000A)),
				dw.Str(dw.T(0x0020, 0x9421), "LO", "Segment Number")},
			dw.Dataset{dimOrg, dw.AT(dw.T(0x0020, 0x9165), dw.T(0x0020, 0x0032)), dw.AT(dw.T(0x0020, 0x9167), dw.T(0x0020, 0x9113)),
				dw.Str(dw.T(0x0020, 0x9421), "LO", "Image Position Patient")},
		),
		dw.Str(dw.T(0x0028, 0x0008), "IS", strconv.Itoa(len(frames))),
		dw.Str(dw.T(0x0062, 0x0001), "CS", "BINARY"),
		dw.SQ(dw.T(0x0062, 0x0002), segItems...),
		dw.Str(dw.T(0x0062, 0x0013), "CS", "NO"),
		dw.Str(dw.T(0x0070, 0x0080), "CS", "SIJ_REGIONS"),
		dw.Str(dw.T(0x0070, 0x0081), "LO", "SIJ regions; research use only, not for diagnosis"),
		dw.Str(dw.T(0x0070, 0x0084), "PN"),
		dw.SQ(dw.T(0x5200, 0x9229), shared),
		dw.SQ(dw.T(0x5200, 0x9230), perFrame...),
		dw.PixelDataBytes(packFrames(r, frames)),
	)
	d = append(d, imagePixel(1, "MONOCHROME2", g.Size[1], g.Size[0], 1)...)
	return d, nil
}

// imagePixel is the Image Pixel module of unsigned, uncompressed pixel data (PixelData itself
// apart), with Lossy Image Compression "00".
func imagePixel(samples int, photometric string, rows, cols, bits int) []dw.Element {
	return []dw.Element{
		dw.US(dw.T(0x0028, 0x0002), uint16(samples)),
		dw.Str(dw.T(0x0028, 0x0004), "CS", photometric),
		dw.US(dw.T(0x0028, 0x0010), uint16(rows)),
		dw.US(dw.T(0x0028, 0x0011), uint16(cols)),
		dw.US(dw.T(0x0028, 0x0100), uint16(bits)),
		dw.US(dw.T(0x0028, 0x0101), uint16(bits)),
		dw.US(dw.T(0x0028, 0x0102), uint16(bits-1)),
		dw.US(dw.T(0x0028, 0x0103), 0),
		dw.Str(dw.T(0x0028, 0x2110), "CS", "00"),
	}
}

// sourceImage is a Source Image Sequence item for a derived image (PS3.3 C.7.6.1.1.4).
func sourceImage(in InstanceRef) dw.Dataset {
	d := dw.Dataset{
		dw.Str(dw.T(0x0008, 0x1150), "UI", in.SOPClassUID),
		dw.Str(dw.T(0x0008, 0x1155), "UI", in.SOPInstanceUID),
		dw.Code{Value: "121322", Scheme: "DCM", Meaning: "Source image for image processing operation"}.Seq(dw.T(0x0040, 0xA170)),
	}
	if in.Frame > 0 {
		d = append(d, dw.Str(dw.T(0x0008, 0x1160), "IS", strconv.Itoa(in.Frame)))
	}
	return d
}

// cieLab converts an sRGB colour to DICOM's scaled CIELab (PS3.3 C.10.7.1.1: L 0–100 and a, b
// −128–127 mapped to 0–65535), D65 white point.
func cieLab(c color.RGBA) []uint16 {
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	r, g, b := lin(c.R), lin(c.G), lin(c.B)
	x := (0.4124*r + 0.3576*g + 0.1805*b) / 0.95047
	y := 0.2126*r + 0.7152*g + 0.0722*b
	z := (0.0193*r + 0.1192*g + 0.9505*b) / 1.08883
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	fx, fy, fz := f(x), f(y), f(z)
	L, A, B := 116*fy-16, 500*(fx-fy), 200*(fy-fz)
	scale := func(v, lo, hi float64) uint16 {
		s := math.Round((v - lo) / (hi - lo) * 65535)
		return uint16(math.Max(0, math.Min(65535, s)))
	}
	return []uint16{scale(L, 0, 100), scale(A, -128, 127), scale(B, -128, 127)}
}
