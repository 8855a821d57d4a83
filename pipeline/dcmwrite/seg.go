package dcmwrite

import (
	"fmt"
	"slices"
)

// SOP classes used by sacrum.
const (
	MRImageStorage      = "1.2.840.10008.5.1.4.1.1.4"
	SegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.4"
)

// Code is a coded entry (Code Value, Coding Scheme Designator, Code Meaning).
type Code struct{ Value, Scheme, Meaning string }

// Item returns the code as a sequence item (PS3.3 Table 8.8-1): a value longer than 16 characters
// goes into Long Code Value (UC), the meaning is cut to the 64 characters of an LO.
func (c Code) Item() Dataset {
	d := Dataset{
		Str(T(0x0008, 0x0102), "SH", c.Scheme),
		Str(T(0x0008, 0x0104), "LO", Truncate(c.Meaning, 64)),
	}
	if len(c.Value) > 16 {
		return append(d, Str(T(0x0008, 0x0119), "UC", c.Value))
	}
	return append(d, Str(T(0x0008, 0x0100), "SH", c.Value))
}

// Seq returns a sequence element whose single item is the code.
func (c Code) Seq(t Tag) Element { return SQ(t, c.Item()) }

// Segment describes one segment of a Segmentation (an item of SegmentSequence).
type Segment struct {
	Number        uint16 // 1-based; the label value in SegmentationParams.Labels
	Label         string
	Category      Code
	Type          Code
	TypeModifier  *Code  // e.g. laterality; nil for none
	AlgorithmType string // MANUAL, SEMIAUTOMATIC or AUTOMATIC
	AlgorithmName string // required unless MANUAL
	// AlgorithmFamily, when set (and not MANUAL), adds the Segmentation Algorithm Identification
	// Sequence with the family, AlgorithmName and AlgorithmVersion.
	AlgorithmFamily  *Code
	AlgorithmVersion string
	Recommended      [3]uint16 // RecommendedDisplayCIELabValue
}

// SourceFrame is one source image the segmentation was derived from: a single-frame slice, or one
// frame of a multi-frame image.
type SourceFrame struct {
	SOPClassUID    string
	SOPInstanceUID string
	Frame          int        // 1-based ReferencedFrameNumber in a multi-frame source; 0 for single-frame
	Position       [3]float64 // ImagePositionPatient of the slice
}

// SourceImageItem returns the Source Image Sequence item (PS3.3 C.7.6.1.1.4) naming the frame, with
// purpose of reference "Source image for image processing operation".
func (f SourceFrame) SourceImageItem() Dataset {
	d := Dataset{
		Str(T(0x0008, 0x1150), "UI", f.SOPClassUID),
		Str(T(0x0008, 0x1155), "UI", f.SOPInstanceUID),
		Code{"121322", "DCM", "Source image for image processing operation"}.Seq(T(0x0040, 0xA170)),
	}
	if f.Frame > 0 {
		d = append(d, IS(T(0x0008, 0x1160), f.Frame))
	}
	return d
}

// ImagePixel returns the Image Pixel module attributes of unsigned, uncompressed pixel data
// (Pixel Data itself apart), with Lossy Image Compression "00".
func ImagePixel(samples int, photometric string, rows, columns, bits int) Dataset {
	return Dataset{
		US(T(0x0028, 0x0002), uint16(samples)),
		Str(T(0x0028, 0x0004), "CS", photometric),
		US(T(0x0028, 0x0010), uint16(rows)),
		US(T(0x0028, 0x0011), uint16(columns)),
		US(T(0x0028, 0x0100), uint16(bits)),
		US(T(0x0028, 0x0101), uint16(bits)),
		US(T(0x0028, 0x0102), uint16(bits-1)),
		US(T(0x0028, 0x0103), 0),
		Str(T(0x0028, 0x2110), "CS", "00"),
	}
}

// SegmentationParams is everything specific to a BINARY Segmentation instance on the grid of a
// source series. The caller adds the Patient, General Study, General Series (Modality SEG), Frame
// of Reference (Position Reference Indicator), General Equipment, General Image (Instance Number,
// Content Date and Time) and SOP Common (SOP Class and Instance UIDs) attributes it shares with its
// other objects.
type SegmentationParams struct {
	Rows, Columns        int
	PixelSpacing         [2]float64 // row spacing, column spacing
	SliceThickness       float64
	SpacingBetweenSlices float64
	Orientation          [6]float64 // ImageOrientationPatient of the source series
	FrameOfReferenceUID  string
	SourceSeriesUID      string
	Sources              []SourceFrame // one per slice, in the order of Labels
	Segments             []Segment
	// Labels holds Rows×Columns×len(Sources) values, columns fastest, then rows, then slices; a value
	// equal to a Segment's Number marks that segment (so segments never overlap).
	Labels []uint8
	// AllFrames encodes every slice of each non-empty segment, not only the slices that hold at
	// least one voxel of it.
	AllFrames             bool
	DimensionOrganization string // a UID
	ContentLabel          string
	ContentDescription    string
	ContentCreatorName    string
}

