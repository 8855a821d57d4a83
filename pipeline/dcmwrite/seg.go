package dcmwrite

import (
	"fmt"
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
	Recommended   [3]uint16
}

// SourceFrame is one source image (a single-frame slice) the segmentation was derived from.
type SourceFrame struct {
	SOPClassUID    string
	SOPInstanceUID string
	Position       [3]float64 // ImagePositionPatient of the source image
}

// SegmentationParams is everything specific to a BINARY Segmentation instance on the grid of a
// single-frame source series. The caller adds the Patient, General Study, Patient Study, General
// Series (Modality SEG), General Equipment and SOP Common attributes it shares with its other objects.
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
	// equal to a Segment's Number marks that segment.
	Labels                 []uint8
	DimensionOrganization  string // a UID
	ContentLabel           string
	ContentDescription     string
	ContentCreatorName     string
	InstanceNumber         int
	ContentDate, ContentTD string // DA and TM
}

// SegmentationDataset builds the Segmentation Image, Multi-frame Functional Groups, Multi-frame
// Dimension and Common Instance Reference modules and the packed 1-bit Pixel Data. Only frames that
// contain at least one voxel of a segment are encoded (frames are ordered by segment, then slice).
func SegmentationDataset(p SegmentationParams) (Dataset, error) {
	n := p.Rows * p.Columns
	if n == 0 || len(p.Sources) == 0 || len(p.Labels) != n*len(p.Sources) {
		return nil, fmt.Errorf("dcmwrite: segmentation: %d labels for %d×%d×%d frames", len(p.Labels), p.Rows, p.Columns, len(p.Sources))
	}
	if len(p.Segments) == 0 {
		return nil, fmt.Errorf("dcmwrite: segmentation: no segments")
	}
	var segItems []Dataset
	var perFrame []Dataset
	var bits []byte
	nbit := 0
	for _, s := range p.Segments {
		// The modifier (e.g. laterality) is nested in the type code item (PS3.3 Table 10-25).
		typ := s.Type.Item()
		if s.TypeModifier != nil {
			typ = append(typ, SQ(T(0x0062, 0x0011), s.TypeModifier.Item()))
		}
		item := Dataset{
			US(T(0x0062, 0x0004), s.Number),
			Str(T(0x0062, 0x0005), "LO", s.Label),
			SQ(T(0x0062, 0x0003), s.Category.Item()),
			SQ(T(0x0062, 0x000F), typ),
			Str(T(0x0062, 0x0008), "CS", s.AlgorithmType),
			US(T(0x0062, 0x000D), s.Recommended[0], s.Recommended[1], s.Recommended[2]),
		}
		if s.AlgorithmType != "MANUAL" {
			item = append(item, Str(T(0x0062, 0x0009), "LO", s.AlgorithmName))
		}
		segItems = append(segItems, item)
		for k, src := range p.Sources {
			frame := p.Labels[k*n : (k+1)*n]
			any := false
			for _, x := range frame {
				if x == uint8(s.Number) {
					any = true
					break
				}
			}
			if !any {
				continue
			}
			// Pack the frame's bits continuing the bit stream (PS3.5 §8.1.1: frames are not padded).
			need := (nbit + n + 7) / 8
			for len(bits) < need {
				bits = append(bits, 0)
			}
			for i, x := range frame {
				if x == uint8(s.Number) {
					b := nbit + i
					bits[b/8] |= 1 << (b % 8)
				}
			}
			nbit += n
			perFrame = append(perFrame, Dataset{
				SQ(T(0x0008, 0x9124), Dataset{ // DerivationImageSequence
					SQ(T(0x0008, 0x2112), Dataset{ // SourceImageSequence
						Str(T(0x0008, 0x1150), "UI", src.SOPClassUID),
						Str(T(0x0008, 0x1155), "UI", src.SOPInstanceUID),
						SQ(T(0x0040, 0xA170), Code{"121322", "DCM", "Source image for image processing operation"}.Item()),
					}),
					SQ(T(0x0008, 0x9215), Code{"113076", "DCM", "Segmentation"}.Item()),
				}),
				SQ(T(0x0020, 0x9111), Dataset{ // FrameContentSequence
					UL(T(0x0020, 0x9157), uint32(s.Number), uint32(k+1)), // DimensionIndexValues
				}),
				SQ(T(0x0020, 0x9113), Dataset{DS(T(0x0020, 0x0032), src.Position[:]...)}), // PlanePositionSequence
				SQ(T(0x0062, 0x000A), Dataset{US(T(0x0062, 0x000B), s.Number)}),           // SegmentIdentificationSequence
			})
		}
	}
	if len(perFrame) == 0 {
		return nil, fmt.Errorf("dcmwrite: segmentation: every segment is empty")
	}
	var refs []Dataset
	for _, src := range p.Sources {
		refs = append(refs, Dataset{
			Str(T(0x0008, 0x1150), "UI", src.SOPClassUID),
			Str(T(0x0008, 0x1155), "UI", src.SOPInstanceUID),
		})
	}
	dim := p.DimensionOrganization
	ds := Dataset{
		Str(T(0x0008, 0x0008), "CS", "DERIVED", "PRIMARY"),
		Str(T(0x0008, 0x0016), "UI", SegmentationStorage),
		Str(T(0x0008, 0x0023), "DA", p.ContentDate),
		Str(T(0x0008, 0x0033), "TM", p.ContentTD),
		SQ(T(0x0008, 0x1115), Dataset{ // ReferencedSeriesSequence (Common Instance Reference)
			Str(T(0x0020, 0x000E), "UI", p.SourceSeriesUID),
			SQ(T(0x0008, 0x114A), refs...),
		}),
		Str(T(0x0020, 0x0013), "IS", fmt.Sprint(p.InstanceNumber)),
		Str(T(0x0020, 0x0052), "UI", p.FrameOfReferenceUID),
		US(T(0x0028, 0x0002), 1),
		Str(T(0x0028, 0x0004), "CS", "MONOCHROME2"),
		IS(T(0x0028, 0x0008), len(perFrame)),
		US(T(0x0028, 0x0010), uint16(p.Rows)),
		US(T(0x0028, 0x0011), uint16(p.Columns)),
		US(T(0x0028, 0x0100), 1),
		US(T(0x0028, 0x0101), 1),
		US(T(0x0028, 0x0102), 0),
		US(T(0x0028, 0x0103), 0),
		Str(T(0x0028, 0x2110), "CS", "00"),
		Str(T(0x0062, 0x0001), "CS", "BINARY"),
		SQ(T(0x0062, 0x0002), segItems...),
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
	// Multi-frame Dimension module: segment number, then position along the stack.
	ds = append(ds,
		SQ(T(0x0020, 0x9221), Dataset{Str(T(0x0020, 0x9164), "UI", dim)}),
		SQ(T(0x0020, 0x9222),
			Dataset{
				Str(T(0x0020, 0x9164), "UI", dim),
				AT(T(0x0020, 0x9165), T(0x0062, 0x000B)),
				AT(T(0x0020, 0x9167), T(0x0062, 0x000A)),
				Str(T(0x0020, 0x9421), "LO", "Segment number"),
			},
			Dataset{
				Str(T(0x0020, 0x9164), "UI", dim),
				AT(T(0x0020, 0x9165), T(0x0020, 0x0032)),
				AT(T(0x0020, 0x9167), T(0x0020, 0x9113)),
				Str(T(0x0020, 0x9421), "LO", "Image position (patient)"),
			}),
	)
	return ds, nil
}
