package image

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadNRRDPhantom(t *testing.T) {
	v, err := ReadNRRDVolume("testdata/phantom_image.nrrd")
	if err != nil {
		t.Fatal(err)
	}
	if v.Size != [3]int{5, 4, 4} || v.Spacing != [3]float64{2, 2, 2} {
		t.Fatalf("size %v spacing %v, want [5 4 4] [2 2 2]", v.Size, v.Spacing)
	}
	// Rows of five values, four rows per slice: "1 4 4 1 1" first; 9 is in row 3 of the third slice.
	want := map[[3]int]float64{{0, 0, 0}: 1, {1, 0, 0}: 4, {2, 1, 0}: 6, {2, 2, 1}: 3, {2, 2, 2}: 9}
	for p, x := range want {
		if got := v.At(p[0], p[1], p[2]); got != x {
			t.Errorf("voxel %v = %g, want %g", p, got, x)
		}
	}
}

func TestNRRDRoundTrip(t *testing.T) {
	g := obliqueGrid()
	v := NewVolume(g)
	for i := range v.Data {
		v.Data[i] = float64(i)*0.25 - 1
	}
	p := filepath.Join(t.TempDir(), "v.nrrd")
	if err := WriteNRRD(p, v); err != nil {
		t.Fatal(err)
	}
	got, err := ReadVolumeFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !got.SameGrid(g, 1e-12) {
		t.Fatalf("grid = %+v, want %+v", got.Grid, g)
	}
	for i := range v.Data {
		if got.Data[i] != v.Data[i] {
			t.Fatalf("voxel %d = %g, want %g", i, got.Data[i], v.Data[i])
		}
	}
}

// rawNRRD builds an NRRD with a raw or gzip body of int16 voxels 0..n-1 (negated when odd).
func rawNRRD(t *testing.T, header string, bigEndian, gz bool, n int) []byte {
	t.Helper()
	var body bytes.Buffer
	var bo binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		bo = binary.BigEndian
	}
	for i := 0; i < n; i++ {
		x := int16(i)
		if i%2 == 1 {
			x = -x
		}
		_ = binary.Write(&body, bo, x)
	}
	out := bytes.NewBufferString(header + "\n")
	if gz {
		zw := gzip.NewWriter(out)
		_, _ = zw.Write(body.Bytes())
		_ = zw.Close()
	} else {
		out.Write(body.Bytes())
	}
	return out.Bytes()
}

func TestDecodeNRRDEncodingsAndSpaces(t *testing.T) {
	const common = "NRRD0004\ntype: short\ndimension: 3\nsizes: 2 3 2\n"
	tests := []struct {
		name       string
		header     string
		big, gz    bool
		wantOrigin [3]float64
		wantDir0   [3]float64 // LPS direction of the i axis
		wantSp     [3]float64
	}{
		{"raw little LPS", common + "endian: little\nencoding: raw\nspace: left-posterior-superior\nspace directions: (0.5,0,0) (0,0.5,0) (0,0,3)\nspace origin: (1,2,3)\n",
			false, false, [3]float64{1, 2, 3}, [3]float64{1, 0, 0}, [3]float64{0.5, 0.5, 3}},
		{"raw big RAS", common + "endian: big\nencoding: raw\nspace: right-anterior-superior\nspace directions: (0.5,0,0) (0,0.5,0) (0,0,3)\nspace origin: (1,2,3)\n",
			true, false, [3]float64{-1, -2, 3}, [3]float64{-1, 0, 0}, [3]float64{0.5, 0.5, 3}},
		{"gzip old spacings", common + "encoding: gzip\nspacings: 1.5 2 4\n# comment\nkey:=value\n",
			false, true, [3]float64{}, [3]float64{1, 0, 0}, [3]float64{1.5, 2, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := DecodeNRRD(bytes.NewReader(rawNRRD(t, tc.header, tc.big, tc.gz, 12)))
			if err != nil {
				t.Fatal(err)
			}
			if v.Origin != tc.wantOrigin || v.Spacing != tc.wantSp {
				t.Errorf("origin %v spacing %v, want %v %v", v.Origin, v.Spacing, tc.wantOrigin, tc.wantSp)
			}
			if d := [3]float64{v.Direction[0], v.Direction[3], v.Direction[6]}; d != tc.wantDir0 {
				t.Errorf("i direction %v, want %v", d, tc.wantDir0)
			}
			if v.Data[5] != -5 || v.Data[6] != 6 || v.Data[11] != -11 {
				t.Errorf("data %v, want 0 -1 2 -3 …", v.Data)
			}
		})
	}
}

