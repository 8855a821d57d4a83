package synth

import (
	"os"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

func TestScratch(t *testing.T) {
	dir := os.Getenv("SCRATCH")
	if dir == "" {
		t.Skip()
	}
	t0 := time.Now()
	st, err := GeneratePatient(1, 0, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	if _, err := st.Write(dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("render %v write %v", t1.Sub(t0), time.Since(t1))
}

func TestScratchAffine(t *testing.T) {
	dir := os.Getenv("SCRATCH")
	if dir == "" {
		t.Skip()
	}
	v, err := image.ReadNIfTIVolume(dir + "/nii/3.nii.gz")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := GeneratePatient(1, 0, ImageOptions{})
	t.Logf("dcm2niix %+v", v.Grid)
	t.Logf("ours     %+v", st.Grid)
	m := st.Grid.Size[0]
	for _, ijk := range [][3]int{{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {0, 0, 3}} {
		t.Logf("nii %v = %v ; ours val %v", ijk, v.At(ijk[0], ijk[1], ijk[2]), st.STIR[ijk[0]+m*(ijk[1]+m*ijk[2])])
		t.Logf("ours flipped j %v", st.STIR[ijk[0]+m*((m-1-ijk[1])+m*ijk[2])])
	}
}
