package volume

import (
	"fmt"
	"math"
	"strings"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// Label values of the SIJ regions of interest.
const (
	LabelLeft  = 1
	LabelRight = 2
)

// SegmentationLabels maps a DICOM SEG series onto grid g (normally the STIR grid): every set pixel of a frame
// is placed in the nearest voxel of g. A segment whose label says "left" becomes LabelLeft, "right" LabelRight;
// otherwise segment numbers 1 and 2 are taken as left and right.
func SegmentationLabels(s *Series, g image.Grid) (*image.Labels, error) {
	fail := func(format string, a ...any) error {
		return &SeriesError{Series: s.Name(), Reason: fmt.Sprintf(format, a...)}
	}
	if !s.IsSegmentation() {
		return nil, fail("is not a DICOM SEG")
	}
	m := image.NewLabels(g)
	inv := inverse(g)
	set := 0
	for _, in := range s.Instances {
		if in.BitsAllocated != 1 && in.BitsAllocated != 8 {
			return nil, fail("%s: BitsAllocated %d: only BINARY and 8-bit FRACTIONAL segmentations are supported", in.Path, in.BitsAllocated)
		}
		buf := make([]float64, in.Rows*in.Columns)
		threshold := 0.5 // BINARY
		if in.BitsAllocated == 8 {
			threshold = 128 // FRACTIONAL with MaximumFractionalValue 255
		}
		for _, f := range in.Frames {
			label, err := segmentLabel(in.Segments, f.Segment)
			if err != nil {
				return nil, fail("%s frame %d: %v", in.Path, f.Number+1, err)
			}
			in.framePixels(f.Number, 1, 0, buf)
			row, col := f.Orientation[:3], f.Orientation[3:]
			for j := 0; j < in.Rows; j++ {
				for i := 0; i < in.Columns; i++ {
					if buf[i+in.Columns*j] < threshold {
						continue
					}
					var p [3]float64
					for r := range 3 {
						p[r] = f.Position[r] + row[r]*f.PixelSpacing[1]*float64(i) + col[r]*f.PixelSpacing[0]*float64(j)
					}
					idx := inv(p)
					a, b, c := int(math.Round(idx[0])), int(math.Round(idx[1])), int(math.Round(idx[2]))
					if !g.Contains(a, b, c) {
						continue
					}
					m.Data[g.Index(a, b, c)] = label
					set++
				}
			}
		}
	}
	if set == 0 {
		return nil, fail("no segmented voxel lies on the STIR grid")
	}
	return m, nil
}

func segmentLabel(segs map[int]string, n int) (uint8, error) {
	l := strings.ToLower(segs[n])
	switch {
	case strings.Contains(l, "left"):
		return LabelLeft, nil
	case strings.Contains(l, "right"):
		return LabelRight, nil
	case n == 1 || n == 2:
		return uint8(n), nil
	}
	return 0, fmt.Errorf("segment %d (%q) is neither left nor right", n, segs[n])
}

// inverse returns the LPS point → fractional voxel index map of g (directions are orthonormal).
func inverse(g image.Grid) func(p [3]float64) [3]float64 {
	return func(p [3]float64) [3]float64 {
		var idx [3]float64
		for a := range 3 {
			var s float64
			for r := range 3 {
				s += g.Direction[3*r+a] * (p[r] - g.Origin[r])
			}
			idx[a] = s / g.Spacing[a]
		}
		return idx
	}
}
