package infer

import "time"

// Pipeline is the configured models of a node: one segmentation model and any number of feature encoders
// (Config.Open loads and validates them). pipeline/study runs them on a study.
type Pipeline struct {
	Segmentation *Model
	Encoders     []*Model
}

// Stage is the duration of one step, for the per-stage split in benchmarks, metrics and study events.
type Stage struct {
	Name    string        `json:"name"`
	Elapsed time.Duration `json:"elapsed_ns"`
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
