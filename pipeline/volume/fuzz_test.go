package volume

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseAssemble feeds arbitrary bytes as a DICOM file to ParseFile and Assemble: errors are fine,
// panics are not (files come from the network).
func FuzzParseAssemble(f *testing.F) {
	dir := f.TempDir()
	s := oblique
	s.Slices, s.Cols, s.Rows = 1, 4, 3
	writeSeries(f, dir, s)
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	b, err := os.ReadFile(files[0])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	writeEnhanced(f, filepath.Join(dir, "enh.dcm"), s)
	if b, err := os.ReadFile(filepath.Join(dir, "enh.dcm")); err == nil {
		f.Add(b)
	}
	path := filepath.Join(f.TempDir(), "fuzz.dcm")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		in, err := ParseFile(path)
		if err != nil {
			return
		}
		for _, s := range Group([]*Instance{in}) {
			Assemble(s)
			s.Orientation()
		}
	})
}
