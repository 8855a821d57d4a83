package volume

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

var oblique = seriesSpec{
	UID: "1.2.826.0.1.3680043.10.1.3", Number: 3, Description: "STIR_cor_obl", Scanning: `IR\SE`, TI: 150,
	Cols: 40, Rows: 32, Slices: 9, Pixel: [2]float64{0.8, 0.9}, SliceGap: 4, TiltDeg: 27,
	Origin: [3]float64{-20.5, -40.25, 60}, Slope: 0.5, Intercept: -100,
}

func readOne(t *testing.T, dir string) *Series {
	t.Helper()
	st, err := ReadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Series) != 1 {
		t.Fatalf("%d series, want 1 (skipped: %v)", len(st.Series), st.Skipped)
	}
	return st.Series[0]
}

// checkVolume compares an assembled volume with the spec voxel by voxel and its grid with the spec geometry.
func checkVolume(t *testing.T, v *image.Volume, s seriesSpec) {
	t.Helper()
	o, n := s.orientation(), s.normal()
	want := image.Grid{
		Size:    [3]int{s.Cols, s.Rows, s.Slices},
		Spacing: [3]float64{s.Pixel[1], s.Pixel[0], s.SliceGap},
		Origin:  s.position(0),
	}
	for r := range 3 {
		want.Direction[3*r], want.Direction[3*r+1], want.Direction[3*r+2] = o[r], o[3+r], n[r]
	}
	if !v.Grid.SameGrid(want, 1e-9) {
		t.Fatalf("grid %+v, want %+v", v.Grid, want)
	}
	for k := 0; k < s.Slices; k++ {
		for j := 0; j < s.Rows; j++ {
			for i := 0; i < s.Cols; i++ {
				w := float64(s.value(i, j, k))*s.Slope + s.Intercept
				if got := v.At(i, j, k); got != w {
					t.Fatalf("voxel (%d,%d,%d) = %g, want %g", i, j, k, got, w)
				}
			}
		}
	}
}

func TestAssembleOblique(t *testing.T) {
	dir := t.TempDir()
	writeSeries(t, dir, oblique)
	s := readOne(t, dir)
	v, err := Assemble(s)
	if err != nil {
		t.Fatal(err)
	}
	checkVolume(t, v, oblique)
}

