package infer

import (
	"context"
	"fmt"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// Pipeline is the configured models of a node: one segmentation model and any number of feature encoders.
type Pipeline struct {
	Segmentation *Model
	Encoders     []*Model
}

// Stage is the duration of one step, for the per-stage split in benchmarks, metrics and study events.
type Stage struct {
	Name    string        `json:"name"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Result is the label map and deep features of a study.
type Result struct {
	Labels      *image.Labels
	LabelSource string // "model <name> <version>" or "provided segmentation"
	Maps        []*FeatureMaps
	// Deep holds the deep features per ROI name (left, right, both): feature name → value.
	Deep   map[string]map[string]float64
	Stages []Stage
}

// Run segments the study (unless a provided segmentation is given) and computes the deep features of every
// encoder in the SIJ ROIs.
func (p *Pipeline) Run(ctx context.Context, vols Inputs, provided *image.Labels) (*Result, error) {
	r := &Result{Deep: map[string]map[string]float64{}}
	start := time.Now()
	switch {
	case provided != nil:
		r.Labels, r.LabelSource = provided, "provided segmentation"
	case p.Segmentation == nil:
		return nil, fmt.Errorf("segmentation: no model configured and no provided segmentation")
	default:
		l, err := p.Segmentation.Segment(ctx, vols)
		if err != nil {
			return nil, fmt.Errorf("segmentation: %w", err)
		}
		m := p.Segmentation.Manifest
		r.Labels, r.LabelSource = l, fmt.Sprintf("model %s %s", m.Name, m.Version)
		r.Stages = append(r.Stages, Stage{"segmentation", time.Since(start)})
	}
	for _, e := range p.Encoders {
		start := time.Now()
		fm, err := e.FeatureMaps(ctx, vols)
		if err != nil {
			return nil, fmt.Errorf("deep features: %w", err)
		}
		f, err := fm.Features(r.Labels, SIJROIs)
		if err != nil {
			return nil, fmt.Errorf("deep features: %w", err)
		}
		for roi, m := range f {
			if r.Deep[roi] == nil {
				r.Deep[roi] = map[string]float64{}
			}
			for k, v := range m {
				r.Deep[roi][k] = v
			}
		}
		r.Maps = append(r.Maps, fm)
		r.Stages = append(r.Stages, Stage{"deep_features_" + e.Manifest.Name, time.Since(start)})
	}
	return r, nil
}

// Close closes every model.
func (p *Pipeline) Close() error {
	var first error
	for _, m := range append([]*Model{p.Segmentation}, p.Encoders...) {
		if err := m.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
