package report

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// decodeSEG rebuilds the label map from a written SEG on grid g: it checks the SEG geometry
// against g, maps every frame to its slice by its ImagePositionPatient, and unpacks the bits
// (LSB first, frames concatenated) itself, because suyashkumar/dicom v1.1.0 unpacks 1-bit data
// MSB first.
func decodeSEG(t *testing.T, path string, g image.Grid, sources []InstanceRef) (*image.Labels, int) {
	t.Helper()
	els := parse(t, path)
	rows, cols := ints(els, 0x0028, 0x0010), ints(els, 0x0028, 0x0011)
	if rows[0] != g.Size[1] || cols[0] != g.Size[0] {
		t.Fatalf("rows×columns %d×%d, want %d×%d", rows[0], cols[0], g.Size[1], g.Size[0])
	}
	shared := items(els, 0x5200, 0x9229)[0]
	iop := floats(t, items(shared, 0x0020, 0x9116)[0], 0x0020, 0x0037)
	want := orientation(g.Direction)
	for i := range want {
		if math.Abs(iop[i]-want[i]) > 1e-9 {
			t.Fatalf("ImageOrientationPatient %v, want %v", iop, want)
		}
	}
	ps := floats(t, items(shared, 0x0028, 0x9110)[0], 0x0028, 0x0030)
	if math.Abs(ps[0]-g.Spacing[1]) > 1e-9 || math.Abs(ps[1]-g.Spacing[0]) > 1e-9 {
		t.Fatalf("PixelSpacing %v, want [%v %v]", ps, g.Spacing[1], g.Spacing[0])
	}
	pd := find(els, 0x7FE0, 0x0010).Value.GetValue().(dicom.PixelDataInfo)
	if !pd.IntentionallyUnprocessed {
		t.Fatal("pixel data was processed; want raw bytes")
	}
	raw := pd.UnprocessedValueData
	frames := items(els, 0x5200, 0x9230)
	nf := ints(els, 0x0028, 0x0008)
	if nf == nil {
		n, _ := atoi(str1(els, 0x0028, 0x0008))
		nf = []int{n}
	}
	if nf[0] != len(frames) {
		t.Fatalf("NumberOfFrames %d, per-frame items %d", nf[0], len(frames))
	}
	n := g.Size[0] * g.Size[1]
	if want := (n*len(frames) + 7) / 8; len(raw) != want+want%2 {
		t.Fatalf("pixel data %d bytes, want %d (+ padding)", len(raw), want)
	}
	out := image.NewLabels(g)
	normal := [3]float64{g.Direction[2], g.Direction[5], g.Direction[8]}
	for f, fr := range frames {
		seg := ints(items(fr, 0x0062, 0x000A)[0], 0x0062, 0x000B)[0]
		pos := floats(t, items(fr, 0x0020, 0x9113)[0], 0x0020, 0x0032)
		d := 0.0
		for a := 0; a < 3; a++ {
			d += (pos[a] - g.Origin[a]) * normal[a]
		}
		k := int(math.Round(d / g.Spacing[2]))
		p := g.Point(0, 0, float64(k))
		for a := 0; a < 3; a++ {
			if math.Abs(p[a]-pos[a]) > 1e-6 {
				t.Fatalf("frame %d position %v is not on slice %d (%v)", f+1, pos, k, p)
			}
		}
		src := items(items(fr, 0x0008, 0x9124)[0], 0x0008, 0x2112)[0]
		if got := str1(src, 0x0008, 0x1155); got != sources[k].SOPInstanceUID {
			t.Fatalf("frame %d source %s, want %s", f+1, got, sources[k].SOPInstanceUID)
		}
		if sources[k].Frame > 0 {
			if got, _ := atoi(str1(src, 0x0008, 0x1160)); got != sources[k].Frame {
				t.Fatalf("frame %d source frame %d, want %d", f+1, got, sources[k].Frame)
			}
		}
		for i := 0; i < n; i++ {
			bit := f*n + i
			if raw[bit>>3]>>(bit&7)&1 == 1 {
				if out.Data[k*n+i] != 0 {
					t.Fatalf("voxel %d of slice %d in two segments", i, k)
				}
				out.Data[k*n+i] = uint8(seg)
			}
		}
	}
	return out, len(frames)
}

