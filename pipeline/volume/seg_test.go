package volume

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// inROI is the test's segmentation: a box per side on slices 2–5 (segment 1 = right listed first to check
// that labels follow the segment labels, not their order).
func inROI(i, j, k int) uint8 {
	switch {
	case k < 2 || k > 5 || j < 8 || j >= 20:
		return 0
	case i >= 4 && i < 12:
		return LabelLeft
	case i >= 26 && i < 36:
		return LabelRight
	}
	return 0
}

// writeSEG writes a BINARY DICOM SEG over the spec's grid: one frame per (segment, slice) with a voxel set.
func writeSEG(t *testing.T, path string, s seriesSpec) {
	t.Helper()
	o := s.orientation()
	segNumber := map[uint8]int{LabelRight: 1, LabelLeft: 2}
	var bits []bool
	var perFrame [][]*dicom.Element
	for _, l := range []uint8{LabelRight, LabelLeft} {
		for k := 0; k < s.Slices; k++ {
			any := false
			frame := make([]bool, s.Rows*s.Cols)
			for j := 0; j < s.Rows; j++ {
				for i := 0; i < s.Cols; i++ {
					if inROI(i, j, k) == l {
						frame[i+s.Cols*j], any = true, true
					}
				}
			}
			if !any {
				continue
			}
			bits = append(bits, frame...)
			perFrame = append(perFrame, []*dicom.Element{
				mustElement(t, tag.PlanePositionSequence, [][]*dicom.Element{{mustElement(t, tag.ImagePositionPatient, dsList(pos3(s.position(k))...))}}),
				mustElement(t, tag.SegmentIdentificationSequence, [][]*dicom.Element{{mustElement(t, tag.ReferencedSegmentNumber, []int{segNumber[l]})}}),
			})
		}
	}
	px := make([]byte, (len(bits)+7)/8)
	for b, set := range bits {
		if set {
			px[b/8] |= 1 << (b % 8)
		}
	}
	if len(px)%2 == 1 {
		px = append(px, 0)
	}
	el := []*dicom.Element{
		mustElement(t, tag.MediaStorageSOPClassUID, []string{SOPClassSegment}),
		mustElement(t, tag.MediaStorageSOPInstanceUID, []string{"1.2.826.0.1.3680043.10.1.9.1"}),
		mustElement(t, tag.TransferSyntaxUID, []string{"1.2.840.10008.1.2.1"}),
		mustElement(t, tag.SOPClassUID, []string{SOPClassSegment}),
		mustElement(t, tag.SOPInstanceUID, []string{"1.2.826.0.1.3680043.10.1.9.1"}),
		mustElement(t, tag.Modality, []string{"SEG"}),
		mustElement(t, tag.SeriesDescription, []string{"SIJ ROI reader 1"}),
		mustElement(t, tag.ReferencedSeriesSequence, [][]*dicom.Element{{mustElement(t, tag.SeriesInstanceUID, []string{s.UID})}}),
		mustElement(t, tag.StudyInstanceUID, []string{"1.2.826.0.1.3680043.10.1.1"}),
		mustElement(t, tag.SeriesInstanceUID, []string{"1.2.826.0.1.3680043.10.1.9"}),
		mustElement(t, tag.SeriesNumber, []string{"99"}),
		mustElement(t, tag.InstanceNumber, []string{"1"}),
		mustElement(t, tag.SamplesPerPixel, []int{1}),
		mustElement(t, tag.PhotometricInterpretation, []string{"MONOCHROME2"}),
		mustElement(t, tag.NumberOfFrames, []string{strconv.Itoa(len(perFrame))}),
		mustElement(t, tag.Rows, []int{s.Rows}),
		mustElement(t, tag.Columns, []int{s.Cols}),
		mustElement(t, tag.BitsAllocated, []int{1}),
		mustElement(t, tag.BitsStored, []int{1}),
		mustElement(t, tag.HighBit, []int{0}),
		mustElement(t, tag.PixelRepresentation, []int{0}),
		mustElement(t, tag.SegmentationType, []string{"BINARY"}),
		mustElement(t, tag.SegmentSequence, [][]*dicom.Element{
			{mustElement(t, tag.SegmentNumber, []int{1}), mustElement(t, tag.SegmentLabel, []string{"Right SIJ ROI"})},
			{mustElement(t, tag.SegmentNumber, []int{2}), mustElement(t, tag.SegmentLabel, []string{"Left SIJ ROI"})},
		}),
		mustElement(t, tag.SharedFunctionalGroupsSequence, [][]*dicom.Element{{
			mustElement(t, tag.PlaneOrientationSequence, [][]*dicom.Element{{mustElement(t, tag.ImageOrientationPatient, dsList(o[:]...))}}),
			mustElement(t, tag.PixelMeasuresSequence, [][]*dicom.Element{{
				mustElement(t, tag.PixelSpacing, dsList(s.Pixel[0], s.Pixel[1])),
				mustElement(t, tag.SliceThickness, []string{ds(s.SliceGap)}),
			}}),
		}}),
		mustElement(t, tag.PerFrameFunctionalGroupsSequence, perFrame),
		mustElement(t, tag.PixelData, dicom.PixelDataInfo{IntentionallyUnprocessed: true, UnprocessedValueData: px}),
	}
	writeDataset(t, path, el)
}

