package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/sacrum-dev/sacrum/pipeline/image"
	"github.com/sacrum-dev/sacrum/pipeline/study"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
)

// FeaturesCommand computes the image features of every patient of a cohort for both readers.
type FeaturesCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run parses the flags, computes the features in parallel over patients and writes the CSV.
func (c *FeaturesCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("features", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cohort := fs.String("cohort", "", "cohort directory in the `sacrum synth` layout (required)")
	params := fs.String("params", "", "radiomics parameter file (overrides pipeline.radiomics_params)")
	out := fs.String("out", "", "output CSV (required)")
	cfgPath := fs.String("config", "", "config.yaml (its pipeline section: feature models, series selection)")
	workers := fs.Int("workers", 0, "patients in parallel (0 = number of CPUs)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args, "sacrum features", true); err != nil {
		return err
	}
	if *cohort == "" || *out == "" {
		return usageError("sacrum features: --cohort and --out are required (see 'sacrum help features')")
	}
	if *workers < 0 {
		return usageError("sacrum features: --workers %d: must be ≥ 0", *workers)
	}
	patients, err := cohortPatients(*cohort)
	if err != nil {
		return usageError("sacrum features: %v", err)
	}
	pc, err := loadPipelineConfig(*cfgPath)
	if err != nil {
		return usageError("sacrum features: %v", err)
	}
	if *params != "" {
		pc.RadiomicsParams = *params
	}
	pc.SegmentationModel = "" // the readers' label maps are used
	an, err := pc.openAnalyzer()
	if err != nil {
		return fmt.Errorf("sacrum features: %w", err)
	}
	defer an.Models.Close()
	var progress func(done, total int)
	if !*quiet {
		bar := &progressBar{w: c.Stderr, label: "features"}
		progress = bar.update
	}
	rows, err := cohortFeatures(ctx, an, *cohort, patients, *workers, progress)
	if err != nil {
		return fmt.Errorf("sacrum features: %w", err)
	}
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("sacrum features: %w", err)
	}
	err = study.WriteCSV(f, rows)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, *out)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sacrum features: %w", err)
	}
	nf := 0
	if len(rows) > 0 {
		nf = len(rows[0].Features.Names)
	}
	fmt.Fprintf(c.Stdout, "wrote %s: %d patients × 2 readers, %d features (radiomics: %s)\n", *out, len(patients), nf, an.Config.RadiomicsName)
	return nil
}

// cohortPatients lists the patient directories of a cohort (DIR/patients/<id>).
func cohortPatients(dir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(dir, "patients"))
	if err != nil {
		return nil, fmt.Errorf("--cohort %s: %w (want the `sacrum synth` layout: DIR/patients/<patient_id>/{dicom,labels})", dir, err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("--cohort %s: no patient directories under patients/", dir)
	}
	sort.Strings(ids)
	return ids, nil
}

