// Command gen writes the small features and clinical CSVs of the sacrum
// train golden tests: the clinical rows of `sacrum synth` (pipeline/synth
// cohort, so outcomes follow its generating model) and a features table
// made from the cohort's latent imaging variables with measurement noise,
// two readers, redundant copies, poorly reproducible and pure-noise
// features. It stands in for `sacrum features` so the tests stay small and
// fast.
//
//	go run ./cmd/sacrum/testdata/train/gen -out cmd/sacrum/testdata/train
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sacrum-dev/sacrum/pipeline/synth"
)

func main() {
	out := flag.String("out", ".", "directory for features.csv and clinical.csv")
	n := flag.Int("patients", 140, "patients")
	noise := flag.Int("noise", 14, "pure-noise features")
	derived := flag.Int("derived", 0, "extra features derived from the imaging latents with noise (for benchmarks)")
	seed := flag.Int64("seed", 3, "cohort seed")
	flag.Parse()
	recs := synth.NewCohort(*seed, *n)
	f, err := os.Create(filepath.Join(*out, "clinical.csv"))
	if err != nil {
		log.Fatal(err)
	}
	if err := synth.WriteClinicalCSV(f, recs); err != nil {
		log.Fatal(err)
	}
	f.Close()

	rng := rand.New(rand.NewPCG(uint64(*seed), 99))
	type feat struct {
		name        string
		value       func(r synth.Record) float64
		readerNoise float64
	}
	feats := []feat{
		{"stir_mean_left", func(r synth.Record) float64 { return 300 + 500*r.Latent.OedemaLeft }, 10},
		{"stir_mean_right", func(r synth.Record) float64 { return 300 + 500*r.Latent.OedemaRight }, 10},
		{"stir_mean_both", func(r synth.Record) float64 { return 300 + 500*r.Latent.Oedema() }, 8},
		{"stir_glcm_contrast", func(r synth.Record) float64 { return math.Exp(1 + 1.5*r.Latent.Texture) }, 0.3},
		{"t1_fat_fraction", func(r synth.Record) float64 { return 0.1 + 0.6*r.Latent.FatMetaplasia }, 0.02},
		{"t1_erosion_score", func(r synth.Record) float64 { return 4 * r.Latent.Erosion }, 0.2},
		{"deep_encoder_1", func(r synth.Record) float64 { return 2*r.Latent.Oedema() - r.Latent.Texture }, 0.05},
		{"stir_mean_both_copy", func(r synth.Record) float64 { return 301 + 500*r.Latent.Oedema() }, 8},
		{"stir_mean_irreproducible", func(r synth.Record) float64 { return 300 + 500*r.Latent.Oedema() }, 500},
		{"constant_feature", func(r synth.Record) float64 { return 1 }, 0},
	}
	latents := []func(r synth.Record) float64{
		func(r synth.Record) float64 { return r.Latent.Oedema() },
		func(r synth.Record) float64 { return r.Latent.Texture },
		func(r synth.Record) float64 { return r.Latent.FatMetaplasia },
		func(r synth.Record) float64 { return r.Latent.Erosion },
	}
	for k := 0; k < *derived; k++ {
		l, scale := latents[k%len(latents)], 0.02+0.3*float64(k%17)/16
		feats = append(feats, feat{fmt.Sprintf("derived_%04d", k), func(r synth.Record) float64 { return math.Exp(2 * l(r)) }, scale})
	}
	for k := 0; k < *noise; k++ {
		feats = append(feats, feat{fmt.Sprintf("noise_%02d", k), func(synth.Record) float64 { return 0 }, 0.2})
	}
	w, err := os.Create(filepath.Join(*out, "features.csv"))
	if err != nil {
		log.Fatal(err)
	}
	cw := csv.NewWriter(w)
	header := []string{"patient_id", "reader"}
	for _, f := range feats {
		header = append(header, f.name)
	}
	cw.Write(header)
	for _, r := range recs {
		base := make([]float64, len(feats))
		for j, f := range feats {
			// Measurement noise common to both readers, then reader noise.
			base[j] = f.value(r)
			if f.readerNoise > 0 {
				base[j] += 0.5 * f.readerNoise * rng.NormFloat64()
			}
			if f.name[:5] == "noise" {
				base[j] = rng.NormFloat64()
			}
		}
		for reader := 1; reader <= 2; reader++ {
			row := []string{r.PatientID, strconv.Itoa(reader)}
			for j, f := range feats {
				v := base[j] + f.readerNoise*0.3*rng.NormFloat64()
				row = append(row, strconv.FormatFloat(v, 'g', 6, 64))
			}
			cw.Write(row)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		log.Fatal(err)
	}
	w.Close()
}
