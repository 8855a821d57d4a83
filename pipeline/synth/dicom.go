package synth

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	dw "github.com/sacrum-dev/sacrum/pipeline/dcmwrite"
	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// Series is one generated MR series: its protocol and the stored pixels.
type Series struct {
	Number      int
	Role        string // "t1" or "stir"
	Description string
	Protocol    string
	SequenceNam string
	ScanSeq     string // ScanningSequence
	Variant     string // SequenceVariant
	TR, TE, TI  float64
	ETL         int
	Flip        float64
	Window      [2]float64 // centre, width
	StartTime   int        // seconds after the study time
}

// Series numbers and descriptions of the protocol.
const (
	SeriesT1   = 2
	SeriesSTIR = 3
	SeriesSEG  = 100
)

// Series returns the protocol of both MR series (T1 first), adapted to the field strength.
func (st *Study) Series() []Series {
	fs := st.Record.Scanner.FieldStrength
	t1 := Series{Number: SeriesT1, Role: "t1", Description: "T1 TSE COR OBL", Protocol: "SIJ T1 TSE COR OBL",
		SequenceNam: "*tse2d1_3", ScanSeq: "SE", Variant: `SK\SP\OSP`, TR: 550, TE: 11, ETL: 3, Flip: 150,
		Window: [2]float64{600, 1200}, StartTime: 95}
	stir := Series{Number: SeriesSTIR, Role: "stir", Description: "STIR COR OBL", Protocol: "SIJ STIR COR OBL",
		SequenceNam: "*tir2d1_13", ScanSeq: `SE\IR`, Variant: `SK\SP\MP\OSP`, TR: 4000, TE: 45, TI: 160, ETL: 13,
		Flip: 150, Window: [2]float64{350, 800}, StartTime: 310}
	if fs >= 3 {
		t1.TR, t1.TE = 700, 10
		stir.TR, stir.TE, stir.TI = 5200, 42, 230
	}
	return []Series{t1, stir}
}

func (st *Study) pixels(role string) []uint16 {
	if role == "t1" {
		return st.T1
	}
	return st.STIR
}

func (st *Study) uid(role string) string {
	return uid(st.seed, fmt.Sprintf("%s/%d", role, st.Record.Index))
}

// InstanceUID is the SOPInstanceUID of slice k (0-based) of a series role ("t1" or "stir").
func (st *Study) InstanceUID(role string, k int) string {
	return uid(st.seed, fmt.Sprintf("%s/%d/%d", role, st.Record.Index, k))
}

// SeriesUID is the SeriesInstanceUID of a series role ("t1", "stir" or "seg").
func (st *Study) SeriesUID(role string) string { return st.uid("series/" + role) }

// FrameOfReferenceUID is shared by both MR series and the SEG.
func (st *Study) FrameOfReferenceUID() string { return st.uid("for") }

func tm(sec int) string { return fmt.Sprintf("%02d%02d%02d", sec/3600, sec/60%60, sec%60) }

func (st *Study) studySeconds() int { return 8*3600 + (st.Record.Index*977)%(9*3600) }

// common holds the Patient, General Study, Patient Study and General Equipment attributes.
func (st *Study) common() dw.Dataset {
	p := st.Record
	return dw.Dataset{
		dw.Str(dw.T(0x0008, 0x0005), "CS", "ISO_IR 100"),
		dw.Str(dw.T(0x0008, 0x0020), "DA", p.StudyDate),
		dw.Str(dw.T(0x0008, 0x0030), "TM", tm(st.studySeconds())),
		dw.Str(dw.T(0x0008, 0x0050), "SH", p.Accession),
		dw.Str(dw.T(0x0008, 0x0080), "LO", "Synthetic Data Hospital"),
		dw.Str(dw.T(0x0008, 0x0090), "PN", ""),
		dw.Str(dw.T(0x0008, 0x1030), "LO", "MRI SACROILIAC JOINTS (SYNTHETIC)"),
		dw.Str(dw.T(0x0010, 0x0010), "PN", p.Name),
		dw.Str(dw.T(0x0010, 0x0020), "LO", p.PatientID),
		dw.Str(dw.T(0x0010, 0x0030), "DA", p.BirthDate),
		dw.Str(dw.T(0x0010, 0x0040), "CS", p.Sex),
		dw.Str(dw.T(0x0010, 0x1010), "AS", fmt.Sprintf("%03dY", p.Age)),
		dw.Str(dw.T(0x0010, 0x4000), "LT", "Synthetic patient made by sacrum synth; not a real person."),
		dw.Str(dw.T(0x0020, 0x000D), "UI", p.StudyUID),
		dw.Str(dw.T(0x0020, 0x0010), "SH", fmt.Sprintf("S%d", p.Index+1)),
	}
}