// cohortFeatures computes the rows of every patient, workers patients at a time; the first failure
// cancels the others.
func cohortFeatures(ctx context.Context, an *study.Analyzer, dir string, patients []string, workers int,
	progress func(done, total int)) ([]study.Row, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	rows := make([][]study.Row, len(patients))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var mu sync.Mutex
	done := 0
	for i, id := range patients {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			r, err := patientFeatures(gctx, an, filepath.Join(dir, "patients", id), id)
			if err != nil {
				return fmt.Errorf("patient %s: %w", id, err)
			}
			rows[i] = r
			mu.Lock()
			done++
			if progress != nil {
				progress(done, len(patients))
			}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []study.Row
	for _, r := range rows {
		out = append(out, r...)
	}
	return out, nil
}

// patientFeatures computes one patient's features on reader 1's and reader 2's label maps; the volumes and
// deep-feature maps are computed once.
func patientFeatures(ctx context.Context, an *study.Analyzer, dir, id string) ([]study.Row, error) {
	st, err := patientStudy(ctx, dir)
	if err != nil {
		return nil, err
	}
	a, err := an.Prepare(ctx, st)
	if err != nil {
		return nil, err
	}
	var rows []study.Row
	for reader := 1; reader <= 2; reader++ {
		l, p, err := readerLabels(ctx, dir, reader, a.Prepared.STIR.Grid)
		if err != nil {
			return nil, fmt.Errorf("reader %d: %w", reader, err)
		}
		f, _, err := an.Features(ctx, a, l)
		if err != nil {
			return nil, fmt.Errorf("reader %d (%s): %w", reader, p, err)
		}
		rows = append(rows, study.Row{PatientID: id, Reader: reader, Features: f})
	}
	return rows, nil
}

// patientStudy reads a patient's images: DIR/dicom when it exists (sacrum synth), else every file under DIR
// except DIR/labels (a folder of DICOM files as exported from a PACS).
func patientStudy(ctx context.Context, dir string) (*volume.Study, error) {
	if fi, err := os.Stat(filepath.Join(dir, "dicom")); err == nil && fi.IsDir() {
		return volume.ReadDir(ctx, filepath.Join(dir, "dicom"))
	}
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p == filepath.Join(dir, "labels") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return volume.ReadFiles(ctx, paths)
}

// readerLabels reads a reader's segmentation onto the STIR grid: DIR/labels/reader<N>.nii.gz (1 = left,
// 2 = right SIJ), else DIR/labels/reader<N>.dcm, a DICOM SEG with the two segments.
func readerLabels(ctx context.Context, dir string, reader int, g image.Grid) (*image.Labels, string, error) {
	nii := filepath.Join(dir, "labels", fmt.Sprintf("reader%d.nii.gz", reader))
	seg := filepath.Join(dir, "labels", fmt.Sprintf("reader%d.dcm", reader))
	if _, err := os.Stat(nii); err == nil || !fileExists(seg) {
		l, err := image.ReadNIfTILabelsOn(nii, g)
		return l, nii, err
	}
	st, err := volume.ReadFiles(ctx, []string{seg})
	if err != nil {
		return nil, seg, err
	}
	if len(st.Series) != 1 || !st.Series[0].IsSegmentation() {
		return nil, seg, fmt.Errorf("%s is not a DICOM SEG (%v)", seg, st.Skipped)
	}
	l, err := volume.SegmentationLabels(st.Series[0], g)
	if err != nil {
		return nil, seg, fmt.Errorf("%s: %w", seg, err)
	}
	return l, seg, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Usage describes the command.
func (c *FeaturesCommand) Usage() string {
	return `sacrum features computes the image features of every patient of a cohort, on the label maps of reader 1
and reader 2, for sacrum train: radiomics of the STIR image (PyRadiomics names, settings from --params or
pipeline.radiomics_params, else the built-in defaults) and the deep features of the configured encoders
(pipeline.feature_models), each in the left SIJ region, the right one and both together. Patients run in
parallel; a progress bar goes to stderr. Research use only.

Usage:

	sacrum features --cohort DIR --out features.csv [--params FILE] [--config config.yaml]
	                [--workers N] [--quiet]

The cohort has the layout of sacrum synth: DIR/patients/<patient_id>/dicom/ and
DIR/patients/<patient_id>/labels/reader1.nii.gz, reader2.nii.gz (1 = left SIJ, 2 = right SIJ; the STIR
grid, or the same voxels with flipped axes). A site's cohort may instead hold each patient's DICOM files
anywhere under DIR/patients/<patient_id>/ (outside labels/) and the readers' segmentations as DICOM SEG
files labels/reader1.dcm and labels/reader2.dcm (segments left and right SIJ region).

Output: one row per patient and reader, sorted by patient_id then reader:

	patient_id,reader,<roi>_<feature>,...
	SYN0001,1,...
	SYN0001,2,...

<roi> is left, right or both; <feature> a PyRadiomics name (original_firstorder_Mean, ...) or a deep
feature deep_<model>_<k>. Values are shortest exact decimals; an empty cell is an undefined value (for
example a texture feature of a single grey level). See pipeline/study/doc.go.

Examples:

	sacrum synth --out cohort --patients 183 --seed 1
	sacrum features --cohort cohort --out cohort/features.csv
	sacrum features --cohort cohort --params pipeline/radiomics/params/pyradiomics-default.yaml --out f.csv
`
}
