// Package synth generates synthetic sacroiliac-joint MRI studies and a synthetic axial
// spondyloarthritis cohort whose generating model is known: the data every other part of sacrum is
// tested, demonstrated and benchmarked on (`sacrum synth`).
//
// A cohort (Generate) is clinical.csv, truth.csv, SYNTHETIC.md and, per patient, an MR study of two
// oblique-coronal series (T1 TSE and STIR) as Part 10 files, two readers' ROI label maps (NIfTI, 1 = left
// SIJ, 2 = right SIJ, on the series grid in DICOM order) and a DICOM SEG of reader 1. NewRecord draws a
// patient's clinical record, latent variables and outcome; Render (or GeneratePatient) draws its images
// in memory in about 0.2 s for 256×256×20 on one core; Study.Write writes them in the cohort layout.
// The generating model and the conventions are documented in the SYNTHETIC.md each cohort carries
// (syntheticmd.go). Output is a pure function of the seed and the options: no clock, no host data,
// UIDs derived from the seed under UIDRoot, independent per-patient random streams so that the number of
// workers does not change a byte.
//
// Imports: the standard library, golang.org/x/sync/errgroup, pipeline/image (grids, label maps, NIfTI) and pipeline/dcmwrite
// (Part 10 encoding). It must not import dimse/, store/ or other pipeline packages.
package synth
