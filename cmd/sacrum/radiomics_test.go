package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/synth"
)

var updateRadiomics = flag.Bool("update-radiomics", false, "rewrite the golden outputs under testdata/radiomics")

// ibsiDir holds the IBSI digital phantom and its reference table.
var ibsiDir = filepath.Join("..", "..", "pipeline", "radiomics", "testdata", "ibsi")

// runRadiomicsCase runs the args of a case directory ($IBSI and $CASE expand to the phantom's
// directory and the case's) and returns the output (stdout or the error) and its file name.
func runRadiomicsCase(t *testing.T, dir string) (got, file string, args []string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	args = []string{"radiomics"}
	for _, a := range strings.Fields(string(raw)) {
		a = strings.ReplaceAll(a, "$IBSI", ibsiDir)
		a = strings.ReplaceAll(a, "$CASE", dir)
		args = append(args, a)
	}
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	if err := m.Run(context.Background(), args); err != nil {
		msg := strings.ReplaceAll(err.Error(), ibsiDir, "$IBSI")
		return strings.ReplaceAll(msg, dir, "$CASE") + "\n", "error", args
	}
	return stdout.String(), "stdout", args
}

// TestRadiomicsGolden runs each case of testdata/radiomics/<case>/ against its expected stdout
// (JSON compared number by number) or its expected error.
func TestRadiomicsGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "radiomics", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			got, file, args := runRadiomicsCase(t, dir)
			if *updateRadiomics {
				resetGolden(dir, "stdout", "error")
			}
			asJSON := file == "stdout" && strings.Contains(strings.Join(args, " "), "--json")
			checkGolden(t, dir, file, got, *updateRadiomics, asJSON)
		})
	}
}

// TestRadiomicsIBSIPhantomCLI is acceptance 1 through the CLI: every row of the IBSI reference
// table with a value is reproduced by `sacrum radiomics … --naming ibsi --json` (morphology
// within the tolerance, the rest equal at 3 significant figures).
func TestRadiomicsIBSIPhantomCLI(t *testing.T) {
	got, file, _ := runRadiomicsCase(t, filepath.Join("testdata", "radiomics", "ibsi_phantom_json"))
	if file != "stdout" {
		t.Fatalf("sacrum radiomics failed: %s", got)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(got), &out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(ibsiDir, "ibsi_1_dig_phantom_reference_values.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	rows, ok := 0, 0
	for n := 0; sc.Scan(); n++ {
		p := strings.Split(strings.TrimSpace(sc.Text()), ";")
		if n == 0 || len(p) != 3 || p[0] == "" {
			continue
		}
		ref, _ := strconv.ParseFloat(p[0], 64)
		tol, _ := strconv.ParseFloat(p[1], 64)
		rows++
		v, isNum := out[p[2]].(float64)
		var match bool
		switch {
		case !isNum:
		case strings.HasPrefix(p[2], "morph_"):
			match = math.Abs(v-ref) <= tol+1e-12
		case ref == 0:
			match = math.Abs(v) < 5e-4
		default:
			e := math.Pow(10, 3-math.Ceil(math.Log10(math.Abs(v))))
			match = math.Abs(math.Round(v*e)/e-ref) <= 1e-9*math.Abs(ref)
		}
		if match {
			ok++
		} else {
			t.Errorf("%s = %v, reference %s (tolerance %s)", p[2], out[p[2]], p[0], p[1])
		}
	}
	t.Logf("IBSI phantom through the CLI: %d/%d rows", ok, rows)
	if rows != 482 {
		t.Errorf("%d reference rows with a value, want 482", rows)
	}
}

// TestRadiomicsDICOMInputs: a DICOM series with its DICOM SEG gives the same features as the NIfTI
// export of the same volume's labels (a synthetic patient from pipeline/synth).
func TestRadiomicsDICOMInputs(t *testing.T) {
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{Out: dir, Patients: 1, Seed: 3, Matrix: 64, Slices: 8}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "patients", "SYN0001")
	params := filepath.Join(dir, "params.yaml")
	if err := os.WriteFile(params, []byte("setting: {geometryTolerance: 0.001}\nfeatureClass: {shape: [VoxelVolume, MeshVolume], firstorder: [Mean, Median], glcm: [Contrast]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		var stdout bytes.Buffer
		m := &Main{Stdout: &stdout, Stderr: &bytes.Buffer{}}
		if err := m.Run(context.Background(), append([]string{"radiomics", "--params", params, "--json"}, args...)); err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		delete(out, "diagnostics")
		return out
	}
	stir := filepath.Join(p, "dicom", "3")
	for _, label := range []string{"1", "2"} {
		fromSEG := run("--image", stir, "--mask", filepath.Join(p, "seg.dcm"), "--label", label)
		fromNIfTI := run("--image", stir, "--mask", filepath.Join(p, "labels", "reader1.nii.gz"), "--label", label)
		if len(fromSEG) != 5 {
			t.Fatalf("label %s: %d features, want 5: %v", label, len(fromSEG), fromSEG)
		}
		compareJSON(t, "label "+label, fromSEG, fromNIfTI)
	}
	var stdout bytes.Buffer
	err := (&Main{Stdout: &stdout, Stderr: &stdout}).Run(context.Background(), []string{"radiomics", "--image", filepath.Join(p, "dicom"), "--mask", filepath.Join(p, "seg.dcm")})
	if err == nil || !strings.Contains(err.Error(), "2 DICOM image series") {
		t.Errorf("two series: err = %v, want it to ask for one series", err)
	}
}
