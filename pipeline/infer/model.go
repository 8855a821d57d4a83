package infer

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/sacrum-dev/sacrum/pipeline/image"
	ort "github.com/yalue/onnxruntime_go"
)

// Inputs are a study's volumes on one grid (the STIR grid), keyed by sequence name ("stir", "t1").
type Inputs map[string]*image.Volume

// Options tune a session.
type Options struct {
	// Threads is ONNX Runtime's intra-op thread count; 0 lets ONNX Runtime choose (one per core).
	Threads int
}

// Model is a validated manifest with an ONNX Runtime session. Run may be called from several goroutines.
type Model struct {
	Manifest *Manifest
	session  *ort.DynamicAdvancedSession
}

// Load validates the manifest's model (see Validate) and opens a session.
func Load(rt *Runtime, m *Manifest, opt Options) (*Model, error) {
	if err := Validate(rt, m); err != nil {
		return nil, err
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("model %s: session options: %w", m.Name, err)
	}
	defer so.Destroy()
	if opt.Threads > 0 {
		if err := so.SetIntraOpNumThreads(opt.Threads); err != nil {
			return nil, fmt.Errorf("model %s: %w", m.Name, err)
		}
		if err := so.SetInterOpNumThreads(1); err != nil {
			return nil, fmt.Errorf("model %s: %w", m.Name, err)
		}
	}
	s, err := ort.NewDynamicAdvancedSession(m.Path(), []string{m.Input.Name}, []string{m.Output.Name}, so)
	if err != nil {
		return nil, fmt.Errorf("model %s: creating session for %s: %w", m.Name, m.Path(), err)
	}
	return &Model{Manifest: m, session: s}, nil
}

// LoadFile reads a manifest and loads its model.
func LoadFile(rt *Runtime, manifestPath string, opt Options) (*Model, error) {
	m, err := ReadManifest(manifestPath)
	if err != nil {
		return nil, err
	}
	return Load(rt, m, opt)
}

// Close releases the session.
func (m *Model) Close() error {
	if m == nil || m.session == nil {
		return nil
	}
	err := m.session.Destroy()
	m.session = nil
	return err
}

// Run feeds an N×C×H×W float32 tensor and returns the output tensor's data and shape. It is exported for the
// reference-tensor tests and for callers that prepare their own input.
func (m *Model) Run(ctx context.Context, input []float32, n int) ([]float32, ort.Shape, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	in := m.Manifest.Input
	shape := ort.NewShape(int64(n), int64(len(in.Channels)), int64(in.Patch[0]), int64(in.Patch[1]))
	if int64(len(input)) != shape.FlattenedSize() {
		return nil, nil, fmt.Errorf("model %s: input has %d values, shape %v needs %d", m.Manifest.Name, len(input), shape, shape.FlattenedSize())
	}
	t, err := ort.NewTensor(shape, input)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: input tensor: %w", m.Manifest.Name, err)
	}
	defer t.Destroy()
	outs := []ort.Value{nil}
	if err := m.session.Run([]ort.Value{t}, outs); err != nil {
		return nil, nil, fmt.Errorf("model %s: inference: %w", m.Manifest.Name, err)
	}
	defer outs[0].Destroy()
	ot, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, nil, fmt.Errorf("model %s: output %q is not a float32 tensor", m.Manifest.Name, m.Manifest.Output.Name)
	}
	s := ot.GetShape()
	st := int64(m.Manifest.Output.Stride)
	want := ort.NewShape(int64(n), int64(m.Manifest.outChannels()), int64(in.Patch[0])/st, int64(in.Patch[1])/st)
	if !s.Equals(want) {
		return nil, nil, fmt.Errorf("model %s: output shape %v, the manifest implies %v", m.Manifest.Name, s, want)
	}
	return slices.Clone(ot.GetData()), s.Clone(), nil
}

// planeMap relates the in-plane voxel index of the STIR grid to model tensor pixel coordinates: the patch is
// centred on the image centre with the manifest's spacing; an output with stride s has pixel u centred on patch
// pixel u·s + (s−1)/2.
type planeMap struct {
	cx, cy float64 // image centre (voxel index)
	fx, fy float64 // voxel → patch pixel scale (source spacing / patch spacing)
	px, py float64 // patch centre (pixel index)
}

func newPlaneMap(g image.Grid, in InputSpec) planeMap {
	return planeMap{
		cx: float64(g.Size[0]-1) / 2, cy: float64(g.Size[1]-1) / 2,
		fx: g.Spacing[0] / in.SpacingMM[0], fy: g.Spacing[1] / in.SpacingMM[1],
		px: float64(in.Patch[1]-1) / 2, py: float64(in.Patch[0]-1) / 2,
	}
}

