package volume

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// seriesSpec describes a synthetic MR series written by writeSeries (test fixture generator).
type seriesSpec struct {
	UID         string
	Number      int
	Description string
	Scanning    string // ScanningSequence, e.g. `SE\IR`
	TI          float64
	Cols, Rows  int
	Slices      int
	Pixel       [2]float64 // row, column spacing
	SliceGap    float64    // distance between slice centres
	TiltDeg     float64    // rotation of a coronal plane about the left-right axis
	Origin      [3]float64
	Slope       float64
	Intercept   float64
	Skip        map[int]bool       // slice numbers not written (gaps)
	Orient      map[int][6]float64 // per-slice orientation override (mixed orientations)
}

func (s seriesSpec) orientation() [6]float64 {
	t := s.TiltDeg * math.Pi / 180
	return [6]float64{1, 0, 0, 0, math.Sin(t), -math.Cos(t)}
}

func (s seriesSpec) normal() [3]float64 {
	o := s.orientation()
	return cross(o[:3], o[3:])
}

// value is the stored pixel value of (i, j, k) (before rescale).
func (s seriesSpec) value(i, j, k int) uint16 {
	return uint16((i*7 + j*13 + k*101 + (i*j)%17) % 3000)
}

func (s seriesSpec) position(k int) [3]float64 {
	n := s.normal()
	var p [3]float64
	for r := range 3 {
		p[r] = s.Origin[r] + n[r]*s.SliceGap*float64(k)
	}
	return p
}

func ds(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func dsList(v ...float64) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = ds(x)
	}
	return out
}

func mustElement(t testing.TB, tg tag.Tag, v any) *dicom.Element {
	t.Helper()
	e, err := dicom.NewElement(tg, v)
	if err != nil {
		t.Fatalf("element %v: %v", tg, err)
	}
	return e
}

// writeSeries writes one classic MR file per slice into dir, in reverse order with shuffled names so that
// assembly cannot rely on file order.
func writeSeries(t testing.TB, dir string, s seriesSpec) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k := s.Slices - 1; k >= 0; k-- {
		if s.Skip[k] {
			continue
		}
		o := s.orientation()
		if ov, ok := s.Orient[k]; ok {
			o = ov
		}
		px := make([]byte, 2*s.Rows*s.Cols)
		for j := 0; j < s.Rows; j++ {
			for i := 0; i < s.Cols; i++ {
				binary.LittleEndian.PutUint16(px[2*(i+s.Cols*j):], s.value(i, j, k))
			}
		}
		sop := fmt.Sprintf("%s.%d", s.UID, k+1)
		el := []*dicom.Element{
			mustElement(t, tag.MediaStorageSOPClassUID, []string{SOPClassMR}),
			mustElement(t, tag.MediaStorageSOPInstanceUID, []string{sop}),
			mustElement(t, tag.TransferSyntaxUID, []string{"1.2.840.10008.1.2.1"}),
			mustElement(t, tag.SOPClassUID, []string{SOPClassMR}),
			mustElement(t, tag.SOPInstanceUID, []string{sop}),
			mustElement(t, tag.StudyDate, []string{"20260101"}),
			mustElement(t, tag.Modality, []string{"MR"}),
			mustElement(t, tag.SeriesDescription, []string{s.Description}),
			mustElement(t, tag.PatientName, []string{"SYNTHETIC^TEST"}),
			mustElement(t, tag.PatientID, []string{"T1"}),
			mustElement(t, tag.ScanningSequence, []string{s.Scanning}),
			mustElement(t, tag.SequenceVariant, []string{"SK"}),
			mustElement(t, tag.SliceThickness, []string{ds(s.SliceGap)}),
			mustElement(t, tag.RepetitionTime, []string{"4000"}),
			mustElement(t, tag.EchoTime, []string{"30"}),
			mustElement(t, tag.StudyInstanceUID, []string{"1.2.826.0.1.3680043.10.1.1"}),
			mustElement(t, tag.SeriesInstanceUID, []string{s.UID}),
			mustElement(t, tag.SeriesNumber, []string{strconv.Itoa(s.Number)}),
			mustElement(t, tag.InstanceNumber, []string{strconv.Itoa(k + 1)}),
			mustElement(t, tag.ImagePositionPatient, dsList(pos3(s.position(k))...)),
			mustElement(t, tag.ImageOrientationPatient, dsList(o[:]...)),
			mustElement(t, tag.FrameOfReferenceUID, []string{"1.2.826.0.1.3680043.10.1.2"}),
			mustElement(t, tag.SamplesPerPixel, []int{1}),
			mustElement(t, tag.PhotometricInterpretation, []string{"MONOCHROME2"}),
			mustElement(t, tag.Rows, []int{s.Rows}),
			mustElement(t, tag.Columns, []int{s.Cols}),
			mustElement(t, tag.PixelSpacing, dsList(s.Pixel[0], s.Pixel[1])),
			mustElement(t, tag.BitsAllocated, []int{16}),
			mustElement(t, tag.BitsStored, []int{16}),
			mustElement(t, tag.HighBit, []int{15}),
			mustElement(t, tag.PixelRepresentation, []int{0}),
			mustElement(t, tag.RescaleIntercept, []string{ds(s.Intercept)}),
			mustElement(t, tag.RescaleSlope, []string{ds(s.Slope)}),
			mustElement(t, tag.PixelData, dicom.PixelDataInfo{IntentionallyUnprocessed: true, UnprocessedValueData: px}),
		}
		if s.TI > 0 {
			el = append(el, mustElement(t, tag.InversionTime, []string{ds(s.TI)}))
		}
		writeDataset(t, filepath.Join(dir, fmt.Sprintf("f%03d.dcm", (k*7)%s.Slices+100*k)), el)
	}
}

