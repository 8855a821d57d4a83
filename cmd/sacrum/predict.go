package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/image"
	"github.com/sacrum-dev/sacrum/pipeline/infer"
	"github.com/sacrum-dev/sacrum/pipeline/study"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
)

// PredictCommand runs the offline imaging pipeline on a folder of DICOM files.
type PredictCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// seriesReport is series.json.
type seriesReport struct {
	ResearchUseOnly string            `json:"research_use_only"`
	Study           string            `json:"study_dir"`
	STIR            *chosenSeries     `json:"stir"`
	T1              *chosenSeries     `json:"t1"`
	Segmentation    string            `json:"segmentation"`
	Decisions       []volume.Decision `json:"series"`
	Skipped         []string          `json:"skipped_files,omitempty"`
}

type chosenSeries struct {
	UID         string     `json:"series_uid"`
	Number      int        `json:"series_number"`
	Description string     `json:"series_description"`
	Grid        image.Grid `json:"grid"`
	Resampled   bool       `json:"resampled_to_stir_grid,omitempty"`
}

// featuresReport is features.json.
type featuresReport struct {
	ResearchUseOnly string                        `json:"research_use_only"`
	Segmentation    string                        `json:"segmentation"`
	ROIVoxels       map[string]int                `json:"roi_voxels"`
	Deep            map[string]map[string]float64 `json:"deep"`
	Radiomics       map[string]map[string]float64 `json:"radiomics"`
	// RadiomicsUndefined lists, per ROI, features whose value is undefined (NaN) with the reason.
	RadiomicsUndefined map[string]map[string]string `json:"radiomics_undefined,omitempty"`
	RadiomicsParams    string                       `json:"radiomics_params"`
	Stages             []infer.Stage                `json:"stages"`
}

const researchOnly = "Research use only, not for diagnostic use."

