package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/pipeline/synth"
)

// SynthCommand generates synthetic SIJ MRI studies and an axSpA cohort.
type SynthCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// synthReport is the --json output.
type synthReport struct {
	Out        string  `json:"out"`
	Seed       int64   `json:"seed"`
	Patients   int     `json:"patients"`
	Train      int     `json:"train"`
	Test       int     `json:"test"`
	Matrix     int     `json:"matrix"`
	Slices     int     `json:"slices"`
	MRFiles    int     `json:"mr_files"`
	SEGFiles   int     `json:"seg_files"`
	ASAS20     float64 `json:"asas20_rate"`
	ASAS40     float64 `json:"asas40_rate"`
	OracleAUC  float64 `json:"oracle_auc_asas40_test"`
	SentFiles  int     `json:"sent_files,omitempty"`
	SentTarget string  `json:"sent_to,omitempty"`
}

// Run generates the cohort.
func (c *SynthCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "output directory (required)")
	patients := fs.Int("patients", 1, "number of patients")
	seed := fs.Int64("seed", 1, "seed: the same seed and options give byte-identical output")
	matrix := fs.Int("matrix", 256, "rows and columns of each image (64…1024)")
	slices := fs.Int("slices", 20, "slices per series (4…200)")
	workers := fs.Int("workers", 0, "patients generated in parallel (0 = number of CPUs)")
	send := fs.String("send", "", "HOST:PORT of a C-STORE SCP to send each study to")
	aec := fs.String("aec", "ANY-SCP", "called AE title for --send")
	aet := fs.String("aet", "SACRUM", "calling AE title for --send")
	withSEG := fs.Bool("with-seg", false, "also send the reader-1 SEG with --send")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args, "sacrum synth", true); err != nil {
		return err
	}
	if *out == "" {
		return usageError("sacrum synth: --out is required")
	}
	opt := synth.Options{Out: *out, Patients: *patients, Seed: *seed, Matrix: *matrix, Slices: *slices, Workers: *workers}
	if err := opt.Validate(); err != nil {
		return usageError("sacrum synth: %s", strings.TrimPrefix(err.Error(), "synth: "))
	}
	if *workers < 0 {
		return usageError("sacrum synth: --workers %d: must be ≥ 0", *workers)
	}
	if *send != "" && (*aec == "" || *aet == "" || len(*aec) > 16 || len(*aet) > 16) {
		return usageError("sacrum synth: --aec and --aet must be 1–16 characters")
	}
	if err := checkWritable(*out); err != nil {
		return usageError("sacrum synth: --out %s: %v", *out, err)
	}
	if !*quiet && c.Stderr != nil {
		bar := &progressBar{w: c.Stderr, label: "synth"}
		opt.Progress = bar.update
	}
	cohort, err := synth.Generate(ctx, opt)
	if err != nil {
		return fmt.Errorf("sacrum synth: %w", err)
	}
	s := synth.Summarise(cohort.Records)
	rep := synthReport{Out: *out, Seed: *seed, Patients: s.N, Train: s.Train, Test: s.Test, Matrix: cohort.Image.Matrix,
		Slices: cohort.Image.Slices, ASAS20: s.ASAS20, ASAS40: s.ASAS40, OracleAUC: s.OracleAUC40Test}
	for _, files := range cohort.Files {
		rep.MRFiles += len(files) - 1
		rep.SEGFiles++
	}
	if *send != "" {
		cfg := dimse.ClientConfig{CallingAE: *aet, CalledAE: *aec}
		for i, files := range cohort.Files {
			if !*withSEG {
				files = files[:len(files)-1]
			}
			res, err := dimse.SendFiles(ctx, *send, cfg, files)
			if err != nil {
				return fmt.Errorf("sacrum synth: send %s to %s@%s: %w", cohort.Records[i].StudyUID, *aec, *send, err)
			}
			for _, r := range res {
				if !r.OK() {
					if r.Err != nil {
						return fmt.Errorf("sacrum synth: send %s: %w", r.Path, r.Err)
					}
					return fmt.Errorf("sacrum synth: send %s: status 0x%04X from %s", r.Path, r.Status, *aec)
				}
				rep.SentFiles++
			}
		}
		rep.SentTarget = *aec + "@" + *send
	}
	if *asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "output\t%s\n", rep.Out)
	fmt.Fprintf(tw, "seed\t%d\n", rep.Seed)
	fmt.Fprintf(tw, "patients\t%d (train %d, test %d)\n", rep.Patients, rep.Train, rep.Test)
	fmt.Fprintf(tw, "images\t%d MR files (2 series × %d slices of %d×%d), %d SEG\n", rep.MRFiles, rep.Slices, rep.Matrix, rep.Matrix, rep.SEGFiles)
	fmt.Fprintf(tw, "ASAS20\t%.1f %%\n", 100*rep.ASAS20)
	fmt.Fprintf(tw, "ASAS40\t%.1f %%\n", 100*rep.ASAS40)
	fmt.Fprintf(tw, "oracle AUC ASAS40 (test)\t%s\n", fmtAUC(rep.OracleAUC))
	if rep.SentTarget != "" {
		fmt.Fprintf(tw, "sent\t%d files to %s\n", rep.SentFiles, rep.SentTarget)
	}
	return tw.Flush()
}

func fmtAUC(x float64) string {
	if x != x {
		return "n/a (a class is missing in the test split)"
	}
	return fmt.Sprintf("%.3f", x)
}

// checkWritable creates dir if needed and proves it is writable with a probe file.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create: %w", err)
	}
	f, err := os.CreateTemp(dir, ".sacrum-probe-*")
	if err != nil {
		return fmt.Errorf("not writable: %w", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(filepath.Clean(name))
}

// progressBar draws "label [=====>    ] done/total" on one terminal line.
type progressBar struct {
	w     io.Writer
	label string
}

func (p *progressBar) update(done, total int) {
	const width = 30
	n := width * done / total
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	if n < width {
		bar = strings.Repeat("=", n) + ">" + strings.Repeat(" ", width-n-1)
	}
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d patients", p.label, bar, done, total)
	if done == total {
		fmt.Fprintln(p.w)
	}
}

// Usage describes the command.
func (c *SynthCommand) Usage() string {
	return `sacrum synth generates synthetic sacroiliac-joint MRI studies (T1 TSE and STIR, oblique coronal), ROI label
maps of two readers, a DICOM SEG, and a synthetic axSpA cohort with clinical data and ASAS20/ASAS40 outcomes whose
generating model is known (DIR/SYNTHETIC.md). Everything is synthetic; the same seed gives the same bytes.

Usage:

	sacrum synth --out DIR [--patients N] [--seed S] [--matrix 256] [--slices 20]
	             [--send HOST:PORT [--aec AE] [--aet AE] [--with-seg]] [--json] [--quiet]

Layout:

	DIR/clinical.csv  DIR/truth.csv  DIR/SYNTHETIC.md
	DIR/patients/<patient_id>/dicom/<series_number>/<n>.dcm
	DIR/patients/<patient_id>/labels/reader1.nii.gz, reader2.nii.gz   (1 = left SIJ, 2 = right SIJ)
	DIR/patients/<patient_id>/seg.dcm

Examples:

	# the demonstration cohort
	sacrum synth --out cohort --patients 183 --seed 1

	# one small patient, sent to a PACS
	sacrum synth --out /tmp/p --matrix 128 --slices 12 --send localhost:11112 --aec ORTHANC

Bad arguments (no patients, a matrix below 64, an unwritable directory) exit with code 2.
`
}
