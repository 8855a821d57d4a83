package synth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Options configures Generate.
type Options struct {
	Out      string // output directory (created if missing)
	Patients int    // number of patients (≥ 1)
	Seed     int64
	Matrix   int // rows = columns, default 256
	Slices   int // default 20
	Workers  int // parallel patients; 0 = GOMAXPROCS
	// Progress, if set, is called after each patient is written (from any goroutine, serialised).
	Progress func(done, total int)
}

// Cohort is the result of Generate.
type Cohort struct {
	Dir     string
	Seed    int64
	Records []Record
	Image   ImageOptions
	Files   [][]string // per record: the DICOM files written (MR slices, then the SEG)
}

// Validate checks the options before anything is written.
func (o Options) Validate() error {
	if o.Patients < 1 {
		return fmt.Errorf("synth: %d patients: need at least 1", o.Patients)
	}
	if o.Patients > 99999 {
		return fmt.Errorf("synth: %d patients: at most 99999", o.Patients)
	}
	if o.Out == "" {
		return errors.New("synth: no output directory")
	}
	return ImageOptions{Matrix: o.Matrix, Slices: o.Slices}.Validate()
}

// PatientDir is the directory of one patient in the cohort layout.
func PatientDir(out, patientID string) string { return filepath.Join(out, "patients", patientID) }

// Generate writes a synthetic cohort in the layout documented in SYNTHETIC.md:
// clinical.csv, truth.csv, SYNTHETIC.md and patients/<patient_id>/{dicom,labels,seg.dcm}.
// The output depends only on the options (not on the time or the number of workers).
func Generate(ctx context.Context, opt Options) (*Cohort, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	img := ImageOptions{Matrix: opt.Matrix, Slices: opt.Slices}.withDefaults()
	if err := os.MkdirAll(filepath.Join(opt.Out, "patients"), 0o755); err != nil {
		return nil, fmt.Errorf("synth: output directory: %w", err)
	}
	recs := NewCohort(opt.Seed, opt.Patients)
	c := &Cohort{Dir: opt.Out, Seed: opt.Seed, Records: recs, Image: img, Files: make([][]string, len(recs))}
	if err := c.writeTables(); err != nil {
		return nil, err
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Patients are written workers at a time; the first failure cancels the others.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var mu sync.Mutex
	done := 0
	for i := range recs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			st, err := Render(opt.Seed, recs[i], img)
			if err != nil {
				return err
			}
			paths, err := st.Write(PatientDir(opt.Out, recs[i].PatientID))
			if err != nil {
				return err
			}
			c.Files[i] = paths
			mu.Lock()
			done++
			if opt.Progress != nil {
				opt.Progress(done, len(recs))
			}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	return c, nil
}

func (c *Cohort) writeTables() error {
	var clin, truth, md bytes.Buffer
	if err := WriteClinicalCSV(&clin, c.Records); err != nil {
		return err
	}
	if err := WriteTruthCSV(&truth, c.Records); err != nil {
		return err
	}
	if err := writeSyntheticMD(&md, c); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"clinical.csv": clin.Bytes(), "truth.csv": truth.Bytes(), "SYNTHETIC.md": md.Bytes()} {
		if err := os.WriteFile(filepath.Join(c.Dir, name), b, 0o644); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	return nil
}