func (st *Study) equipment() dw.Dataset {
	return dw.Dataset{
		dw.Str(dw.T(0x0008, 0x0070), "LO", "sacrum synthetic"),
		dw.Str(dw.T(0x0008, 0x1010), "SH", "SYNTHMR"),
		dw.Str(dw.T(0x0008, 0x1090), "LO", st.Record.Scanner.Model),
		dw.Str(dw.T(0x0018, 0x1000), "LO", "SYNTH-0001"),
		dw.Str(dw.T(0x0018, 0x1020), "LO", "sacrum synth 1"),
	}
}

// MRDataset builds the MR Image IOD for slice k of series s.
func (st *Study) MRDataset(s Series, k int) dw.Dataset {
	g := st.Grid
	sc := st.Record.Scanner
	m := g.Size[0]
	pos := st.slicePosition(k)
	acq := st.studySeconds() + s.StartTime
	// Slice location: signed distance of the slice along the normal from the stack centre.
	loc := (float64(k) - float64(g.Size[2]-1)/2) * g.Spacing[2]
	px := st.pixels(s.Role)[k*m*m : (k+1)*m*m]
	ds := st.common()
	ds = append(ds, st.equipment()...)
	ds = append(ds,
		dw.Str(dw.T(0x0008, 0x0008), "CS", "ORIGINAL", "PRIMARY", "OTHER"),
		dw.Str(dw.T(0x0008, 0x0016), "UI", dw.MRImageStorage),
		dw.Str(dw.T(0x0008, 0x0018), "UI", st.InstanceUID(s.Role, k)),
		dw.Str(dw.T(0x0008, 0x0021), "DA", st.Record.StudyDate),
		dw.Str(dw.T(0x0008, 0x0022), "DA", st.Record.StudyDate),
		dw.Str(dw.T(0x0008, 0x0023), "DA", st.Record.StudyDate),
		dw.Str(dw.T(0x0008, 0x0031), "TM", tm(acq)),
		dw.Str(dw.T(0x0008, 0x0032), "TM", tm(acq)),
		dw.Str(dw.T(0x0008, 0x0033), "TM", tm(acq)),
		dw.Str(dw.T(0x0008, 0x0060), "CS", "MR"),
		dw.Str(dw.T(0x0008, 0x103E), "LO", s.Description),
		dw.Str(dw.T(0x0018, 0x0015), "CS", "PELVIS"),
		dw.Str(dw.T(0x0018, 0x0020), "CS", s.ScanSeq),
		dw.Str(dw.T(0x0018, 0x0021), "CS", s.Variant),
		dw.Str(dw.T(0x0018, 0x0022), "CS", "PFP"),
		dw.Str(dw.T(0x0018, 0x0023), "CS", "2D"),
		dw.Str(dw.T(0x0018, 0x0024), "SH", s.SequenceNam),
		dw.Str(dw.T(0x0018, 0x0025), "CS", "N"),
		dw.DS(dw.T(0x0018, 0x0050), SliceThickness),
		dw.DS(dw.T(0x0018, 0x0080), s.TR),
		dw.DS(dw.T(0x0018, 0x0081), s.TE),
		dw.DS(dw.T(0x0018, 0x0083), 1),
		dw.DS(dw.T(0x0018, 0x0084), math.Round(42.577478*sc.FieldStrength*1e4)/1e4),
		dw.Str(dw.T(0x0018, 0x0085), "SH", "1H"),
		dw.IS(dw.T(0x0018, 0x0086), 1),
		dw.DS(dw.T(0x0018, 0x0087), sc.FieldStrength),
		dw.DS(dw.T(0x0018, 0x0088), g.Spacing[2]),
		dw.IS(dw.T(0x0018, 0x0091), s.ETL),
		dw.DS(dw.T(0x0018, 0x0093), 80),
		dw.DS(dw.T(0x0018, 0x0094), 80),
		dw.DS(dw.T(0x0018, 0x0095), 190),
		dw.Str(dw.T(0x0018, 0x1030), "LO", s.Protocol),
		dw.Str(dw.T(0x0018, 0x1250), "SH", "Spine/Body"),
		dw.Str(dw.T(0x0018, 0x1251), "SH", "Body"),
		dw.US(dw.T(0x0018, 0x1310), 0, uint16(m), uint16(m*4/5), 0),
		dw.Str(dw.T(0x0018, 0x1312), "CS", "ROW"),
		dw.DS(dw.T(0x0018, 0x1314), s.Flip),
		dw.Str(dw.T(0x0018, 0x5100), "CS", "HFS"),
		dw.Str(dw.T(0x0020, 0x000E), "UI", st.SeriesUID(s.Role)),
		dw.IS(dw.T(0x0020, 0x0011), s.Number),
		dw.IS(dw.T(0x0020, 0x0012), 1),
		dw.IS(dw.T(0x0020, 0x0013), k+1),
		dw.DS(dw.T(0x0020, 0x0032), pos[:]...),
		dw.DS(dw.T(0x0020, 0x0037), g.Direction[0], g.Direction[3], g.Direction[6], g.Direction[1], g.Direction[4], g.Direction[7]),
		dw.Str(dw.T(0x0020, 0x0052), "UI", st.FrameOfReferenceUID()),
		dw.Str(dw.T(0x0020, 0x1040), "LO", "IC"),
		dw.DS(dw.T(0x0020, 0x1041), loc),
		dw.US(dw.T(0x0028, 0x0002), 1),
		dw.Str(dw.T(0x0028, 0x0004), "CS", "MONOCHROME2"),
		dw.US(dw.T(0x0028, 0x0010), uint16(g.Size[1])),
		dw.US(dw.T(0x0028, 0x0011), uint16(g.Size[0])),
		dw.DS(dw.T(0x0028, 0x0030), g.Spacing[1], g.Spacing[0]),
		dw.US(dw.T(0x0028, 0x0100), 16),
		dw.US(dw.T(0x0028, 0x0101), 12),
		dw.US(dw.T(0x0028, 0x0102), 11),
		dw.US(dw.T(0x0028, 0x0103), 0),
		dw.Str(dw.T(0x0028, 0x0301), "CS", "NO"),
		dw.DS(dw.T(0x0028, 0x1050), s.Window[0]),
		dw.DS(dw.T(0x0028, 0x1051), s.Window[1]),
		dw.PixelData16(px),
	)
	if s.TI > 0 {
		ds = append(ds, dw.DS(dw.T(0x0018, 0x0082), s.TI))
	}
	return ds
}

