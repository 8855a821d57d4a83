package dcmwrite

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// find returns the element with tag t in ds.
func find(t *testing.T, ds Dataset, tg Tag) Element {
	t.Helper()
	for _, e := range ds {
		if e.Tag == tg {
			return e
		}
	}
	t.Fatalf("%v missing", tg)
	return Element{}
}

func has(ds Dataset, tg Tag) bool {
	return slices.ContainsFunc(ds, func(e Element) bool { return e.Tag == tg })
}

// segParams is a 3×2 grid of 4 slices: segment 1 on slices 1 and 3 (0-based), segment 2 on slice 2,
// segment 3 nowhere.
func segParams() SegmentationParams {
	labels := []uint8{
		0, 0, 0, 0, 0, 0,
		1, 0, 0, 0, 0, 1,
		0, 2, 2, 0, 0, 0,
		1, 1, 1, 0, 0, 0,
	}
	src := make([]SourceFrame, 4)
	for k := range src {
		src[k] = SourceFrame{SOPClassUID: MRImageStorage, SOPInstanceUID: "1.2.3." + string(rune('1'+k)), Position: [3]float64{0, 0, float64(k)}}
	}
	seg := func(n uint16, label string) Segment {
		return Segment{Number: n, Label: label, Category: Code{"91723000", "SCT", "Anatomical Structure"},
			Type: Code{"39723000", "SCT", "Sacroiliac joint"}, AlgorithmType: "MANUAL"}
	}
	return SegmentationParams{
		Rows: 2, Columns: 3, PixelSpacing: [2]float64{1, 1}, SliceThickness: 3, SpacingBetweenSlices: 3,
		Orientation: [6]float64{1, 0, 0, 0, 1, 0}, FrameOfReferenceUID: "1.2.3.9", SourceSeriesUID: "1.2.3",
		Sources: src, Segments: []Segment{seg(1, "A"), seg(2, "B"), seg(3, "C")}, Labels: labels,
		DimensionOrganization: "1.2.3.8",
	}
}

// TestSegmentationFrames checks the frame list (segment, then slice), the dimension index values (slice
// rank among the slices present) and the packed bits of each frame.
func TestSegmentationFrames(t *testing.T) {
	tests := []struct {
		name      string
		allFrames bool
		want      [][2]uint32 // per frame: segment number, slice rank
		slices    []int       // per frame: 0-based source slice
	}{
		{"non-empty slices", false, [][2]uint32{{1, 1}, {1, 3}, {2, 2}}, []int{1, 3, 2}},
		{"all frames", true, [][2]uint32{{1, 1}, {1, 2}, {1, 3}, {1, 4}, {2, 1}, {2, 2}, {2, 3}, {2, 4}}, []int{0, 1, 2, 3, 0, 1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := segParams()
			p.AllFrames = tt.allFrames
			ds, err := SegmentationDataset(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := find(t, ds, T(0x0028, 0x0008)).Value; got != strconv.Itoa(len(tt.want)) {
				t.Errorf("NumberOfFrames %v, want %d", got, len(tt.want))
			}
			per := find(t, ds, T(0x5200, 0x9230)).Value.([]Dataset)
			if len(per) != len(tt.want) {
				t.Fatalf("%d per-frame items, want %d", len(per), len(tt.want))
			}
			bits := find(t, ds, T(0x7FE0, 0x0010)).Value.([]byte)
			if n := (6*len(tt.want) + 7) / 8; len(bits) != n {
				t.Fatalf("pixel data %d bytes, want %d", len(bits), n)
			}
			for i, fr := range per {
				div := find(t, find(t, fr, T(0x0020, 0x9111)).Value.([]Dataset)[0], T(0x0020, 0x9157)).Value.([]uint32)
				if div[0] != tt.want[i][0] || div[1] != tt.want[i][1] {
					t.Errorf("frame %d: DimensionIndexValues %v, want %v", i+1, div, tt.want[i])
				}
				k := tt.slices[i]
				for j := 0; j < 6; j++ {
					b := i*6 + j
					got := bits[b/8]>>(b%8)&1 == 1
					if want := p.Labels[k*6+j] == uint8(tt.want[i][0]); got != want {
						t.Errorf("frame %d pixel %d: bit %v, want %v", i+1, j, got, want)
					}
				}
			}
		})
	}
}

// TestSegmentationReferences: an AUTOMATIC segment with a family gets the algorithm identification, a
// multi-frame source gets ReferencedFrameNumber, and the instance is referenced once.
func TestSegmentationReferences(t *testing.T) {
	p := segParams()
	for k := range p.Sources {
		p.Sources[k].SOPInstanceUID = "1.2.3.7"
		p.Sources[k].Frame = k + 1
	}
	p.Segments[0].AlgorithmType, p.Segments[0].AlgorithmName, p.Segments[0].AlgorithmVersion = "AUTOMATIC", "unet", "2.0"
	p.Segments[0].AlgorithmFamily = &Code{"123110", "DCM", "Artificial Intelligence"}
	ds, err := SegmentationDataset(p)
	if err != nil {
		t.Fatal(err)
	}
	items := find(t, ds, T(0x0062, 0x0002)).Value.([]Dataset)
	if !has(items[0], T(0x0062, 0x0007)) || find(t, items[0], T(0x0062, 0x0009)).Value != "unet" {
		t.Error("AUTOMATIC segment lacks algorithm name or identification")
	}
	if has(items[1], T(0x0062, 0x0007)) || has(items[1], T(0x0062, 0x0009)) {
		t.Error("MANUAL segment has algorithm name or identification")
	}
	ser := find(t, ds, T(0x0008, 0x1115)).Value.([]Dataset)[0]
	if refs := find(t, ser, T(0x0008, 0x114A)).Value.([]Dataset); len(refs) != 1 {
		t.Errorf("%d referenced instances, want 1", len(refs))
	}
	fr := find(t, ds, T(0x5200, 0x9230)).Value.([]Dataset)[1] // segment 1 on slice 3
	deriv := find(t, fr, T(0x0008, 0x9124)).Value.([]Dataset)[0]
	src := find(t, deriv, T(0x0008, 0x2112)).Value.([]Dataset)[0]
	if got := find(t, src, T(0x0008, 0x1160)).Value; got != "4" {
		t.Errorf("ReferencedFrameNumber %v, want 4", got)
	}
}

func TestSegmentationErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*SegmentationParams)
		want string
	}{
		{"labels do not fit", func(p *SegmentationParams) { p.Labels = p.Labels[1:] }, "labels for"},
		{"no segments", func(p *SegmentationParams) { p.Segments = nil }, "no segments"},
		{"segment number 0", func(p *SegmentationParams) { p.Segments[0].Number = 0 }, "segment number 0"},
		{"segment number 256", func(p *SegmentationParams) { p.Segments[2].Number = 256 }, "segment number 256"},
		{"all empty", func(p *SegmentationParams) { clear(p.Labels) }, "every segment is empty"},
		{"too many columns", func(p *SegmentationParams) {
			p.Rows, p.Columns, p.Labels = 1, 70000, make([]uint8, 70000*len(p.Sources))
		}, "65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := segParams()
			tt.mod(&p)
			_, err := SegmentationDataset(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
