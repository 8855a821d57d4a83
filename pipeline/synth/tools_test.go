package synth

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// fixture is a small cohort written once for the tests that run external tools.
var fixture struct {
	once   sync.Once
	dir    string
	cohort *Cohort
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// smallCohort has four patients (seed 5): patients 1–3 at 128×128×12, enough to exercise every module.
func smallCohort(t *testing.T) *Cohort {
	t.Helper()
	fixture.once.Do(func() {
		fixture.dir, fixture.err = os.MkdirTemp("", "synth-test-")
		if fixture.err == nil {
			fixture.cohort, fixture.err = Generate(context.Background(), Options{Out: fixture.dir, Patients: 4, Seed: 5, Matrix: 128, Slices: 12})
		}
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return fixture.cohort
}

func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: `make setup` installs it (Debian package %s)", name, pkg)
	}
	return p
}

// TestDciodvfy is acceptance 1: every MR object and the SEG pass dciodvfy with no error and no warning.
func TestDciodvfy(t *testing.T) {
	bin := lookTool(t, "dciodvfy", "dicom3tools")
	c := smallCohort(t)
	// One patient at the default protocol size as well (256×256×20).
	st, err := GeneratePatient(5, 10, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	full, err := st.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, files := range append(c.Files, full) {
		for _, f := range files {
			out, _ := exec.Command(bin, "-new", f).CombinedOutput()
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "Error") || strings.HasPrefix(line, "Warning") {
					t.Errorf("%s: %s", f, line)
				}
			}
			n++
		}
	}
	if want := 4*(2*12+1) + 2*20 + 1; n != want {
		t.Errorf("checked %d files, want %d", n, want)
	}
}

// TestDcm2niix is acceptance 2: dcm2niix converts each series, its affine equals the affine of
// labels/reader1.nii.gz within 1e-3 (both are written in dcm2niix's row order), voxel values equal the stored
// pixels, and for patients with oedema the mean STIR inside the ROI exceeds the mean outside.
func TestDcm2niix(t *testing.T) {
	bin := lookTool(t, "dcm2niix", "dcm2niix")
	c := smallCohort(t)
	tmp := t.TempDir()
	positive := 0
	for _, rec := range c.Records {
		pdir := PatientDir(c.Dir, rec.PatientID)
		lab, err := image.ReadNIfTILabels(filepath.Join(pdir, "labels", "reader1.nii.gz"))
		if err != nil {
			t.Fatal(err)
		}
		want := lab.Grid.Affine()
		st, err := Render(c.Seed, rec, c.Image)
		if err != nil {
			t.Fatal(err)
		}
		for _, sn := range []int{SeriesT1, SeriesSTIR} {
			name := fmt.Sprintf("%s_%d", rec.PatientID, sn)
			out, err := exec.Command(bin, "-z", "n", "-b", "n", "-f", name, "-o", tmp, filepath.Join(pdir, "dicom", fmt.Sprint(sn))).CombinedOutput()
			if err != nil {
				t.Fatalf("dcm2niix %s series %d: %v\n%s", rec.PatientID, sn, err, out)
			}
			v, err := image.ReadNIfTIVolume(filepath.Join(tmp, name+".nii"))
			if err != nil {
				t.Fatalf("%s series %d: %v", rec.PatientID, sn, err)
			}
			got := v.Grid.Affine()
			for e := range got {
				if math.Abs(got[e]-want[e]) > 1e-3 {
					t.Fatalf("%s series %d: dcm2niix affine %v, labels %v", rec.PatientID, sn, got, want)
				}
			}
			if v.Size != lab.Size {
				t.Fatalf("%s series %d: dcm2niix size %v, labels %v", rec.PatientID, sn, v.Size, lab.Size)
			}
			m1 := lab.Size[1]
			px := st.T1
			if sn == SeriesSTIR {
				px = st.STIR
			}
			// The stored pixels are in DICOM row order (st.Grid); the NIfTI files have the rows reversed.
			for k := 0; k < lab.Size[2]; k++ {
				for j := 0; j < m1; j++ {
					for i := 0; i < lab.Size[0]; i++ {
						if got, want := v.At(i, j, k), float64(px[st.Grid.Index(i, m1-1-j, k)]); got != want {
							t.Fatalf("%s series %d voxel (%d,%d,%d): dcm2niix %g, stored %g", rec.PatientID, sn, i, j, k, got, want)
						}
					}
				}
			}
			if sn != SeriesSTIR {
				continue
			}
			// Mean STIR inside vs outside the ROI: labels and dcm2niix's volume share one grid.
			var in, out2, nin, nout float64
			for k := 0; k < lab.Size[2]; k++ {
				for j := 0; j < m1; j++ {
					for i := 0; i < lab.Size[0]; i++ {
						x := v.At(i, j, k)
						if lab.Data[lab.Index(i, j, k)] > 0 {
							in, nin = in+x, nin+1
						} else {
							out2, nout = out2+x, nout+1
						}
					}
				}
			}
			in, out2 = in/nin, out2/nout
			if rec.Latent.Oedema() >= 0.3 {
				positive++
				if in <= out2 {
					t.Errorf("%s (oedema %.2f): mean STIR inside ROI %.1f ≤ outside %.1f", rec.PatientID, rec.Latent.Oedema(), in, out2)
				}
			}
			t.Logf("%s oedema %.2f: STIR inside %.1f outside %.1f", rec.PatientID, rec.Latent.Oedema(), in, out2)
		}
	}
	if positive == 0 {
		t.Errorf("no oedema-positive patient in the fixture: the inside/outside check never ran")
	}
}
