package study

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/image"
	"github.com/sacrum-dev/sacrum/pipeline/infer"
	"github.com/sacrum-dev/sacrum/pipeline/radiomics"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
)

// Config is what an Analyzer needs: the models, the series-selection rules and the radiomics settings.
type Config struct {
	Selection volume.SelectionConfig
	// Radiomics are the extraction settings (radiomics.DefaultSettings or a parameter file's).
	Radiomics radiomics.Settings
	// RadiomicsName names the settings in reports (the parameter file, or "built-in defaults").
	RadiomicsName string
}

// Analyzer runs the imaging part of the pipeline with opened models. It is safe for concurrent use
// (ONNX Runtime sessions may be run from several goroutines).
type Analyzer struct {
	Models *infer.Pipeline
	Config Config
}

// New returns an Analyzer over already opened models (infer.Config.Open); the caller closes them.
func New(models *infer.Pipeline, cfg Config) *Analyzer {
	return &Analyzer{Models: models, Config: cfg}
}

// Analysis is everything the imaging part found in a study.
type Analysis struct {
	Study    *volume.Study
	Prepared *volume.Prepared // selection (decisions for every series), STIR, T1 on the STIR grid, provided SEG
	// Labels is the label map on the STIR grid: 1 left SIJ region, 2 right.
	Labels      *image.Labels
	LabelSource string // "model <name> <version>" or "provided segmentation"
	Provided    bool
	Maps        []*infer.FeatureMaps // one per encoder, for class-activation maps
	Features    *Features
	Stages      []infer.Stage
}

// Features are the image features of one label map (see the package documentation for the names).
type Features struct {
	Names     []string           // every feature, in the documented order (undefined ones included)
	Values    map[string]float64 // name → value; undefined features are NaN
	Undefined map[string]string  // name → why the value is undefined
	ROIVoxels map[string]int     // ROI name → voxels
}

// Name is the feature name of a per-ROI feature: "<roi>_<name>".
func Name(roi, name string) string { return roi + "_" + name }

// ROIs are the regions features are computed in (infer.SIJROIs: left, right, both).
var ROIs = infer.SIJROIs

// Stage names of Analyze (the encoders add deep_features_<model>).
const (
	StageRead         = "read_dicom"
	StagePrepare      = "assemble_select_resample"
	StageSegmentation = "segmentation"
	StageRadiomics    = "radiomics"
	StagePool         = "deep_features_pool"
)

// AnalyzeFiles reads the files of a study and analyses it (Analyze).
func (a *Analyzer) AnalyzeFiles(ctx context.Context, paths []string) (*Analysis, error) {
	t0 := time.Now()
	st, err := volume.ReadFiles(ctx, paths)
	if err != nil {
		return nil, err
	}
	an, err := a.Analyze(ctx, st)
	if an != nil {
		an.Stages = append([]infer.Stage{{Name: StageRead, Elapsed: time.Since(t0) - sum(an.Stages)}}, an.Stages...)
	}
	return an, err
}

func sum(st []infer.Stage) time.Duration {
	var d time.Duration
	for _, s := range st {
		d += s.Elapsed
	}
	return d
}

// Analyze selects and assembles the series, segments the study (or uses the provided SEG) and computes the
// features of the label map. Errors name the stage: a study without a usable STIR series fails in
// series selection with the reason for every series.
func (a *Analyzer) Analyze(ctx context.Context, st *volume.Study) (*Analysis, error) {
	an, err := a.Prepare(ctx, st)
	if err != nil {
		return nil, err
	}
	if err := a.Segment(ctx, an); err != nil {
		return nil, err
	}
	f, stages, err := a.Features(ctx, an, an.Labels)
	an.Stages = append(an.Stages, stages...)
	if err != nil {
		return nil, err
	}
	an.Features = f
	return an, nil
}