// Segments are the two segments of the reader-1 SEG (label 1 = left, 2 = right).
func Segments() []dw.Segment {
	cat := dw.Code{Value: "91723000", Scheme: "SCT", Meaning: "Anatomical Structure"}
	typ := dw.Code{Value: "39723000", Scheme: "SCT", Meaning: "Sacroiliac joint"}
	left := dw.Code{Value: "7771000", Scheme: "SCT", Meaning: "Left"}
	right := dw.Code{Value: "24028007", Scheme: "SCT", Meaning: "Right"}
	return []dw.Segment{
		{Number: 1, Label: "Left SIJ periarticular ROI", Category: cat, Type: typ, TypeModifier: &left,
			AlgorithmType: "MANUAL", Recommended: [3]uint16{43802, 39050, 53650}},
		{Number: 2, Label: "Right SIJ periarticular ROI", Category: cat, Type: typ, TypeModifier: &right,
			AlgorithmType: "MANUAL", Recommended: [3]uint16{56000, 23000, 49000}},
	}
}

// SEGDataset builds the DICOM Segmentation of reader 1, referencing the STIR instances.
func (st *Study) SEGDataset() (dw.Dataset, error) {
	g := st.Grid
	var stir Series
	for _, s := range st.Series() {
		if s.Role == "stir" {
			stir = s
		}
	}
	src := make([]dw.SourceFrame, g.Size[2])
	for k := range src {
		src[k] = dw.SourceFrame{SOPClassUID: dw.MRImageStorage, SOPInstanceUID: st.InstanceUID(stir.Role, k), Position: st.slicePosition(k)}
	}
	t := tm(st.studySeconds() + 3600)
	seg, err := dw.SegmentationDataset(dw.SegmentationParams{
		Rows: g.Size[1], Columns: g.Size[0],
		PixelSpacing:   [2]float64{g.Spacing[1], g.Spacing[0]},
		SliceThickness: SliceThickness, SpacingBetweenSlices: g.Spacing[2],
		Orientation:         [6]float64{g.Direction[0], g.Direction[3], g.Direction[6], g.Direction[1], g.Direction[4], g.Direction[7]},
		FrameOfReferenceUID: st.FrameOfReferenceUID(), SourceSeriesUID: st.SeriesUID(stir.Role), Sources: src,
		Segments: Segments(), Labels: st.Reader1.Data, DimensionOrganization: st.uid("dimorg"),
		ContentLabel: "READER1", ContentDescription: "Periarticular SIJ ROI, reader 1 (synthetic ground truth)",
		ContentCreatorName: "SYNTHETIC^READER1",
	})
	if err != nil {
		return nil, err
	}
	ds := st.common()
	ds = append(ds, seg...)
	ds = append(ds,
		dw.Str(dw.T(0x0008, 0x0016), "UI", dw.SegmentationStorage),
		dw.Str(dw.T(0x0008, 0x0018), "UI", st.uid("seg")),
		dw.Str(dw.T(0x0008, 0x0021), "DA", st.Record.StudyDate),
		dw.Str(dw.T(0x0008, 0x0023), "DA", st.Record.StudyDate),
		dw.Str(dw.T(0x0008, 0x0031), "TM", t),
		dw.Str(dw.T(0x0008, 0x0033), "TM", t),
		dw.Str(dw.T(0x0008, 0x0060), "CS", "SEG"),
		dw.Str(dw.T(0x0008, 0x0070), "LO", "sacrum"),
		dw.Str(dw.T(0x0008, 0x103E), "LO", "SIJ ROI reader 1"),
		dw.Str(dw.T(0x0008, 0x1090), "LO", "sacrum synth"),
		dw.Str(dw.T(0x0018, 0x1000), "LO", "0"),
		dw.Str(dw.T(0x0018, 0x1020), "LO", "sacrum synth 1"),
		dw.Str(dw.T(0x0020, 0x000E), "UI", st.SeriesUID("seg")),
		dw.IS(dw.T(0x0020, 0x0011), SeriesSEG),
		dw.IS(dw.T(0x0020, 0x0013), 1),
		dw.Str(dw.T(0x0020, 0x1040), "LO", "IC"),
	)
	return ds, nil
}