func atoi(s string) (int, error) { return strconv.Atoi(strings.TrimSpace(s)) }

func TestSEGRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		nx, ny, nz int
		allFrames  bool
		provided   bool
		onlyLeft   bool
		multiFrame bool
	}{
		{name: "oblique byte-aligned", nx: 24, ny: 16, nz: 6},
		{name: "odd size, frames not byte-aligned", nx: 13, ny: 9, nz: 5},
		{name: "all frames", nx: 13, ny: 9, nz: 5, allFrames: true},
		{name: "provided segmentation", nx: 20, ny: 12, nz: 7, provided: true},
		{name: "left segment only", nx: 24, ny: 16, nz: 6, onlyLeft: true},
		{name: "enhanced MR source", nx: 24, ny: 16, nz: 6, multiFrame: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testResult(t, tc.nx, tc.ny, tc.nz)
			r.Options.AllFrames = tc.allFrames
			r.Provided = tc.provided
			if tc.onlyLeft {
				for i, l := range r.Labels.Data {
					if l == 2 {
						r.Labels.Data[i] = 0
					}
				}
			}
			if tc.multiFrame {
				for k := range r.Source.STIR.Instances {
					r.Source.STIR.Instances[k] = InstanceRef{"1.2.840.10008.5.1.4.1.1.4.1", "1.2.826.0.1.3680043.9.9999.5", k + 1}
				}
			}
			if r.Labels.Count(1) == 0 || (!tc.onlyLeft && r.Labels.Count(2) == 0) {
				t.Fatalf("fixture has no voxels: left %d right %d", r.Labels.Count(1), r.Labels.Count(2))
			}
			objs, err := Write(context.Background(), t.TempDir(), r)
			if err != nil {
				t.Fatal(err)
			}
			got, nFrames := decodeSEG(t, objs.SEG.Path, r.Labels.Grid, r.Source.STIR.Instances)
			for i := range got.Data {
				if got.Data[i] != r.Labels.Data[i] {
					t.Fatalf("voxel %d: decoded label %d, input %d", i, got.Data[i], r.Labels.Data[i])
				}
			}
			// Frame count: slices with the segment, or every slice of each non-empty segment.
			want := 0
			n := tc.nx * tc.ny
			for _, l := range []uint8{1, 2} {
				if r.Labels.Count(l) == 0 {
					continue
				}
				for k := 0; k < tc.nz; k++ {
					if tc.allFrames || slices.Contains(r.Labels.Data[k*n:(k+1)*n], l) {
						want++
					}
				}
			}
			if nFrames != want {
				t.Errorf("%d frames, want %d", nFrames, want)
			}
			els := parse(t, objs.SEG.Path)
			segs := items(els, 0x0062, 0x0002)
			if len(segs) != 2 {
				t.Fatalf("%d segments, want 2", len(segs))
			}
			wantType := "AUTOMATIC"
			if tc.provided {
				wantType = "MANUAL"
			}
			for i, s := range segs {
				if got := str1(s, 0x0062, 0x0008); got != wantType {
					t.Errorf("segment %d algorithm type %s, want %s", i+1, got, wantType)
				}
				if got := str1(s, 0x0062, 0x0009); (got != "") == tc.provided {
					t.Errorf("segment %d algorithm name %q with provided=%v", i+1, got, tc.provided)
				}
				typ := items(s, 0x0062, 0x000F)[0]
				lat := []string{"7771000,SCT,Left", "24028007,SCT,Right"}[i]
				if got := codeOf(typ, 0x0062, 0x0011); got != lat {
					t.Errorf("segment %d laterality %s, want %s", i+1, got, lat)
				}
				if got := codeOf(segs[i], 0x0062, 0x000F); got != "39723000,SCT,Sacroiliac joint" {
					t.Errorf("segment %d type %s", i+1, got)
				}
			}
			if got := str1(els, 0x0062, 0x0001); got != "BINARY" {
				t.Errorf("SegmentationType %s", got)
			}
			ref := items(els, 0x0008, 0x1115)
			if len(ref) != 1 || str1(ref[0], 0x0020, 0x000E) != r.Source.STIR.SeriesInstanceUID {
				t.Errorf("ReferencedSeriesSequence does not name the STIR series")
			}
		})
	}
}