func writeDataset(t testing.TB, path string, el []*dicom.Element) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := dicom.Write(f, dicom.Dataset{Elements: el}, dicom.SkipVRVerification()); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

// writeEnhanced writes the series as one Enhanced MR multi-frame file with per-frame plane positions and a
// shared orientation, pixel measures and rescale.
func writeEnhanced(t testing.TB, path string, s seriesSpec) {
	t.Helper()
	o := s.orientation()
	var px []byte
	var perFrame [][]*dicom.Element
	// Frames are written in descending order along the normal to exercise sorting.
	for k := s.Slices - 1; k >= 0; k-- {
		for j := 0; j < s.Rows; j++ {
			for i := 0; i < s.Cols; i++ {
				px = binary.LittleEndian.AppendUint16(px, s.value(i, j, k))
			}
		}
		perFrame = append(perFrame, []*dicom.Element{
			mustElement(t, tag.PlanePositionSequence, [][]*dicom.Element{{mustElement(t, tag.ImagePositionPatient, dsList(pos3(s.position(k))...))}}),
		})
	}
	shared := [][]*dicom.Element{{
		mustElement(t, tag.PlaneOrientationSequence, [][]*dicom.Element{{mustElement(t, tag.ImageOrientationPatient, dsList(o[:]...))}}),
		mustElement(t, tag.PixelMeasuresSequence, [][]*dicom.Element{{
			mustElement(t, tag.PixelSpacing, dsList(s.Pixel[0], s.Pixel[1])),
			mustElement(t, tag.SliceThickness, []string{ds(s.SliceGap)}),
		}}),
		mustElement(t, tag.PixelValueTransformationSequence, [][]*dicom.Element{{
			mustElement(t, tag.RescaleIntercept, []string{ds(s.Intercept)}),
			mustElement(t, tag.RescaleSlope, []string{ds(s.Slope)}),
			mustElement(t, tag.RescaleType, []string{"US"}),
		}}),
		mustElement(t, tag.MRModifierSequence, [][]*dicom.Element{{
			mustElement(t, tag.InversionTimes, []float64{s.TI}),
		}}),
	}}
	el := []*dicom.Element{
		mustElement(t, tag.MediaStorageSOPClassUID, []string{SOPClassEnhancedMR}),
		mustElement(t, tag.MediaStorageSOPInstanceUID, []string{s.UID + ".1"}),
		mustElement(t, tag.TransferSyntaxUID, []string{"1.2.840.10008.1.2.1"}),
		mustElement(t, tag.SOPClassUID, []string{SOPClassEnhancedMR}),
		mustElement(t, tag.SOPInstanceUID, []string{s.UID + ".1"}),
		mustElement(t, tag.Modality, []string{"MR"}),
		mustElement(t, tag.SeriesDescription, []string{s.Description}),
		mustElement(t, tag.EchoPulseSequence, []string{"SPIN"}),
		mustElement(t, tag.InversionRecovery, []string{"YES"}),
		mustElement(t, tag.StudyInstanceUID, []string{"1.2.826.0.1.3680043.10.1.1"}),
		mustElement(t, tag.SeriesInstanceUID, []string{s.UID}),
		mustElement(t, tag.SeriesNumber, []string{strconv.Itoa(s.Number)}),
		mustElement(t, tag.InstanceNumber, []string{"1"}),
		mustElement(t, tag.FrameOfReferenceUID, []string{"1.2.826.0.1.3680043.10.1.2"}),
		mustElement(t, tag.SamplesPerPixel, []int{1}),
		mustElement(t, tag.PhotometricInterpretation, []string{"MONOCHROME2"}),
		mustElement(t, tag.NumberOfFrames, []string{strconv.Itoa(s.Slices)}),
		mustElement(t, tag.Rows, []int{s.Rows}),
		mustElement(t, tag.Columns, []int{s.Cols}),
		mustElement(t, tag.BitsAllocated, []int{16}),
		mustElement(t, tag.BitsStored, []int{16}),
		mustElement(t, tag.HighBit, []int{15}),
		mustElement(t, tag.PixelRepresentation, []int{0}),
		mustElement(t, tag.SharedFunctionalGroupsSequence, shared),
		mustElement(t, tag.PerFrameFunctionalGroupsSequence, perFrame),
		mustElement(t, tag.PixelData, dicom.PixelDataInfo{IntentionallyUnprocessed: true, UnprocessedValueData: px}),
	}
	writeDataset(t, path, el)
}

func pos3(p [3]float64) []float64 { return p[:] }
