package synth

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// readTree maps every file under dir (relative path) to its bytes.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestDeterministic is acceptance 3 at small scale: the same seed gives byte-identical output whatever
// the number of workers; another seed gives other bytes. (scripts/synth-repro.sh checks 183 patients.)
func TestDeterministic(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	runs := []Options{
		{Patients: 3, Seed: 11, Matrix: 64, Slices: 6, Workers: 1},
		{Patients: 3, Seed: 11, Matrix: 64, Slices: 6, Workers: 3},
		{Patients: 3, Seed: 12, Matrix: 64, Slices: 6, Workers: 2},
	}
	var trees []map[string][]byte
	for i, o := range runs {
		o.Out = dirs[i]
		if _, err := Generate(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		trees = append(trees, readTree(t, dirs[i]))
	}
	if want := 3 + 3*(2*6+3); len(trees[0]) != want {
		t.Errorf("%d files, want %d", len(trees[0]), want)
	}
	for name, b := range trees[0] {
		if !bytes.Equal(b, trees[1][name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	same := 0
	for name, b := range trees[0] {
		if bytes.Equal(b, trees[2][name]) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d files are identical for seeds 11 and 12", same)
	}
}

// TestLabels checks the label contract: 1 is the patient's left (+x in LPS), 2 the right, both overlap the
// joints, and reader 2 differs from reader 1 by at most a one-voxel perturbation.
func TestLabels(t *testing.T) {
	for idx := 0; idx < 6; idx++ {
		st, err := GeneratePatient(9, idx, ImageOptions{Matrix: 96, Slices: 10})
		if err != nil {
			t.Fatal(err)
		}
		g := st.Grid
		var sumX [3]float64
		var n [3]float64
		for k := 0; k < g.Size[2]; k++ {
			for j := 0; j < g.Size[1]; j++ {
				for i := 0; i < g.Size[0]; i++ {
					l := st.Reader1.Data[g.Index(i, j, k)]
					if l == 0 {
						continue
					}
					sumX[l] += g.Point(float64(i), float64(j), float64(k))[0]
					n[l]++
				}
			}
		}
		if n[1] == 0 || n[2] == 0 {
			t.Fatalf("patient %d: empty label (%v voxels)", idx, n)
		}
		if lx, rx := sumX[1]/n[1], sumX[2]/n[2]; lx <= rx {
			t.Errorf("patient %d: label 1 mean x %.1f is not left (+x) of label 2 mean x %.1f", idx, lx, rx)
		}
		for _, l := range []uint8{1, 2} {
			var inter, a, b float64
			for i := range st.Reader1.Data {
				x, y := st.Reader1.Data[i] == l, st.Reader2.Data[i] == l
				if x {
					a++
				}
				if y {
					b++
				}
				if x && y {
					inter++
				}
			}
			dice := 2 * inter / (a + b)
			if dice < 0.5 || dice >= 1 {
				t.Errorf("patient %d label %d: reader Dice %.3f, want a small perturbation (0.5…1)", idx, l, dice)
			}
		}
	}
}

// TestSEG checks the SEG pixel data against reader 1: frames unpack (1 bit, LSB first, continuous) to
// the label map, one frame per non-empty (segment, slice).
func TestSEG(t *testing.T) {
	c := smallCohort(t)
	rec := c.Records[0]
	pdir := PatientDir(c.Dir, rec.PatientID)
	// reader1.nii.gz is in dcm2niix's row order; the SEG frames are in DICOM row order.
	lab, err := image.ReadNIfTILabels(filepath.Join(pdir, "labels", "reader1.nii.gz"))
	if err == nil {
		lab = lab.FlipRows()
	}
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dicom.ParseFile(filepath.Join(pdir, "seg.dcm"), nil, dicom.SkipProcessingPixelDataValue())
	if err != nil {
		t.Fatal(err)
	}
	get := func(tg tag.Tag) *dicom.Element {
		e, err := ds.FindElementByTag(tg)
		if err != nil {
			t.Fatalf("SEG: %v: %v", tg, err)
		}
		return e
	}
	frames := dicom.MustGetStrings(get(tag.NumberOfFrames).Value)[0]
	px := dicom.MustGetPixelDataInfo(get(tag.PixelData).Value).UnprocessedValueData
	per, _ := get(tag.PerFrameFunctionalGroupsSequence).Value.GetValue().([]*dicom.SequenceItemValue)
	if frames == "" || len(per) == 0 {
		t.Fatalf("SEG: %s frames, %d per-frame items", frames, len(per))
	}
	m := lab.Size[0] * lab.Size[1]
	var want []byte
	nbit := 0
	nframes := 0
	for _, l := range []uint8{1, 2} {
		for k := 0; k < lab.Size[2]; k++ {
			fr := lab.Data[k*m : (k+1)*m]
			if !bytes.Contains(fr, []byte{l}) {
				continue
			}
			nframes++
			for i, x := range fr {
				b := nbit + i
				for len(want) <= b/8 {
					want = append(want, 0)
				}
				if x == l {
					want[b/8] |= 1 << (b % 8)
				}
			}
			nbit += m
		}
	}
	if len(want)%2 == 1 {
		want = append(want, 0)
	}
	if frames != strconv.Itoa(nframes) || len(per) != nframes {
		t.Errorf("SEG has %s frames and %d per-frame items, want %d", frames, len(per), nframes)
	}
	if !bytes.Equal(px, want) {
		t.Errorf("SEG pixel data (%d bytes) differs from reader 1 (%d bytes)", len(px), len(want))
	}
}

// TestGenerateErrors checks bad options and cancellation.
func TestGenerateErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		opt  Options
		want string
	}{
		{"no patients", context.Background(), Options{Out: t.TempDir()}, "need at least 1"},
		{"no out", context.Background(), Options{Patients: 1}, "no output directory"},
		{"small matrix", context.Background(), Options{Out: t.TempDir(), Patients: 1, Matrix: 63}, "matrix 63"},
		{"few slices", context.Background(), Options{Out: t.TempDir(), Patients: 1, Slices: 2}, "slices 2"},
		{"too many voxels", context.Background(), Options{Out: t.TempDir(), Patients: 1, Matrix: 1024, Slices: 40}, "voxels per series"},
		{"cancelled", ctx, Options{Out: t.TempDir(), Patients: 3, Matrix: 64, Slices: 4}, "context canceled"},
	}
	for _, c := range cases {
		_, err := Generate(c.ctx, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
