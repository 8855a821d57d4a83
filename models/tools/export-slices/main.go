// Command export-slices writes the model inputs of a `sacrum synth` cohort as raw arrays for the training
// scripts under models/ (Python reads them with numpy). It uses the same pre-processing as inference
// (volume.Prepare, infer.InputSpec.Prepare), so a model trained on its output sees at run time exactly what it
// saw in training.
//
//	go run ./models/tools/export-slices --cohort /tmp/train --out /tmp/train-slices
//
// Output: x.f32 (N×C×H×W little-endian float32), y.u8 (N×H×W labels of reader 1 on the patch grid), and
// meta.json (shapes, the input specification and the slices of each patient).
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sacrum-dev/sacrum/pipeline/image"
	"github.com/sacrum-dev/sacrum/pipeline/infer"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
)

type patient struct {
	ID     string `json:"id"`
	Slices int    `json:"slices"`
}

type meta struct {
	N        int             `json:"n"`
	C        int             `json:"c"`
	H        int             `json:"h"`
	W        int             `json:"w"`
	Input    infer.InputSpec `json:"input"`
	Patients []patient       `json:"patients"`
}

func main() {
	cohort := flag.String("cohort", "", "cohort directory in the sacrum synth layout")
	out := flag.String("out", "", "output directory")
	spacing := flag.Float64("spacing", 1.8, "in-plane spacing of the model input, mm")
	patch := flag.Int("patch", 128, "patch size (square)")
	channels := flag.String("channels", "stir,t1", "input channels")
	flag.Parse()
	if *cohort == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: export-slices --cohort DIR --out DIR [--spacing MM] [--patch N] [--channels stir,t1]")
		os.Exit(2)
	}
	spec := infer.InputSpec{
		Name: "image", Layout: "NCHW", Channels: strings.Split(*channels, ","),
		SpacingMM: [2]float64{*spacing, *spacing}, Patch: [2]int{*patch, *patch}, Normalisation: "zscore",
	}
	if err := run(context.Background(), *cohort, *out, spec); err != nil {
		fmt.Fprintln(os.Stderr, "export-slices:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cohort, out string, spec infer.InputSpec) error {
	dirs, err := filepath.Glob(filepath.Join(cohort, "patients", "*"))
	if err != nil || len(dirs) == 0 {
		return fmt.Errorf("no patients under %s/patients", cohort)
	}
	sort.Strings(dirs)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	xf, err := os.Create(filepath.Join(out, "x.f32"))
	if err != nil {
		return err
	}
	defer xf.Close()
	yf, err := os.Create(filepath.Join(out, "y.u8"))
	if err != nil {
		return err
	}
	defer yf.Close()
	m := meta{C: len(spec.Channels), H: spec.Patch[0], W: spec.Patch[1], Input: spec}
	for _, dir := range dirs {
		st, err := volume.ReadDir(ctx, filepath.Join(dir, "dicom"))
		if err != nil {
			return err
		}
		p, err := volume.Prepare(ctx, st, volume.DefaultSelection())
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		x, g, err := spec.Prepare(infer.Inputs{"stir": p.STIR, "t1": p.T1})
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		lab, err := image.ReadNIfTILabelsOn(filepath.Join(dir, "labels", "reader1.nii.gz"), g)
		if err != nil {
			return err
		}
		if !lab.Grid.SameGrid(g, 1e-3) {
			return fmt.Errorf("%s: reader1 labels are not on the STIR grid", dir)
		}
		if err := binary.Write(xf, binary.LittleEndian, x); err != nil {
			return err
		}
		if _, err := yf.Write(spec.LabelPatches(lab)); err != nil {
			return err
		}
		m.N += g.Size[2]
		m.Patients = append(m.Patients, patient{ID: filepath.Base(dir), Slices: g.Size[2]})
		fmt.Fprintf(os.Stderr, "\r%d patients", len(m.Patients))
	}
	fmt.Fprintln(os.Stderr)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "meta.json"), b, 0o644)
}
