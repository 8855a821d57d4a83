package infer

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// FeatureMaps are an encoder's feature maps for a study, kept so that features can be pooled per region and a
// class-activation heat map drawn later.
type FeatureMaps struct {
	Model string // manifest name
	m     *maps
}

// FeatureMaps runs a features model on every slice.
func (m *Model) FeatureMaps(ctx context.Context, vols Inputs) (*FeatureMaps, error) {
	if m.Manifest.Task != TaskFeatures {
		return nil, fmt.Errorf("model %s is a %s model, not features", m.Manifest.Name, m.Manifest.Task)
	}
	mp, err := m.outputMaps(ctx, vols)
	if err != nil {
		return nil, err
	}
	return &FeatureMaps{Model: m.Manifest.Name, m: mp}, nil
}

// Channels is the number of feature maps.
func (f *FeatureMaps) Channels() int { return f.m.K }

// Grid is the grid the maps are sampled on (the inputs' grid).
func (f *FeatureMaps) Grid() image.Grid { return f.m.grid }

var nonName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// FeatureName is the name of channel k of a model's deep features: deep_<model>_<k>, with characters other
// than letters and digits in the model name replaced by '_'.
func FeatureName(model string, k int) string {
	return fmt.Sprintf("deep_%s_%d", nonName.ReplaceAllString(model, "_"), k)
}

// Names lists the feature names in channel order.
func (f *FeatureMaps) Names() []string {
	n := make([]string, f.m.K)
	for k := range n {
		n[k] = FeatureName(f.Model, k)
	}
	return n
}

// Pool returns the masked global average of every feature map over the voxels of mask whose label is one of
// labels (each voxel sampled bilinearly from its slice's maps), in channel order, and the voxel count.
func (f *FeatureMaps) Pool(mask *image.Labels, labels ...uint8) ([]float64, int, error) {
	if err := f.checkMask(mask); err != nil {
		return nil, 0, err
	}
	sum := make([]float64, f.m.K)
	n := 0
	f.eachVoxel(mask, labels, func(p, i, j, k int) {
		for c := range sum {
			sum[c] += f.m.at(k, c, i, j)
		}
		n++
	})
	if n == 0 {
		return nil, 0, fmt.Errorf("deep features %s: the region with labels %v is empty", f.Model, labels)
	}
	for c := range sum {
		sum[c] /= float64(n)
	}
	return sum, n, nil
}

// CAM returns the class-activation heat map Σ_k w_k·A_k of a linear model with weights w (one per channel,
// in channel order) at every voxel of the region, 0 elsewhere.
func (f *FeatureMaps) CAM(mask *image.Labels, w []float64, labels ...uint8) (*image.Volume, error) {
	if err := f.checkMask(mask); err != nil {
		return nil, err
	}
	if len(w) != f.m.K {
		return nil, fmt.Errorf("deep features %s: %d weights for %d channels", f.Model, len(w), f.m.K)
	}
	v := image.NewVolume(f.m.grid)
	f.eachVoxel(mask, labels, func(p, i, j, k int) {
		var s float64
		for c, wc := range w {
			if wc != 0 {
				s += wc * f.m.at(k, c, i, j)
			}
		}
		v.Data[p] = s
	})
	return v, nil
}

func (f *FeatureMaps) checkMask(mask *image.Labels) error {
	if !mask.Grid.SameGrid(f.m.grid, 1e-3) {
		return fmt.Errorf("deep features %s: %w (mask and feature maps)", f.Model, image.ErrGridMismatch)
	}
	return nil
}

func (f *FeatureMaps) eachVoxel(mask *image.Labels, labels []uint8, fn func(p, i, j, k int)) {
	nx, ny := mask.Size[0], mask.Size[1]
	for p, l := range mask.Data {
		if l == 0 || !slices.Contains(labels, l) {
			continue
		}
		i, j, k := p%nx, (p/nx)%ny, p/(nx*ny)
		fn(p, i, j, k)
	}
}

// ROI is a named region of a label map.
type ROI struct {
	Name   string
	Labels []uint8
}

// SIJROIs are the regions features are computed for: each joint and both together.
var SIJROIs = []ROI{{"left", []uint8{1}}, {"right", []uint8{2}}, {"both", []uint8{1, 2}}}

// Features pools the maps in each ROI and returns name → value per ROI name.
func (f *FeatureMaps) Features(mask *image.Labels, rois []ROI) (map[string]map[string]float64, error) {
	out := map[string]map[string]float64{}
	names := f.Names()
	for _, r := range rois {
		v, _, err := f.Pool(mask, r.Labels...)
		if err != nil {
			return nil, fmt.Errorf("ROI %s: %w", r.Name, err)
		}
		m := map[string]float64{}
		for c, x := range v {
			m[names[c]] = x
		}
		out[r.Name] = m
	}
	return out, nil
}