// TestProvidedSegmentation: a DICOM SEG referencing the STIR series is chosen as the provided segmentation
// and mapped voxel for voxel onto the STIR grid, left and right by segment label.
func TestProvidedSegmentation(t *testing.T) {
	dir := t.TempDir()
	writeSeries(t, filepath.Join(dir, "stir"), oblique)
	writeSEG(t, filepath.Join(dir, "seg.dcm"), oblique)
	p := prepareDir(t, dir)
	if p.Selection.Segment == nil || p.Provided == nil {
		t.Fatalf("no provided segmentation found (decisions %+v)", p.Selection.Decisions)
	}
	g := p.STIR.Grid
	for k := 0; k < g.Size[2]; k++ {
		for j := 0; j < g.Size[1]; j++ {
			for i := 0; i < g.Size[0]; i++ {
				if got, want := p.Provided.Data[g.Index(i, j, k)], inROI(i, j, k); got != want {
					t.Fatalf("voxel (%d,%d,%d) = %d, want %d", i, j, k, got, want)
				}
			}
		}
	}
	var reason string
	for _, d := range p.Selection.Decisions {
		if d.Number == 99 {
			reason = d.Reason
		}
	}
	if reason != "provided segmentation: DICOM SEG referencing the STIR series" {
		t.Errorf("SEG decision %q", reason)
	}
}

// TestPrepareResamplesT1: a T1 series on another grid is resampled onto the STIR grid.
func TestPrepareResamplesT1(t *testing.T) {
	dir := t.TempDir()
	writeSeries(t, filepath.Join(dir, "stir"), oblique)
	t1 := oblique
	t1.UID, t1.Number, t1.Description, t1.Scanning, t1.TI = "1.2.826.0.1.3680043.10.1.4", 2, "T1_TSE_cor", "SE", 0
	t1.Pixel, t1.Cols, t1.Rows = [2]float64{0.4, 0.45}, 80, 64
	writeSeries(t, filepath.Join(dir, "t1"), t1)
	p := prepareDir(t, dir)
	if !p.T1Resampled || !p.T1.Grid.SameGrid(p.STIR.Grid, 1e-9) {
		t.Fatalf("T1 resampled %v, grid %+v, want the STIR grid %+v", p.T1Resampled, p.T1.Grid, p.STIR.Grid)
	}
	// STIR voxel (i, j) lies on T1 voxel (2i, 2j): same origin, half the spacing.
	for _, v := range [][3]int{{0, 0, 0}, {5, 7, 3}, {39, 31, 8}} {
		want := float64(t1.value(2*v[0], 2*v[1], v[2]))*t1.Slope + t1.Intercept
		if got := p.T1.At(v[0], v[1], v[2]); got != want {
			t.Errorf("T1 at STIR voxel %v = %g, want %g", v, got, want)
		}
	}
}

// prepareDir reads a folder and prepares it with the default selection.
func prepareDir(t *testing.T, dir string) *Prepared {
	t.Helper()
	st, err := ReadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(context.Background(), st, DefaultSelection())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPrepareFrameOfReference: T1 in another frame of reference cannot be put on the STIR grid.
func TestPrepareFrameOfReference(t *testing.T) {
	dir := t.TempDir()
	writeSeries(t, filepath.Join(dir, "stir"), oblique)
	t1 := oblique
	t1.UID, t1.Number, t1.Description, t1.Scanning, t1.TI = "1.2.826.0.1.3680043.10.1.4", 2, "T1_TSE_cor", "SE", 0
	writeSeries(t, filepath.Join(dir, "t1"), t1)
	st, err := ReadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st.Series {
		if s.Number == 2 {
			for _, in := range s.Instances {
				in.FrameOfReferenceUID = "1.2.826.0.1.3680043.10.1.77"
			}
		}
	}
	_, err = Prepare(context.Background(), st, DefaultSelection())
	if err == nil || !strings.Contains(err.Error(), `series 2 "T1_TSE_cor"`) || !strings.Contains(err.Error(), "FrameOfReferenceUID") {
		t.Fatalf("error %v, want the T1 series' frame of reference named", err)
	}
}
