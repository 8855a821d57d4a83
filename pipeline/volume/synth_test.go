package volume_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
	"github.com/sacrum-dev/sacrum/pipeline/synth"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
)

// TestSynthMatchesDcm2niix is acceptance 1 of issue 6 on `sacrum synth` studies (oblique coronal, 20–35°
// tilt): for both series the assembled affine equals dcm2niix's (RAS → LPS, up to its axis flips) within
// 1e-3 mm and every voxel value matches at the same patient position; the STIR grid equals reader 1's.
func TestSynthMatchesDcm2niix(t *testing.T) {
	bin, err := exec.LookPath("dcm2niix")
	if err != nil {
		t.Fatalf("dcm2niix not found: `make setup` installs it (Debian package dcm2niix)")
	}
	dir := t.TempDir()
	c, err := synth.Generate(context.Background(), synth.Options{Out: dir, Patients: 2, Seed: 3, Matrix: 96, Slices: 12})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range c.Records {
		pdir := synth.PatientDir(dir, rec.PatientID)
		st, err := volume.ReadDir(context.Background(), filepath.Join(pdir, "dicom"))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st.Series {
			v, err := volume.Assemble(s)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			if b, err := exec.Command(bin, "-z", "n", "-b", "n", "-f", "vol", "-o", out, filepath.Dir(s.Instances[0].Path)).CombinedOutput(); err != nil {
				t.Fatalf("dcm2niix: %v\n%s", err, b)
			}
			ref, err := image.ReadNIfTIVolume(filepath.Join(out, "vol.nii"))
			if err != nil {
				t.Fatal(err)
			}
			if o, angle, _ := s.Orientation(); o != "coronal" || angle < 15 {
				t.Errorf("%s: orientation %s %.0f°, want oblique coronal", s.Name(), o, angle)
			}
			volume.CompareThroughAffines(t, v, ref)
			t.Logf("%s %s: %v voxels match dcm2niix", rec.PatientID, s.Description, ref.Size)
		}
		p, err := volume.Prepare(context.Background(), st, volume.DefaultSelection())
		if err != nil {
			t.Fatal(err)
		}
		// reader1.nii.gz is in dcm2niix's row order: the same voxels as the STIR grid, rows reversed.
		lab, err := image.ReadNIfTILabels(filepath.Join(pdir, "labels", "reader1.nii.gz"))
		if err != nil {
			t.Fatal(err)
		}
		if !lab.FlipRows().Grid.SameGrid(p.STIR.Grid, 1e-3) {
			t.Errorf("%s: STIR grid %+v differs from reader 1's %+v (rows reversed)", rec.PatientID, p.STIR.Grid, lab.Grid)
		}
	}
}