func TestAssembleEnhancedMR(t *testing.T) {
	dir := t.TempDir()
	writeEnhanced(t, filepath.Join(dir, "enhanced.dcm"), oblique)
	s := readOne(t, dir)
	if got := strings.Join(s.ScanningSequence, `\`); got != `SE\IR` || s.InversionTime != 150 {
		t.Errorf("Enhanced MR sequence = %q TI %g, want SE\\IR TI 150", got, s.InversionTime)
	}
	v, err := Assemble(s)
	if err != nil {
		t.Fatal(err)
	}
	checkVolume(t, v, oblique)
}

// TestAssembleMatchesDcm2niix is acceptance 1 of issue 6: the affine equals dcm2niix's (RAS converted to LPS,
// allowing dcm2niix's row/slice flips) within 1e-3 mm, and every voxel value matches at the same patient position.
func TestAssembleMatchesDcm2niix(t *testing.T) {
	bin, err := exec.LookPath("dcm2niix")
	if err != nil {
		t.Fatalf("dcm2niix not found: `make setup` installs it (Debian package dcm2niix)")
	}
	for _, tilt := range []float64{0, 20, 35} {
		spec := oblique
		spec.TiltDeg = tilt
		dir, out := t.TempDir(), t.TempDir()
		writeSeries(t, dir, spec)
		cmd := exec.Command(bin, "-z", "n", "-b", "n", "-f", "vol", "-o", out, dir)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dcm2niix: %v\n%s", err, b)
		}
		ref, err := image.ReadNIfTIVolume(filepath.Join(out, "vol.nii"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := Assemble(readOne(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		CompareThroughAffines(t, v, ref)
	}
}

// CompareThroughAffines (exported for the external tests of this package) checks that ref's voxels are ours up to an axis permutation/flip: each column of ref's
// affine is ± one of ours within 1e-3, and each ref voxel lies (within 1e-3 mm) on one of our voxels with the
// same value.
func CompareThroughAffines(t *testing.T, v, ref *image.Volume) {
	t.Helper()
	a, b := v.Grid.Affine(), ref.Grid.Affine()
	for c := range 3 {
		found := false
		for d := range 3 {
			for _, sign := range []float64{1, -1} {
				ok := true
				for r := range 3 {
					ok = ok && math.Abs(b[4*r+c]-sign*a[4*r+d]) < 1e-3
				}
				found = found || ok
			}
		}
		if !found {
			t.Fatalf("dcm2niix affine column %d [%g %g %g] is not ± a column of ours %v", c, b[c], b[4+c], b[8+c], a)
		}
	}
	inv := inverse(v.Grid)
	for k := 0; k < ref.Size[2]; k++ {
		for j := 0; j < ref.Size[1]; j++ {
			for i := 0; i < ref.Size[0]; i++ {
				idx := inv(ref.Point(float64(i), float64(j), float64(k)))
				var n [3]int
				for x := range 3 {
					n[x] = int(math.Round(idx[x]))
					if d := math.Abs(idx[x]-float64(n[x])) * v.Spacing[x]; d > 1e-3 {
						t.Fatalf("dcm2niix voxel (%d,%d,%d) is %.4f mm off our grid", i, j, k, d)
					}
				}
				if !v.Contains(n[0], n[1], n[2]) {
					t.Fatalf("dcm2niix voxel (%d,%d,%d) maps outside our grid at %v", i, j, k, n)
				}
				if got, want := ref.At(i, j, k), v.At(n[0], n[1], n[2]); math.Abs(got-want) > 1e-6 {
					t.Fatalf("dcm2niix voxel (%d,%d,%d) = %g, ours at %v = %g", i, j, k, got, n, want)
				}
			}
		}
	}
}

func TestAssembleErrors(t *testing.T) {
	tilted := oblique.orientation()
	tilted[4], tilted[5] = 0, -1 // one plain coronal slice in an oblique series
	tests := []struct {
		name string
		mod  func(*seriesSpec)
		want string
	}{
		{"missing slice", func(s *seriesSpec) { s.Skip = map[int]bool{4: true} }, "missing slice: gap of 8.00 mm between instance 4"},
		{"two missing slices", func(s *seriesSpec) { s.Skip = map[int]bool{2: true, 3: true} }, "(2 slice(s) missing)"},
		{"mixed orientations", func(s *seriesSpec) { s.Orient = map[int][6]float64{5: tilted} }, "mixed orientations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := oblique
			tc.mod(&s)
			dir := t.TempDir()
			writeSeries(t, dir, s)
			_, err := Assemble(readOne(t, dir))
			var se *SeriesError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a *SeriesError", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `series 3 "STIR_cor_obl"`) {
				t.Fatalf("error %q, want it to name the series and contain %q", err, tc.want)
			}
		})
	}
}

func TestReadDirSkipsNonDICOM(t *testing.T) {
	dir := t.TempDir()
	writeSeries(t, dir, oblique)
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("not dicom"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := ReadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Series) != 1 || len(st.Skipped) != 1 || !strings.Contains(st.Skipped[0], "README") {
		t.Fatalf("series %d, skipped %q: want 1 series and README skipped", len(st.Series), st.Skipped)
	}
}

func TestSelect(t *testing.T) {
	stir := oblique
	t1 := oblique
	t1.UID, t1.Number, t1.Description, t1.Scanning, t1.TI = "1.2.826.0.1.3680043.10.1.4", 2, "T1_TSE_cor_obl", "SE", 0
	loc := oblique
	loc.UID, loc.Number, loc.Description, loc.Scanning, loc.TI, loc.TiltDeg, loc.Slices = "1.2.826.0.1.3680043.10.1.5", 1, "t1 localizer", "GR", 0, 90, 3
	t1fs := t1
	t1fs.UID, t1fs.Number, t1fs.Description = "1.2.826.0.1.3680043.10.1.6", 4, "T1_TSE_FS_cor"

	tests := []struct {
		name      string
		series    []seriesSpec
		stir, t1  string
		errSubstr string
		reasons   map[int]string // series number → substring of its decision reason
	}{
		{"usual protocol", []seriesSpec{loc, t1, stir, t1fs}, stir.UID, t1.UID, "", map[int]string{
			1: "orientation axial (0° oblique) is not coronal",
			2: "T1: description",
			3: "STIR: description \"STIR_cor_obl\"",
			4: "match the exclusion",
		}},
		{"no T1", []seriesSpec{stir}, stir.UID, "", "", nil},
		{"no STIR", []seriesSpec{loc, t1}, "", t1.UID, `series 2 "T1_TSE_cor_obl": not STIR: description "T1_TSE_cor_obl"`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, s := range tc.series {
				writeSeries(t, filepath.Join(dir, s.UID), s)
			}
			st, err := ReadDir(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			sel, err := Select(st, DefaultSelection())
			if tc.errSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("error %v, want %q", err, tc.errSubstr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			uid := func(s *Series) string {
				if s == nil {
					return ""
				}
				return s.UID
			}
			if uid(sel.STIR) != tc.stir || uid(sel.T1) != tc.t1 {
				t.Errorf("chose STIR %q T1 %q, want %q %q", uid(sel.STIR), uid(sel.T1), tc.stir, tc.t1)
			}
			if len(sel.Decisions) != len(tc.series) {
				t.Errorf("%d decisions for %d series", len(sel.Decisions), len(tc.series))
			}
			for _, d := range sel.Decisions {
				if want, ok := tc.reasons[d.Number]; ok && !strings.Contains(d.Reason, want) {
					t.Errorf("series %d reason %q, want %q", d.Number, d.Reason, want)
				}
			}
		})
	}
}

func TestResampleLinear(t *testing.T) {
	src := image.Grid{Size: [3]int{20, 18, 10}, Spacing: [3]float64{1, 1.2, 3}, Origin: [3]float64{-5, 3, 7}}
	src.Direction = [9]float64{1, 0, 0, 0, math.Cos(0.3), -math.Sin(0.3), 0, math.Sin(0.3), math.Cos(0.3)}
	f := func(p [3]float64) float64 { return 2*p[0] - 0.5*p[1] + 0.25*p[2] + 10 }
	v := image.NewVolume(src)
	for k := 0; k < 10; k++ {
		for j := 0; j < 18; j++ {
			for i := 0; i < 20; i++ {
				v.Set(i, j, k, f(src.Point(float64(i), float64(j), float64(k))))
			}
		}
	}
	if Resample(v, src) != v {
		t.Fatal("resampling onto the same grid should return the volume itself")
	}
	dst := image.Grid{Size: [3]int{8, 8, 4}, Spacing: [3]float64{0.7, 0.9, 2}, Origin: src.Point(5.3, 4.1, 3.2), Direction: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}}
	r := Resample(v, dst)
	for k := 0; k < 4; k++ {
		for j := 0; j < 8; j++ {
			for i := 0; i < 8; i++ {
				want := f(dst.Point(float64(i), float64(j), float64(k)))
				if got := r.At(i, j, k); math.Abs(got-want) > 1e-9 {
					t.Fatalf("resampled (%d,%d,%d) = %g, want %g (trilinear is exact for linear images)", i, j, k, got, want)
				}
			}
		}
	}
}

// TestParseFileTruncated: truncated and garbled files give an error naming the file, never a panic.
func TestParseFileTruncated(t *testing.T) {
	dir := t.TempDir()
	writeSeries(t, dir, oblique)
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 10, 132, 200, 400, len(b) / 2, len(b) - 2} {
		p := filepath.Join(t.TempDir(), "cut.dcm")
		if err := os.WriteFile(p, b[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseFile(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%d bytes: error %v, want one naming the file", n, err)
		}
	}
}

// TestPrescanLengths: a value length beyond the end of the file is refused before the parser allocates it.
func TestPrescanLengths(t *testing.T) {
	dir := t.TempDir()
	writeSeries(t, dir, oblique)
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	good, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := prescan(good); err != nil {
		t.Fatalf("valid file refused: %v", err)
	}
	// The PixelData header: tag, "OW", 2 reserved bytes, 4-byte length.
	i := strings.LastIndex(string(good), "\xe0\x7f\x10\x00OW")
	if i < 0 {
		t.Fatal("no PixelData header")
	}
	bad := append([]byte(nil), good...)
	copy(bad[i+8:], []byte{0xf0, 0xff, 0xff, 0x7f})
	err = prescan(bad)
	if err == nil || !strings.Contains(err.Error(), "element (7FE0,0010) declares 2147483632 bytes") {
		t.Fatalf("error %v, want the PixelData length refused", err)
	}
	p := filepath.Join(dir, "bad.dcm")
	os.WriteFile(p, bad, 0o644)
	if _, err := ParseFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("ParseFile error %v, want one naming the file", err)
	}
}

// TestDeflated: a series stored with the deflated transfer syntax (as the node stores what it receives)
// assembles to the same volume.
func TestDeflated(t *testing.T) {
	bin, err := exec.LookPath("dcmconv")
	if err != nil {
		t.Fatalf("dcmconv not found: `make setup` installs it (Debian package dcmtk)")
	}
	src, dir := t.TempDir(), t.TempDir()
	writeSeries(t, src, oblique)
	files, _ := filepath.Glob(filepath.Join(src, "*.dcm"))
	for _, f := range files {
		cmd := exec.Command(bin, "+td", f, filepath.Join(dir, filepath.Base(f)))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dcmconv: %v\n%s", err, b)
		}
	}
	v, err := Assemble(readOne(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	checkVolume(t, v, oblique)
}
