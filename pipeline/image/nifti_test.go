package image

import (
	"bytes"
	"math"
	"path/filepath"
	"testing"
)

func obliqueGrid() Grid {
	// 25° rotation about the L axis, as for an oblique-coronal SIJ slab.
	t := 25 * math.Pi / 180
	return Grid{
		Size:      [3]int{4, 3, 2},
		Spacing:   [3]float64{0.9, 0.8, 4},
		Origin:    [3]float64{-100.5, 20.25, 30},
		Direction: [9]float64{1, 0, 0, 0, math.Sin(t), math.Cos(t), 0, -math.Cos(t), math.Sin(t)},
	}
}

func TestNIfTIRoundTrip(t *testing.T) {
	for _, name := range []string{"v.nii", "v.nii.gz"} {
		t.Run(name, func(t *testing.T) {
			g := obliqueGrid()
			v := NewVolume(g)
			for i := range v.Data {
				v.Data[i] = float64(i)*1.5 - 3
			}
			p := filepath.Join(t.TempDir(), name)
			if err := WriteNIfTI(p, v); err != nil {
				t.Fatal(err)
			}
			got, err := ReadNIfTIVolume(p)
			if err != nil {
				t.Fatal(err)
			}
			if !got.SameGrid(g, 1e-5) {
				t.Fatalf("grid = %+v, want %+v", got.Grid, g)
			}
			for i := range v.Data {
				if got.Data[i] != v.Data[i] {
					t.Fatalf("voxel %d = %g, want %g", i, got.Data[i], v.Data[i])
				}
			}
			// A point computed from the affine must match Point.
			p1, p2 := got.Point(3, 2, 1), g.Point(3, 2, 1)
			for a := 0; a < 3; a++ {
				if math.Abs(p1[a]-p2[a]) > 1e-4 {
					t.Fatalf("point %v, want %v", p1, p2)
				}
			}
		})
	}
}

func TestNIfTILabelsAndQform(t *testing.T) {
	g := obliqueGrid()
	m := NewLabels(g)
	m.Data[5], m.Data[7] = 1, 2
	var buf bytes.Buffer
	if err := EncodeNIfTIHeader(&buf, g, niftiUint8); err != nil {
		t.Fatal(err)
	}
	buf.Write(m.Data)
	b := buf.Bytes()
	// Zero the sform code (offset 254) so the qform is used.
	b[254], b[255] = 0, 0
	v, err := DecodeNIfTI(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !v.SameGrid(g, 1e-5) {
		t.Fatalf("qform grid = %+v, want %+v", v.Grid, g)
	}
	got, err := v.ToLabels()
	if err != nil {
		t.Fatal(err)
	}
	if got.Count(1) != 1 || got.Count(2) != 1 || got.Data[7] != 2 {
		t.Fatalf("labels = %v", got.Data)
	}
}

func TestNIfTIBadInput(t *testing.T) {
	g := obliqueGrid()
	var hdr bytes.Buffer
	if err := EncodeNIfTIHeader(&hdr, g, niftiUint8); err != nil {
		t.Fatal(err)
	}
	twoD := append([]byte(nil), hdr.Bytes()...)
	twoD[40] = 2 // dim[0]
	cases := map[string][]byte{
		"empty":     nil,
		"short":     hdr.Bytes()[:100],
		"truncated": hdr.Bytes(), // no voxel data
		"2d":        twoD,
		"garbage":   bytes.Repeat([]byte{7}, 400),
	}
	for name, b := range cases {
		if _, err := DecodeNIfTI(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzDecodeNIfTI(f *testing.F) {
	var hdr bytes.Buffer
	_ = EncodeNIfTIHeader(&hdr, obliqueGrid(), niftiUint8)
	hdr.Write(make([]byte, 24))
	f.Add(hdr.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeNIfTI(bytes.NewReader(b))
	})
}
