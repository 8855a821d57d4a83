package study_test

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
	"github.com/sacrum-dev/sacrum/pipeline/radiomics"
	"github.com/sacrum-dev/sacrum/pipeline/study"
	"github.com/sacrum-dev/sacrum/pipeline/synth"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
)

// patient writes one small synthetic patient and returns its directory and the in-memory study.
func patient(t *testing.T) (string, *synth.Study) {
	t.Helper()
	st, err := synth.GeneratePatient(3, 0, synth.ImageOptions{Matrix: 96, Slices: 8})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := st.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir, st
}

func analyzer() *study.Analyzer {
	return study.New(nil, study.Config{Selection: volume.DefaultSelection(), Radiomics: radiomics.DefaultSettings()})
}

// TestAnalyzeProvidedSEG runs the whole analysis on a study that carries its SEG: the label map is reader 1's,
// the shape features follow the voxel counts, and every slice maps back to its source instance.
func TestAnalyzeProvidedSEG(t *testing.T) {
	dir, syn := patient(t)
	ctx := context.Background()
	st, err := volume.ReadDir(ctx, dir) // dicom/ and seg.dcm
	if err != nil {
		t.Fatal(err)
	}
	an, err := analyzer().Analyze(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if !an.Provided || an.LabelSource != "provided segmentation" {
		t.Fatalf("label source %q, provided %v", an.LabelSource, an.Provided)
	}
	vox := an.Prepared.STIR.Spacing[0] * an.Prepared.STIR.Spacing[1] * an.Prepared.STIR.Spacing[2]
	left, right := syn.Reader1.Count(1), syn.Reader1.Count(2)
	if left == 0 || right == 0 {
		t.Fatal("synthetic reader 1 has an empty side")
	}
	for _, c := range []struct {
		roi string
		n   int
	}{{"left", left}, {"right", right}, {"both", left + right}} {
		if got := an.Features.ROIVoxels[c.roi]; got != c.n {
			t.Errorf("%s: %d voxels, reader 1 has %d", c.roi, got, c.n)
		}
		got := an.Features.Values[study.Name(c.roi, "original_shape_VoxelVolume")]
		if want := float64(c.n) * vox; math.Abs(got-want) > 1e-6*want {
			t.Errorf("%s VoxelVolume %v, want %v", c.roi, got, want)
		}
	}
	// Names: left, right, both blocks in order, no duplicates, every name has a value.
	seen := map[string]bool{}
	block := 0
	for _, n := range an.Features.Names {
		if seen[n] {
			t.Fatalf("duplicate feature %s", n)
		}
		seen[n] = true
		if _, ok := an.Features.Values[n]; !ok {
			t.Fatalf("feature %s has no value", n)
		}
		for b, roi := range []string{"left_", "right_", "both_"} {
			if strings.HasPrefix(n, roi) {
				if b < block {
					t.Fatalf("feature %s after the %d-th ROI block", n, block)
				}
				block = b
			}
		}
	}
	if len(an.Features.Names)%3 != 0 {
		t.Errorf("%d features: not the same set per ROI", len(an.Features.Names))
	}
	rad, _, _ := an.Features.PerROI()
	if rad["left"]["original_shape_VoxelVolume"] != an.Features.Values["left_original_shape_VoxelVolume"] {
		t.Error("PerROI does not split the names")
	}

	refs, err := study.SliceRefs(an.Prepared.Selection.STIR, an.Prepared.STIR)
	if err != nil {
		t.Fatal(err)
	}
	g := an.Prepared.STIR.Grid
	for k, r := range refs {
		var in *volume.Instance
		for _, x := range an.Prepared.Selection.STIR.Instances {
			if x.SOPInstanceUID == r.SOPInstanceUID {
				in = x
			}
		}
		if in == nil || r.Frame != 0 {
			t.Fatalf("slice %d: ref %+v not a single-frame STIR instance", k, r)
		}
		p := g.Point(0, 0, float64(k))
		for a := range 3 {
			if math.Abs(p[a]-in.Frames[0].Position[a]) > 1e-3 {
				t.Fatalf("slice %d at %v, its instance at %v", k, p, in.Frames[0].Position)
			}
		}
	}
}

// TestFeaturesReaders computes the features of both readers' label maps from one preparation; reader 2's
// boundary differs, so intensity features differ while the voxel counts may not.
func TestFeaturesReaders(t *testing.T) {
	dir, _ := patient(t)
	ctx := context.Background()
	st, err := volume.ReadDir(ctx, filepath.Join(dir, "dicom"))
	if err != nil {
		t.Fatal(err)
	}
	a := analyzer()
	an, err := a.Prepare(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Segment(ctx, an); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("segment without model or SEG: %v", err)
	}
	var rows []study.Row
	for r := 1; r <= 2; r++ {
		l, err := image.ReadNIfTILabelsOn(filepath.Join(dir, "labels", []string{"", "reader1.nii.gz", "reader2.nii.gz"}[r]), an.Prepared.STIR.Grid)
		if err != nil {
			t.Fatal(err)
		}
		f, _, err := a.Features(ctx, an, l)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, study.Row{PatientID: "P1", Reader: r, Features: f})
	}
	m := "left_original_firstorder_Mean"
	if rows[0].Features.Values[m] == rows[1].Features.Values[m] {
		t.Errorf("%s equal for both readers", m)
	}
	var buf bytes.Buffer
	if err := study.WriteCSV(&buf, []study.Row{rows[1], rows[0]}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "patient_id,reader,left_") ||
		!strings.HasPrefix(lines[1], "P1,1,") || !strings.HasPrefix(lines[2], "P1,2,") {
		t.Fatalf("CSV layout:\n%.300s", buf.String())
	}

	// An empty side is an error naming it.
	empty := image.NewLabels(an.Prepared.STIR.Grid)
	empty.Data[0] = 1
	if _, _, err := a.Features(ctx, an, empty); err == nil || !strings.Contains(err.Error(), "right SIJ region is empty") {
		t.Errorf("empty right side: %v", err)
	}
	// A label map on another grid is refused.
	other := image.NewLabels(image.NewGrid([3]int{4, 4, 4}, [3]float64{1, 1, 1}))
	if _, _, err := a.Features(ctx, an, other); err == nil || !strings.Contains(err.Error(), "not on the STIR grid") {
		t.Errorf("other grid: %v", err)
	}
}