// toPatch maps voxel (i, j) to patch pixel coordinates.
func (p planeMap) toPatch(i, j float64) (x, y float64) {
	return (i-p.cx)*p.fx + p.px, (j-p.cy)*p.fy + p.py
}

// toVoxel maps patch pixel (x, y) to voxel coordinates.
func (p planeMap) toVoxel(x, y float64) (i, j float64) {
	return (x-p.px)/p.fx + p.cx, (y-p.py)/p.fy + p.cy
}

// Prepare builds the model input for every slice of the grid: each channel normalised per volume, resampled
// bilinearly in-plane onto the patch (zero signal outside the image), N×C×H×W float32 with N = slices.
// Training scripts get their data through the same function (models/tools/export-slices), so training and
// inference see identical inputs.
func (in InputSpec) Prepare(vols Inputs) ([]float32, image.Grid, error) {
	var g image.Grid
	for c, name := range in.Channels {
		v := vols[name]
		if v == nil {
			return nil, g, fmt.Errorf("the model needs a %s series and the study has none", name)
		}
		if c == 0 {
			g = v.Grid
		} else if !v.Grid.SameGrid(g, 1e-3) {
			return nil, g, fmt.Errorf("channel %s is not on the %s grid (resample it first)", name, in.Channels[0])
		}
	}
	H, W, C, N := in.Patch[0], in.Patch[1], len(in.Channels), g.Size[2]
	out := make([]float32, N*C*H*W)
	pm := newPlaneMap(g, in)
	// Separable bilinear weights: column x of the patch reads voxel columns i0, i0+1.
	xi, xw := axisWeights(W, g.Size[0], func(x float64) float64 { i, _ := pm.toVoxel(x, 0); return i })
	yi, yw := axisWeights(H, g.Size[1], func(y float64) float64 { _, j := pm.toVoxel(0, y); return j })
	nx, ny := g.Size[0], g.Size[1]
	for c, name := range in.Channels {
		v := vols[name]
		mean, sd := 0.0, 1.0
		if in.Normalisation == "zscore" {
			mean, sd = meanSD(v.Data)
		}
		for k := 0; k < N; k++ {
			plane := v.Data[k*nx*ny : (k+1)*nx*ny]
			dst := out[((k*C)+c)*H*W : ((k*C)+c+1)*H*W]
			for y := 0; y < H; y++ {
				for x := 0; x < W; x++ {
					var s float64
					for b := 0; b < 2; b++ {
						if yw[y][b] == 0 {
							continue
						}
						row := plane[yi[y][b]*nx:]
						s += yw[y][b] * (xw[x][0]*row[xi[x][0]] + xw[x][1]*row[xi[x][1]])
					}
					dst[y*W+x] = float32((s - mean) / sd)
				}
			}
		}
	}
	return out, g, nil
}

// axisWeights returns, for each of n target positions, two source indices and their bilinear weights along
// one axis of length size; positions outside [-0.5, size-0.5] get zero weights (zero signal).
func axisWeights(n, size int, src func(float64) float64) ([][2]int, [][2]float64) {
	idx, w := make([][2]int, n), make([][2]float64, n)
	for t := 0; t < n; t++ {
		s := src(float64(t))
		if s < -0.5 || s > float64(size)-0.5 {
			continue
		}
		s = math.Max(0, math.Min(s, float64(size-1)))
		i0 := int(s)
		d := s - float64(i0)
		i1 := min(i0+1, size-1)
		idx[t], w[t] = [2]int{i0, i1}, [2]float64{1 - d, d}
	}
	return idx, w
}

func meanSD(x []float64) (float64, float64) {
	var s, ss float64
	for _, v := range x {
		s += v
	}
	m := s / float64(len(x))
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	sd := math.Sqrt(ss / float64(len(x)))
	if !(sd > 0) {
		sd = 1
	}
	return m, sd
}

// LabelPatches resamples a label map onto the model's patch grid (nearest neighbour), N×H×W, for training data
// export; voxels outside the image are 0.
func (in InputSpec) LabelPatches(m *image.Labels) []uint8 {
	H, W, N := in.Patch[0], in.Patch[1], m.Size[2]
	pm := newPlaneMap(m.Grid, in)
	out := make([]uint8, N*H*W)
	for k := 0; k < N; k++ {
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				i, j := pm.toVoxel(float64(x), float64(y))
				a, b := int(math.Round(i)), int(math.Round(j))
				if m.Contains(a, b, k) {
					out[(k*H+y)*W+x] = m.Data[m.Index(a, b, k)]
				}
			}
		}
	}
	return out
}