// Run reads the study, selects and assembles the series, segments (or uses a provided DICOM SEG), computes
// the features and writes series.json, labels.nii.gz and features.json to --out.
func (c *PredictCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "output directory (required)")
	cfgPath := fs.String("config", "", "config.yaml (its pipeline section); default: built-in defaults")
	params := fs.String("params", "", "radiomics parameter file (overrides pipeline.radiomics_params)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	bundle := fs.String("bundle", "", "model bundle for prediction.json (default pipeline.bundle; none: no prediction)")
	clinical := fs.String("clinical", "", "clinical inputs for prediction.json: a JSON object, or a CSV with an accession column")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return err
			}
			return usageError("sacrum predict: %v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 || *out == "" {
		return usageError("sacrum predict: want one STUDY_DIR and --out DIR (see 'sacrum help predict')")
	}
	if st, err := os.Stat(pos[0]); err != nil || !st.IsDir() {
		return usageError("sacrum predict: %s is not a directory", pos[0])
	}
	cfg, err := loadPipelineConfig(*cfgPath)
	if err != nil {
		return usageError("sacrum predict: %v", err)
	}
	if *params != "" {
		cfg.RadiomicsParams = *params
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("sacrum predict: %w", err)
	}
	res, err := Predict(ctx, pos[0], *out, cfg)
	if err != nil {
		return fmt.Errorf("sacrum predict: %w", err)
	}
	if *bundle != "none" {
		if *bundle != "" {
			cfg.Bundle = *bundle
		}
		// The node's own path (predict_bundle.go), so the probabilities equal the SR's.
		if res.Prediction, err = writePrediction(ctx, pos[0], *out, cfg, *clinical); err != nil {
			return fmt.Errorf("sacrum predict: prediction: %w", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	w := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERIES\tDESCRIPTION\tFRAMES\tROLE\tREASON")
	for _, d := range res.Series.Decisions {
		role := d.Role
		if role == "" {
			role = "-"
		}
		fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\n", d.Number, d.Description, d.Frames, role, d.Reason)
	}
	w.Flush()
	fmt.Fprintf(c.Stdout, "\nsegmentation: %s; ROI voxels left %d, right %d\n", res.Features.Segmentation, res.Features.ROIVoxels["left"], res.Features.ROIVoxels["right"])
	for _, s := range res.Features.Stages {
		fmt.Fprintf(c.Stdout, "%-28s %8.1f ms\n", s.Name, float64(s.Elapsed)/1e6)
	}
	if p := res.Prediction; p != nil {
		fmt.Fprintf(c.Stdout, "\nmodel %s\n", p.Model)
		for _, e := range p.Predictions {
			fmt.Fprintf(c.Stdout, "%-8s probability %.4f  threshold %.4f  %s  responder %v\n", e.Endpoint, e.Probability, e.Threshold, e.Variant, e.Responder)
		}
		fmt.Fprintf(c.Stdout, "wrote %s\n", filepath.Join(*out, "prediction.json"))
	}
	fmt.Fprintf(c.Stdout, "wrote %s, %s, %s\n%s\n", filepath.Join(*out, "series.json"), filepath.Join(*out, "labels.nii.gz"), filepath.Join(*out, "features.json"), researchOnly)
	return nil
}

// predictResult is what Predict wrote.
type predictResult struct {
	Series     seriesReport      `json:"series"`
	Features   featuresReport    `json:"features"`
	Prediction *predictionReport `json:"prediction,omitempty"` // predict_bundle.go
}

// Predict is the offline pipeline: the same analysis (pipeline/study) the node runs for every study.
func Predict(ctx context.Context, studyDir, outDir string, cfg PipelineConfig) (*predictResult, error) {
	t0 := time.Now()
	analyzer, err := cfg.openAnalyzer()
	if err != nil {
		return nil, err
	}
	defer analyzer.Models.Close()
	tOpen := time.Since(t0)

	t0 = time.Now()
	st, err := volume.ReadDir(ctx, studyDir)
	if err != nil {
		return nil, err
	}
	tRead := time.Since(t0)
	an, err := analyzer.Analyze(ctx, st)
	if err != nil {
		return nil, err
	}
	prep, sel := an.Prepared, an.Prepared.Selection
	rad, deep, undef := an.Features.PerROI()
	r := &predictResult{
		Series: seriesReport{
			ResearchUseOnly: researchOnly, Study: studyDir, Segmentation: an.LabelSource,
			Decisions: sel.Decisions, Skipped: st.Skipped,
			STIR: &chosenSeries{UID: sel.STIR.UID, Number: sel.STIR.Number, Description: sel.STIR.Description, Grid: prep.STIR.Grid},
		},
		Features: featuresReport{
			ResearchUseOnly: researchOnly, Segmentation: an.LabelSource, ROIVoxels: an.Features.ROIVoxels,
			Deep: deep, Radiomics: rad, RadiomicsUndefined: undef, RadiomicsParams: analyzer.Config.RadiomicsName,
			Stages: append([]infer.Stage{{Name: "load_models", Elapsed: tOpen}, {Name: study.StageRead, Elapsed: tRead}}, an.Stages...),
		},
	}
	if sel.T1 != nil {
		r.Series.T1 = &chosenSeries{UID: sel.T1.UID, Number: sel.T1.Number, Description: sel.T1.Description, Grid: prep.T1.Grid, Resampled: prep.T1Resampled}
	}
	if err := writeJSON(filepath.Join(outDir, "series.json"), r.Series); err != nil {
		return nil, err
	}
	if err := image.WriteNIfTILabels(filepath.Join(outDir, "labels.nii.gz"), an.Labels); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(outDir, "features.json"), r.Features); err != nil {
		return nil, err
	}
	return r, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Usage describes the command.
func (c *PredictCommand) Usage() string {
	return `Run the offline imaging pipeline on a folder of DICOM files of one study.
Research use only, not for diagnostic use.

Usage:

	sacrum predict STUDY_DIR --out DIR [--config config.yaml] [--params radiomics.yaml]
	               [--bundle DIR|none] [--clinical clinical.json|clinical.csv] [--json]

It reads every DICOM file under STUDY_DIR, chooses the STIR and T1 series (config pipeline.series_selection),
assembles them, resamples T1 onto the STIR grid, segments the left and right sacroiliac-joint regions with the
configured ONNX model (or uses a DICOM SEG in the study that references the STIR series: "provided
segmentation"), and computes deep features (and radiomics) in each region. It writes:

	DIR/series.json     chosen series and why every series was chosen or rejected
	DIR/labels.nii.gz   label map on the STIR grid: 1 left, 2 right
	DIR/features.json   deep features (deep_<model>_<channel>) and radiomics (PyRadiomics names, parameter
	                    file --params or pipeline.radiomics_params) per ROI: left, right, both
	DIR/prediction.json the model bundle's predictions (--bundle, default pipeline.bundle; none skips it),
	                    computed as the node computes its SR: DLRC with the clinical inputs of --clinical
	                    (a JSON object, or a CSV row by the study's AccessionNumber), else DLR-only

The ONNX Runtime library is pipeline.onnxruntime_library, else $SACRUM_ORT_LIB, else
.cache/onnxruntime-1.30.0/libonnxruntime.so.1 in the checkout or next to the binary (scripts/setup.sh).

Examples:

	sacrum synth --out /tmp/synth --patients 1 --seed 7
	sacrum predict /tmp/synth/patients/SYN0001/dicom --out /tmp/pred
	sacrum predict /tmp/synth/patients/SYN0001 --out /tmp/pred --json   (uses seg.dcm: provided segmentation)
`
}
