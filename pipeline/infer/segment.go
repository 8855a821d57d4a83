package infer

import (
	"context"
	"fmt"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// maps is a model output on a study grid: per slice, K maps of H×W pixels, with the separable bilinear
// weights that sample it at every voxel column i and row j of the grid.
type maps struct {
	grid    image.Grid
	K, H, W int
	data    []float32 // [slice][K][H][W]
	xi, yi  [][2]int
	xw, yw  [][2]float64
}

func (m *Model) outputMaps(ctx context.Context, vols Inputs) (*maps, error) {
	in := m.Manifest.Input
	x, g, err := in.Prepare(vols)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Manifest.Name, err)
	}
	data, shape, err := m.Run(ctx, x, g.Size[2])
	if err != nil {
		return nil, err
	}
	s := float64(m.Manifest.Output.Stride)
	mp := &maps{grid: g, K: int(shape[1]), H: int(shape[2]), W: int(shape[3]), data: data}
	pm := newPlaneMap(g, in)
	mp.xi, mp.xw = axisWeights(g.Size[0], mp.W, func(i float64) float64 { x, _ := pm.toPatch(i, 0); return (x - (s-1)/2) / s })
	mp.yi, mp.yw = axisWeights(g.Size[1], mp.H, func(j float64) float64 { _, y := pm.toPatch(0, j); return (y - (s-1)/2) / s })
	return mp, nil
}

// at samples map c of slice k at voxel column i, row j (0 outside the model's field of view).
func (mp *maps) at(k, c, i, j int) float64 {
	plane := mp.data[(k*mp.K+c)*mp.H*mp.W:]
	xi, xw, yi, yw := mp.xi[i], mp.xw[i], mp.yi[j], mp.yw[j]
	var s float64
	for b := 0; b < 2; b++ {
		if yw[b] == 0 {
			continue
		}
		row := plane[yi[b]*mp.W:]
		s += yw[b] * (xw[0]*float64(row[xi[0]]) + xw[1]*float64(row[xi[1]]))
	}
	return s
}

// inside reports whether voxel column i, row j lies in the model's field of view.
func (mp *maps) inside(i, j int) bool {
	return mp.xw[i][0]+mp.xw[i][1] > 0 && mp.yw[j][0]+mp.yw[j][1] > 0
}

// Segment runs a segmentation model slice by slice and returns its label map on the grid of the inputs
// (the STIR grid): logits are interpolated bilinearly to every voxel, the arg-max class gives the label, and
// only the largest 6-connected component of each label is kept.
func (m *Model) Segment(ctx context.Context, vols Inputs) (*image.Labels, error) {
	if m.Manifest.Task != TaskSegmentation {
		return nil, fmt.Errorf("model %s is a %s model, not segmentation", m.Manifest.Name, m.Manifest.Task)
	}
	mp, err := m.outputMaps(ctx, vols)
	if err != nil {
		return nil, err
	}
	g := mp.grid
	out := image.NewLabels(g)
	labels := m.Manifest.Output.Labels
	n := 0
	for k := 0; k < g.Size[2]; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for j := 0; j < g.Size[1]; j++ {
			for i := 0; i < g.Size[0]; i++ {
				if mp.inside(i, j) {
					best, bv := 0, mp.at(k, 0, i, j)
					for c := 1; c < mp.K; c++ {
						if v := mp.at(k, c, i, j); v > bv {
							best, bv = c, v
						}
					}
					out.Data[n] = uint8(labels[best])
				}
				n++
			}
		}
	}
	for _, l := range labels {
		if l != 0 {
			KeepLargestComponent(out, uint8(l))
		}
	}
	return out, nil
}

// KeepLargestComponent sets to 0 every voxel of label l outside its largest 6-connected component.
func KeepLargestComponent(m *image.Labels, l uint8) {
	nx, ny, nz := m.Size[0], m.Size[1], m.Size[2]
	comp := make([]int32, len(m.Data))
	var sizes []int
	stack := make([]int, 0, 1024)
	for start, v := range m.Data {
		if v != l || comp[start] != 0 {
			continue
		}
		id := int32(len(sizes) + 1)
		size := 0
		comp[start] = id
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			i, j, k := p%nx, (p/nx)%ny, p/(nx*ny)
			for _, q := range [6][4]int{{i - 1, j, k, p - 1}, {i + 1, j, k, p + 1}, {i, j - 1, k, p - nx}, {i, j + 1, k, p + nx}, {i, j, k - 1, p - nx*ny}, {i, j, k + 1, p + nx*ny}} {
				if q[0] < 0 || q[1] < 0 || q[2] < 0 || q[0] >= nx || q[1] >= ny || q[2] >= nz {
					continue
				}
				if m.Data[q[3]] == l && comp[q[3]] == 0 {
					comp[q[3]] = id
					stack = append(stack, q[3])
				}
			}
		}
		sizes = append(sizes, size)
	}
	if len(sizes) < 2 {
		return
	}
	best := int32(1)
	for i, s := range sizes {
		if s > sizes[best-1] {
			best = int32(i + 1)
		}
	}
	for p, c := range comp {
		if c != 0 && c != best {
			m.Data[p] = 0
		}
	}
}
