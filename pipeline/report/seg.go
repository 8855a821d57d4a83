package report

import (
	"fmt"
	"image/color"
	"math"

	dw "github.com/sacrum-dev/sacrum/pipeline/dcmwrite"
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

// orientation returns ImageOrientationPatient (row then column direction cosines) of the grid.
func orientation(d [9]float64) [6]float64 {
	return [6]float64{d[0], d[3], d[6], d[1], d[4], d[7]}
}

// buildSEG assembles the Segmentation instance: the common modules and dcmwrite's Segmentation
// modules for the two SIJ regions, AUTOMATIC with the segmentation model's identification or MANUAL
// when the segmentation came with the study.
func buildSEG(r *Result, u uidSet) (dw.Dataset, error) {
	g := r.Labels.Grid
	algorithmType, algorithmFamily := "AUTOMATIC", &dw.Code{Value: "123110", Scheme: "DCM", Meaning: "Artificial Intelligence"}
	if r.Provided {
		algorithmType, algorithmFamily = "MANUAL", nil
	} else if r.Model.SegmentationName == "" {
		return nil, fmt.Errorf("report: SEG: automatic segmentation needs Model.SegmentationName")
	}
	var segs []dw.Segment
	for _, s := range segments() {
		segs = append(segs, dw.Segment{
			Number: s.number, Label: s.label,
			Category:      dw.Code{Value: "91723000", Scheme: "SCT", Meaning: "Anatomical Structure"},
			Type:          codeSIJ,
			TypeModifier:  &s.laterality,
			AlgorithmType: algorithmType, AlgorithmName: r.Model.SegmentationName,
			AlgorithmFamily: algorithmFamily, AlgorithmVersion: r.Model.SegmentationVersion,
			Recommended: cieLab(s.colour),
		})
	}
	sources := make([]dw.SourceFrame, len(r.Source.STIR.Instances))
	for k, in := range r.Source.STIR.Instances {
		sources[k] = sourceFrame(in)
		sources[k].Position = g.Point(0, 0, float64(k))
	}
	seg, err := dw.SegmentationDataset(dw.SegmentationParams{
		Rows: g.Size[1], Columns: g.Size[0],
		PixelSpacing:   [2]float64{g.Spacing[1], g.Spacing[0]},
		SliceThickness: g.Spacing[2], SpacingBetweenSlices: g.Spacing[2],
		Orientation:         orientation(g.Direction),
		FrameOfReferenceUID: r.Source.STIR.FrameOfReferenceUID, SourceSeriesUID: r.Source.STIR.SeriesInstanceUID,
		Sources: sources, Segments: segs, Labels: r.Labels.Data, AllFrames: r.Options.AllFrames,
		DimensionOrganization: u.dimension,
		ContentLabel:          "SIJ_REGIONS", ContentDescription: "SIJ regions; research use only, not for diagnosis",
	})
	if err != nil {
		return nil, fmt.Errorf("report: SEG: %w", err)
	}
	_, segNumber, _ := r.Options.seriesNumbers()
	d := commonModules(r, SegmentationStorage, u.segSOP, u.segSeries, "SEG", "sacrum SIJ regions SEG (research use only)", segNumber)
	d = append(d, seg...)
	return append(d,
		dw.Str(dw.T(0x0020, 0x1040), "LO"), // Position Reference Indicator (Type 2)
		dw.Str(dw.T(0x0020, 0x4000), "LT", Disclaimer),
	), nil
}

// sourceFrame names a STIR slice: a single-frame instance or a frame of a multi-frame one.
func sourceFrame(in InstanceRef) dw.SourceFrame {
	return dw.SourceFrame{SOPClassUID: in.SOPClassUID, SOPInstanceUID: in.SOPInstanceUID, Frame: in.Frame}
}

// cieLab converts an sRGB colour to DICOM's scaled CIELab (PS3.3 C.10.7.1.1: L 0–100 and a, b
// −128–127 mapped to 0–65535), D65 white point.
func cieLab(c color.RGBA) [3]uint16 {
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
	return [3]uint16{scale(L, 0, 100), scale(A, -128, 127), scale(B, -128, 127)}
}