func TestDecodeNRRD2D(t *testing.T) {
	v, err := DecodeNRRD(strings.NewReader("NRRD0004\ntype: float\ndimension: 2\nsizes: 3 2\nencoding: ascii\nspace directions: (0.7,0,0) (0,0.7,0)\nspace: LPS\n\n1 2 3\n4 5 6\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Size != [3]int{3, 2, 1} || v.At(2, 1, 0) != 6 || v.Direction[8] != 1 {
		t.Fatalf("got size %v, data %v, direction %v", v.Size, v.Data, v.Direction)
	}
}

func TestDecodeNRRDErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"magic", "P6\n", "magic"},
		{"type", "NRRD0004\ntype: complex\ndimension: 3\nsizes: 1 1 1\n\n", "field type"},
		{"dimension", "NRRD0004\ntype: float\ndimension: 4\nsizes: 1 1 1 1\n\n", "field dimension"},
		{"sizes", "NRRD0004\ntype: float\ndimension: 3\nsizes: 1 1\n\n", "field sizes"},
		{"negative size", "NRRD0004\ntype: float\ndimension: 3\nsizes: 1 -1 1\n\n", "field sizes"},
		{"encoding", "NRRD0004\ntype: float\ndimension: 3\nsizes: 1 1 1\nencoding: bzip2\n\n", "field encoding"},
		{"short data", "NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n\n\x00\x00", "want 32"},
		{"short ascii", "NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 2\nencoding: ascii\n\n1 2 3", "3 values, want 8"},
		{"bad ascii", "NRRD0004\ntype: float\ndimension: 3\nsizes: 1 1 1\nencoding: ascii\n\nx", "not a number"},
		{"zero direction", "NRRD0004\ntype: float\ndimension: 3\nsizes: 1 1 1\nencoding: ascii\nspace: LPS\nspace directions: (0,0,0) (0,1,0) (0,0,1)\n\n1", "zero"},
		{"space", "NRRD0004\ntype: float\ndimension: 3\nsizes: 1 1 1\nencoding: ascii\nspace: left-anterior\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n\n1", "field space"},
		{"huge", "NRRD0004\ntype: double\ndimension: 3\nsizes: 1000000 1000000 1000000\nencoding: raw\n\n", "size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeNRRD(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestReadNRRDDetached(t *testing.T) {
	dir := t.TempDir()
	hdr := "NRRD0004\ntype: float\ndimension: 3\nsizes: 2 1 1\nencoding: raw\nendian: little\ndata file: v.raw\n"
	if err := os.WriteFile(filepath.Join(dir, "v.nhdr"), []byte(hdr), 0o644); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, []float32{1.5, -2})
	if err := os.WriteFile(filepath.Join(dir, "v.raw"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := ReadVolumeFile(filepath.Join(dir, "v.nhdr"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Data[0] != 1.5 || v.Data[1] != -2 || math.IsNaN(v.Data[0]) {
		t.Fatalf("data %v, want [1.5 -2]", v.Data)
	}
}

func FuzzDecodeNRRD(f *testing.F) {
	if b, err := os.ReadFile("testdata/phantom_image.nrrd"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("NRRD0004\ntype: short\ndimension: 3\nsizes: 2 1 1\nencoding: raw\nspace directions: (1,0,0) (0,1,0) (0,0,1)\nspace: RAS\n\n\x01\x00\x02\x00"))
	f.Add([]byte("NRRD0004\ntype: float\ndimension: 2\nsizes: 1 1\nencoding: gzip\n\n\x1f\x8b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeNRRD(bytes.NewReader(b))
		if err == nil && len(v.Data) != v.Len() {
			t.Fatalf("decoded %d voxels for size %v", len(v.Data), v.Size)
		}
	})
}