// Prepare selects and assembles the series and runs every encoder (the feature maps do not depend on the
// label map, so one run serves several label maps).
func (a *Analyzer) Prepare(ctx context.Context, st *volume.Study) (*Analysis, error) {
	prep, err := volume.Prepare(ctx, st, a.Config.Selection)
	if err != nil {
		return nil, fmt.Errorf("series selection: %w", err)
	}
	an := &Analysis{Study: st, Prepared: prep, Stages: []infer.Stage{{Name: StagePrepare, Elapsed: prep.Elapsed}}}
	if a.Models == nil {
		return an, nil
	}
	vols := an.Inputs()
	maps := make([]*infer.FeatureMaps, len(a.Models.Encoders))
	stages := make([]infer.Stage, len(a.Models.Encoders))
	errs := make([]error, len(a.Models.Encoders))
	var wg sync.WaitGroup
	for i, e := range a.Models.Encoders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			maps[i], errs[i] = e.FeatureMaps(ctx, vols)
			stages[i] = infer.Stage{Name: "deep_features_" + e.Manifest.Name, Elapsed: time.Since(t0)}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("deep features: %w", err)
	}
	an.Maps = maps
	an.Stages = append(an.Stages, stages...)
	return an, nil
}

// Inputs are the model inputs of the study ("stir", and "t1" when the study has one).
func (an *Analysis) Inputs() infer.Inputs {
	in := infer.Inputs{"stir": an.Prepared.STIR}
	if an.Prepared.T1 != nil {
		in["t1"] = an.Prepared.T1
	}
	return in
}

// Segment sets the label map: the provided segmentation when the study has one, else the model's.
func (a *Analyzer) Segment(ctx context.Context, an *Analysis) error {
	if p := an.Prepared.Provided; p != nil {
		an.Labels, an.LabelSource, an.Provided = p, "provided segmentation", true
		return nil
	}
	if a.Models == nil || a.Models.Segmentation == nil {
		return errors.New("segmentation: no model configured and no provided segmentation")
	}
	t0 := time.Now()
	l, err := a.Models.Segmentation.Segment(ctx, an.Inputs())
	if err != nil {
		return fmt.Errorf("segmentation: %w", err)
	}
	m := a.Models.Segmentation.Manifest
	an.Labels, an.LabelSource = l, fmt.Sprintf("model %s %s", m.Name, m.Version)
	an.Stages = append(an.Stages, infer.Stage{Name: StageSegmentation, Elapsed: time.Since(t0)})
	return nil
}

// Features computes the radiomics of the STIR image and pools the deep-feature maps in every ROI of
// labels (which must be on the STIR grid). The three ROIs are extracted in parallel.
func (a *Analyzer) Features(ctx context.Context, an *Analysis, labels *image.Labels) (*Features, []infer.Stage, error) {
	stir := an.Prepared.STIR
	if labels == nil {
		return nil, nil, errors.New("features: no label map")
	}
	labels, err := OnGrid(labels, stir.Grid)
	if err != nil {
		return nil, nil, fmt.Errorf("features: %w", err)
	}
	f := &Features{Values: map[string]float64{}, Undefined: map[string]string{}, ROIVoxels: map[string]int{}}
	for _, roi := range ROIs {
		for _, l := range roi.Labels {
			f.ROIVoxels[roi.Name] += labels.Count(l)
		}
		if f.ROIVoxels[roi.Name] == 0 {
			return nil, nil, fmt.Errorf("features: the %s SIJ region is empty (%s)", roi.Name, an.LabelSource)
		}
	}
	t0 := time.Now()
	rad := make([]*radiomics.Result, len(ROIs))
	errs := make([]error, len(ROIs))
	var wg sync.WaitGroup
	for r, roi := range ROIs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mask := image.NewLabels(stir.Grid)
			for p, l := range labels.Data {
				if l != 0 && slices.Contains(roi.Labels, l) {
					mask.Data[p] = 1
				}
			}
			rad[r], errs[r] = radiomics.ExtractContext(ctx, stir, mask, 1, a.Config.Radiomics)
			if errs[r] != nil {
				errs[r] = fmt.Errorf("radiomics, ROI %s: %w", roi.Name, errs[r])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	stages := []infer.Stage{{Name: StageRadiomics, Elapsed: time.Since(t0)}}
	t0 = time.Now()
	deep := make([][][]float64, len(an.Maps)) // encoder → ROI → channel values
	for e, fm := range an.Maps {
		deep[e] = make([][]float64, len(ROIs))
		for r, roi := range ROIs {
			v, _, err := fm.Pool(labels, roi.Labels...)
			if err != nil {
				return nil, nil, fmt.Errorf("deep features, ROI %s: %w", roi.Name, err)
			}
			deep[e][r] = v
		}
	}
	stages = append(stages, infer.Stage{Name: StagePool, Elapsed: time.Since(t0)})
	add := func(name string, v float64, reason string) {
		if _, dup := f.Values[name]; dup {
			return
		}
		f.Names = append(f.Names, name)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if reason == "" {
				reason = "not finite"
			}
			f.Values[name], f.Undefined[name] = math.NaN(), reason
			return
		}
		f.Values[name] = v
	}
	for r, roi := range ROIs {
		for _, v := range rad[r].Features {
			add(Name(roi.Name, v.Name(radiomics.NamingPyRadiomics)), v.Value, v.Reason)
		}
		for e, fm := range an.Maps {
			for c, n := range fm.Names() {
				add(Name(roi.Name, n), deep[e][r][c], "")
			}
		}
	}
	return f, stages, nil
}