// SegmentationDataset builds the Segmentation Image, Image Pixel, Multi-frame Functional Groups,
// Multi-frame Dimension and Common Instance Reference modules and the packed 1-bit Pixel Data.
// Frames are ordered by segment, then slice; a segment without voxels gets no frame, and without
// AllFrames neither does a slice that holds no voxel of the segment. Frames are packed 1 bit per
// pixel, least significant bit first, rows then columns, concatenated without padding (PS3.5 §8.1.1).
func SegmentationDataset(p SegmentationParams) (Dataset, error) {
	n := p.Rows * p.Columns
	if n == 0 || len(p.Sources) == 0 || len(p.Labels) != n*len(p.Sources) {
		return nil, fmt.Errorf("dcmwrite: segmentation: %d labels for %d×%d×%d frames", len(p.Labels), p.Rows, p.Columns, len(p.Sources))
	}
	if p.Rows > 0xFFFF || p.Columns > 0xFFFF {
		return nil, fmt.Errorf("dcmwrite: segmentation: %d×%d pixels exceed DICOM's 65535 rows or columns", p.Rows, p.Columns)
	}
	if len(p.Segments) == 0 {
		return nil, fmt.Errorf("dcmwrite: segmentation: no segments")
	}
	type frame struct {
		segment uint16
		k       int
	}
	var frames []frame
	var segItems []Dataset
	for _, s := range p.Segments {
		if s.Number == 0 || s.Number > 255 {
			return nil, fmt.Errorf("dcmwrite: segmentation: segment number %d is not a label value 1…255", s.Number)
		}
		segItems = append(segItems, s.item())
		var ks []int
		for k := range p.Sources {
			if slices.Contains(p.Labels[k*n:(k+1)*n], uint8(s.Number)) {
				ks = append(ks, k)
			}
		}
		if len(ks) == 0 {
			continue
		}
		if p.AllFrames {
			ks = ks[:0]
			for k := range p.Sources {
				ks = append(ks, k)
			}
		}
		for _, k := range ks {
			frames = append(frames, frame{s.Number, k})
		}
	}
	if len(frames) == 0 {
		return nil, fmt.Errorf("dcmwrite: segmentation: every segment is empty")
	}
	// The second dimension index is the 1-based rank of the frame's slice among the slices that
	// occur in the instance (PS3.3 C.7.6.17.1).
	rank := make([]uint32, len(p.Sources))
	for _, f := range frames {
		rank[f.k] = 1
	}
	r := uint32(0)
	for k := range rank {
		if rank[k] != 0 {
			r++
			rank[k] = r
		}
	}
	bits := make([]byte, (n*len(frames)+7)/8)
	perFrame := make([]Dataset, len(frames))
	for i, f := range frames {
		for j, x := range p.Labels[f.k*n : (f.k+1)*n] {
			if x == uint8(f.segment) {
				b := i*n + j
				bits[b/8] |= 1 << (b % 8)
			}
		}
		src := p.Sources[f.k]
		perFrame[i] = Dataset{
			SQ(T(0x0008, 0x9124), Dataset{ // DerivationImageSequence
				SQ(T(0x0008, 0x2112), src.SourceImageItem()),
				Code{"113076", "DCM", "Segmentation"}.Seq(T(0x0008, 0x9215)),
			}),
			SQ(T(0x0020, 0x9111), Dataset{UL(T(0x0020, 0x9157), uint32(f.segment), rank[f.k])}), // FrameContent: DimensionIndexValues
			SQ(T(0x0020, 0x9113), Dataset{DS(T(0x0020, 0x0032), src.Position[:]...)}),           // PlanePositionSequence
			SQ(T(0x0062, 0x000A), Dataset{US(T(0x0062, 0x000B), f.segment)}),                    // SegmentIdentificationSequence
		}
	}
	// ReferencedInstanceSequence names each source instance once (a multi-frame source has many frames).
	seen := map[string]bool{}
	var refs []Dataset
	for _, src := range p.Sources {
		if !seen[src.SOPInstanceUID] {
			seen[src.SOPInstanceUID] = true
			refs = append(refs, Dataset{
				Str(T(0x0008, 0x1150), "UI", src.SOPClassUID),
				Str(T(0x0008, 0x1155), "UI", src.SOPInstanceUID),
			})
		}
	}
	dim := Str(T(0x0020, 0x9164), "UI", p.DimensionOrganization)
	ds := Dataset{
		Str(T(0x0008, 0x0008), "CS", "DERIVED", "PRIMARY"),
		SQ(T(0x0008, 0x1115), Dataset{ // ReferencedSeriesSequence (Common Instance Reference)
			Str(T(0x0020, 0x000E), "UI", p.SourceSeriesUID),
			SQ(T(0x0008, 0x114A), refs...),
		}),
		Str(T(0x0020, 0x0052), "UI", p.FrameOfReferenceUID),
		// Multi-frame Dimension module: segment number, then position along the stack.
		SQ(T(0x0020, 0x9221), Dataset{dim}),
		SQ(T(0x0020, 0x9222),
			Dataset{dim, AT(T(0x0020, 0x9165), T(0x0062, 0x000B)), AT(T(0x0020, 0x9167), T(0x0062, 0x000A)),
				Str(T(0x0020, 0x9421), "LO", "Segment Number")},
			Dataset{dim, AT(T(0x0020, 0x9165), T(0x0020, 0x0032)), AT(T(0x0020, 0x9167), T(0x0020, 0x9113)),
				Str(T(0x0020, 0x9421), "LO", "Image Position Patient")},
		),
		IS(T(0x0028, 0x0008), len(frames)),
		Str(T(0x0062, 0x0001), "CS", "BINARY"),
		SQ(T(0x0062, 0x0002), segItems...),
		Str(T(0x0062, 0x0013), "CS", "NO"), // SegmentsOverlap: one label per voxel
		Str(T(0x0070, 0x0080), "CS", p.ContentLabel),
		Str(T(0x0070, 0x0081), "LO", p.ContentDescription),
		Str(T(0x0070, 0x0084), "PN", p.ContentCreatorName),
		SQ(T(0x5200, 0x9229), Dataset{ // SharedFunctionalGroupsSequence
			SQ(T(0x0028, 0x9110), Dataset{ // PixelMeasuresSequence
				DS(T(0x0028, 0x0030), p.PixelSpacing[:]...),
				DS(T(0x0018, 0x0050), p.SliceThickness),
				DS(T(0x0018, 0x0088), p.SpacingBetweenSlices),
			}),
			SQ(T(0x0020, 0x9116), Dataset{DS(T(0x0020, 0x0037), p.Orientation[:]...)}), // PlaneOrientationSequence
		}),
		SQ(T(0x5200, 0x9230), perFrame...),
		PixelDataBytes(bits),
	}
	return append(ds, ImagePixel(1, "MONOCHROME2", p.Rows, p.Columns, 1)...), nil
}