// Write writes the patient's files under dir (DIR/patients/<patient_id> in the cohort layout):
// dicom/<series_number>/<n>.dcm, labels/reader1.nii.gz, labels/reader2.nii.gz and seg.dcm.
// It returns the paths of the DICOM files (MR slices, then the SEG).
func (st *Study) Write(dir string) ([]string, error) {
	var paths []string
	buf := make([]byte, 0, 2*st.Grid.Size[0]*st.Grid.Size[1]+8192)
	for _, s := range st.Series() {
		sdir := filepath.Join(dir, "dicom", strconv.Itoa(s.Number))
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			return nil, err
		}
		for k := 0; k < st.Grid.Size[2]; k++ {
			ds := st.MRDataset(s, k)
			var err error
			buf, err = dw.AppendFile(buf[:0], dw.FileMeta{SOPClassUID: dw.MRImageStorage, SOPInstanceUID: st.InstanceUID(s.Role, k)}, ds)
			if err != nil {
				return nil, fmt.Errorf("synth: %s series %d slice %d: %w", st.Record.PatientID, s.Number, k+1, err)
			}
			p := filepath.Join(sdir, fmt.Sprintf("%d.dcm", k+1))
			if err := os.WriteFile(p, buf, 0o644); err != nil {
				return nil, err
			}
			paths = append(paths, p)
		}
	}
	seg, err := st.SEGDataset()
	if err != nil {
		return nil, fmt.Errorf("synth: %s SEG: %w", st.Record.PatientID, err)
	}
	segPath := filepath.Join(dir, "seg.dcm")
	if err := dw.WriteFile(segPath, dw.FileMeta{SOPClassUID: dw.SegmentationStorage, SOPInstanceUID: st.uid("seg")}, seg); err != nil {
		return nil, fmt.Errorf("synth: %s SEG: %w", st.Record.PatientID, err)
	}
	paths = append(paths, segPath)
	ldir := filepath.Join(dir, "labels")
	if err := os.MkdirAll(ldir, 0o755); err != nil {
		return nil, err
	}
	for i, l := range []*image.Labels{st.Reader1, st.Reader2} {
		// Written in dcm2niix's row order (rows reversed, same voxels in patient space) so that the label
		// files overlay dcm2niix's NIfTI of each series with an identical affine; readers map them onto
		// the DICOM grid with image.LabelsOnGrid.
		if err := image.WriteNIfTILabels(filepath.Join(ldir, fmt.Sprintf("reader%d.nii.gz", i+1)), l.FlipRows()); err != nil {
			return nil, err
		}
	}
	return paths, nil
}