// TestWriteCSVUndefined writes NaN as an empty cell and the union of names.
func TestWriteCSVUndefined(t *testing.T) {
	rows := []study.Row{
		{PatientID: "B", Reader: 1, Features: &study.Features{Names: []string{"left_a", "left_b"},
			Values: map[string]float64{"left_a": 0.1, "left_b": math.NaN()}}},
		{PatientID: "A", Reader: 2, Features: &study.Features{Names: []string{"left_a", "left_c"},
			Values: map[string]float64{"left_a": 1e-20, "left_c": -3}}},
	}
	var buf bytes.Buffer
	if err := study.WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	want := "patient_id,reader,left_a,left_c,left_b\nA,2,1e-20,-3,\nB,1,0.1,,\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestOnGrid: a label map stored with a flipped axis is read back voxel for voxel; a shifted one is refused.
func TestOnGrid(t *testing.T) {
	g := image.NewGrid([3]int{3, 4, 2}, [3]float64{1, 2, 3})
	g.Origin = [3]float64{10, 20, 30}
	l := image.NewLabels(g)
	for p := range l.Data {
		l.Data[p] = uint8(p % 7)
	}
	// The same lattice with j reversed: origin at the last row, direction of j negated, rows stored reversed.
	f := image.NewLabels(g)
	f.Origin = g.Point(0, 3, 0)
	for r := range 3 {
		f.Direction[3*r+1] = -g.Direction[3*r+1]
	}
	for k := 0; k < 2; k++ {
		for j := 0; j < 4; j++ {
			for i := 0; i < 3; i++ {
				f.Data[f.Index(i, 3-j, k)] = l.Data[g.Index(i, j, k)]
			}
		}
	}
	got, err := study.OnGrid(f, g)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data, l.Data) || got.Grid != g {
		t.Errorf("flipped map read back as %v, want %v", got.Data, l.Data)
	}
	shifted := image.NewLabels(g)
	shifted.Origin[0] += 0.5
	if _, err := study.OnGrid(shifted, g); err == nil || !strings.Contains(err.Error(), "not on the STIR grid") {
		t.Errorf("half-voxel shift: %v", err)
	}
}