// item is the segment's SegmentSequence item. The type modifier (e.g. laterality) is nested in the
// type code item (PS3.3 Table 10-25).
func (s Segment) item() Dataset {
	typ := s.Type.Item()
	if s.TypeModifier != nil {
		typ = append(typ, s.TypeModifier.Seq(T(0x0062, 0x0011)))
	}
	d := Dataset{
		US(T(0x0062, 0x0004), s.Number),
		Str(T(0x0062, 0x0005), "LO", s.Label),
		s.Category.Seq(T(0x0062, 0x0003)),
		SQ(T(0x0062, 0x000F), typ),
		Str(T(0x0062, 0x0008), "CS", s.AlgorithmType),
		US(T(0x0062, 0x000D), s.Recommended[:]...),
	}
	if s.AlgorithmType == "MANUAL" {
		return d
	}
	d = append(d, Str(T(0x0062, 0x0009), "LO", Truncate(s.AlgorithmName, 64)))
	if s.AlgorithmFamily != nil {
		d = append(d, SQ(T(0x0062, 0x0007), Dataset{ // SegmentationAlgorithmIdentificationSequence
			s.AlgorithmFamily.Seq(T(0x0066, 0x002F)),
			Str(T(0x0066, 0x0031), "LO", Truncate(s.AlgorithmVersion, 64)),
			Str(T(0x0066, 0x0036), "LO", Truncate(s.AlgorithmName, 64)),
		}))
	}
	return d
}
