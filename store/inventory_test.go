package store_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/store"
	"github.com/sacrum-dev/sacrum/store/storetest"
)

// TestInventorySRValid checks the inventory report with dicom3tools' dciodvfy, first run and rerun
// (with the Predecessor Documents Sequence).
func TestInventorySRValid(t *testing.T) {
	if _, err := exec.LookPath("dciodvfy"); err != nil {
		t.Fatal("dciodvfy not found: `make setup` installs dicom3tools")
	}
	uid := root + ".77"
	paths, err := storetest.Study(t.TempDir(), uid, "ACC77", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	in := &store.StudyInput{StudyUID: uid, Accession: "ACC77", OutDir: t.TempDir()}
	for _, p := range paths {
		in.Instances = append(in.Instances, store.InputInstance{Path: p, SeriesUID: uid + ".1", Modality: "MR"})
	}
	var prev []store.ResultObject
	for run := 1; run <= 2; run++ {
		in.Predecessors = prev
		res, err := store.InventoryPipeline{DeviceSerial: "SACRUM"}.Process(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Objects) != 1 || filepath.Dir(res.Objects[0].Path) != in.OutDir {
			t.Fatalf("objects %+v", res.Objects)
		}
		out, _ := exec.Command("dciodvfy", res.Objects[0].Path).CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "Error") {
				t.Errorf("run %d: dciodvfy: %s", run, line)
			}
		}
		prev = res.Objects
	}
}