// OnGrid returns the label map on grid g: the same voxels when the grids match (within 1e-3 mm, as a NIfTI
// file's float32 geometry does), else the labels of the voxel centres of g when g's voxels coincide with the
// map's (the same lattice with axes flipped or permuted, as a NIfTI writer may store it). Any other grid is
// an error: label maps are never interpolated.
func OnGrid(l *image.Labels, g image.Grid) (*image.Labels, error) {
	if l.Grid.SameGrid(g, 1e-3) {
		return &image.Labels{Grid: g, Data: l.Data}, nil
	}
	out, err := image.Reorient(l, g)
	if err != nil {
		return nil, fmt.Errorf("label map (size %v, origin %.3f) is not on the STIR grid (size %v, origin %.3f): %w", l.Size, l.Origin, g.Size, g.Origin, image.ErrGridMismatch)
	}
	return out, nil
}

// PerROI splits the features by ROI: ROI → feature name without the ROI prefix → value (defined values
// only), for radiomics and deep features apart (features.json of `sacrum predict`).
func (f *Features) PerROI() (rad, deep map[string]map[string]float64, undefined map[string]map[string]string) {
	rad, deep, undefined = map[string]map[string]float64{}, map[string]map[string]float64{}, map[string]map[string]string{}
	for _, roi := range ROIs {
		rad[roi.Name], deep[roi.Name] = map[string]float64{}, map[string]float64{}
	}
	for _, n := range f.Names {
		for _, roi := range ROIs {
			short, ok := cutPrefix(n, roi.Name+"_")
			if !ok {
				continue
			}
			if why, bad := f.Undefined[n]; bad {
				if undefined[roi.Name] == nil {
					undefined[roi.Name] = map[string]string{}
				}
				undefined[roi.Name][short] = why
			} else if len(short) > 5 && short[:5] == "deep_" {
				deep[roi.Name][short] = f.Values[n]
			} else {
				rad[roi.Name][short] = f.Values[n]
			}
			break
		}
	}
	return rad, deep, undefined
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

// SliceRef is the source of one slice k of an assembled volume.
type SliceRef struct {
	SOPClassUID, SOPInstanceUID string
	Frame                       int // 1-based frame of a multi-frame instance; 0 for single-frame instances
}

// SliceRefs returns, for every slice k of vol (assembled from s), the instance (and frame) it came from,
// found by the slice position along the normal.
func SliceRefs(s *volume.Series, vol *image.Volume) ([]SliceRef, error) {
	g := vol.Grid
	normal := [3]float64{g.Direction[2], g.Direction[5], g.Direction[8]}
	refs := make([]SliceRef, g.Size[2])
	seen := make([]bool, g.Size[2])
	for _, in := range s.Instances {
		for _, f := range in.Frames {
			var d float64
			for r := range 3 {
				d += (f.Position[r] - g.Origin[r]) * normal[r]
			}
			k := int(math.Round(d / g.Spacing[2]))
			if k < 0 || k >= g.Size[2] || math.Abs(d-float64(k)*g.Spacing[2]) > 0.1*g.Spacing[2] {
				return nil, fmt.Errorf("%s: frame of %s is not on the volume's slice grid", s.Name(), in.SOPInstanceUID)
			}
			ref := SliceRef{SOPClassUID: in.SOPClassUID, SOPInstanceUID: in.SOPInstanceUID}
			if len(in.Frames) > 1 {
				ref.Frame = f.Number + 1
			}
			refs[k], seen[k] = ref, true
		}
	}
	for k, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("%s: no instance for slice %d", s.Name(), k)
		}
	}
	return refs, nil
}
