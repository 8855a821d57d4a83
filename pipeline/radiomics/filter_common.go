package radiomics

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// FilteredImage is an image derived by one of PyRadiomics' image filters, named as PyRadiomics
// names the image type (the prefix of its feature names, e.g. "log-sigma-3-0-mm-3D_glcm_Contrast").
type FilteredImage struct {
	Name  string // "log-sigma-3-0-mm-3D", "wavelet-LLH", "square", "lbp-3D-m1", …
	Image *image.Volume
}

// checkVolume rejects volumes a filter cannot work on.
func checkVolume(v *image.Volume, what string) error {
	if v == nil {
		return fmt.Errorf("radiomics: %s: no image", what)
	}
	if err := v.Grid.Validate(); err != nil {
		return fmt.Errorf("radiomics: %s: %w", what, err)
	}
	if len(v.Data) != v.Len() {
		return fmt.Errorf("radiomics: %s: %d voxels for a %v grid", what, len(v.Data), v.Size)
	}
	for i, x := range v.Data {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("radiomics: %s: voxel %d is %v", what, i, x)
		}
	}
	return nil
}

// pythonFloat formats x as Python's str(float) does for ordinary magnitudes ("3.0", "1.5").
func pythonFloat(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// parallelFor runs f(lo, hi) over [0, n) split into chunks on GOMAXPROCS goroutines, stopping
// early when ctx is cancelled.
func parallelFor(ctx context.Context, n int, f func(lo, hi int)) error {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		if err := ctx.Err(); err != nil {
			return err
		}
		f(0, n)
		return ctx.Err()
	}
	chunks := workers * 4
	if chunks > n {
		chunks = n
	}
	var wg sync.WaitGroup
	next := make(chan int, chunks)
	for c := 0; c < chunks; c++ {
		next <- c
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				if ctx.Err() != nil {
					return
				}
				f(c*n/chunks, (c+1)*n/chunks)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// lineOp filters lanes [l0, l1) of n-sample lines laid out as in[i*stride + l] into out, using
// tmp (same layout) as scratch.
type lineOp func(in, out, tmp []float64, n, stride, l0, l1 int)

// laneBlock is how many contiguous lines an i-axis pass gathers into lanes.
const laneBlock = 16

// applyAxis applies op to every line of data along axis (0 = i, 1 = j, 2 = k) into out. The lines
// are processed as lanes of one row-major block so that the inner loops run over contiguous memory:
// j and k lines are already laid out so; i lines are gathered laneBlock at a time. scratch (the
// size of data) is op's work space along k; nil for an op that needs none.
func applyAxis(ctx context.Context, data, out, scratch []float64, size [3]int, axis int, op lineOp) error {
	nx, ny, nz := size[0], size[1], size[2]
	switch axis {
	case 0:
		rows := ny * nz
		blocks := (rows + laneBlock - 1) / laneBlock
		return parallelFor(ctx, blocks, func(lo, hi int) {
			in := make([]float64, nx*laneBlock)
			res := make([]float64, nx*laneBlock)
			tmp := make([]float64, nx*laneBlock)
			for b := lo; b < hi; b++ {
				r0 := b * laneBlock
				w := min(laneBlock, rows-r0)
				for l := 0; l < w; l++ {
					row := data[(r0+l)*nx : (r0+l+1)*nx]
					for i, x := range row {
						in[i*laneBlock+l] = x
					}
				}
				op(in, res, tmp, nx, laneBlock, 0, w)
				for l := 0; l < w; l++ {
					row := out[(r0+l)*nx : (r0+l+1)*nx]
					for i := range row {
						row[i] = res[i*laneBlock+l]
					}
				}
			}
		})
	case 1:
		return parallelFor(ctx, nz, func(lo, hi int) {
			tmp := make([]float64, nx*ny)
			for k := lo; k < hi; k++ {
				o := k * nx * ny
				op(data[o:o+nx*ny], out[o:o+nx*ny], tmp, ny, nx, 0, nx)
			}
		})
	default:
		plane := nx * ny
		return parallelFor(ctx, plane, func(lo, hi int) {
			op(data, out, scratch, nz, plane, lo, hi)
		})
	}
}

// newLike returns a zero volume on v's grid.
func newLike(v *image.Volume) *image.Volume {
	return &image.Volume{Grid: v.Grid, Data: make([]float64, len(v.Data))}
}
