package radiomics

import (
	"context"
	"fmt"
	"math"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// LBP2D as PyRadiomics computes it (imageoperations.getLBP2DImage): scikit-image's
// local_binary_pattern(slice, P, R, method) on every slice across force2Ddimension. P points on a
// circle of radius R (voxels) around each pixel, at row offset round(−R·sin(2πp/P), 5) and column
// offset round(R·cos(2πp/P), 5), sampled bilinearly (0 outside the slice); a point counts as 1 when
// it is ≥ the centre. Methods: "default" (Σ 2^p), "ror" (the rotation giving the smallest code),
// "uniform" (the number of 1s when the pattern has at most 2 changes along p = 0…P−1, else P+1)
// ("nri_uniform" and "var" are not provided). Checked by hand against scikit-image 0.19
// local_binary_pattern with PyRadiomics' axis swaps, all three force2Ddimension values and methods:
// identical codes.

// LBP2DOptions are PyRadiomics' LBP2D settings.
type LBP2DOptions struct {
	Radius           float64 // lbp2DRadius, default 1
	Samples          int     // lbp2DSamples, default 8
	Method           string  // lbp2DMethod, default "uniform"
	Force2DDimension int     // force2Ddimension: 0 = slices across k, 1 = across j, 2 = across i
}

// LBP2D returns PyRadiomics' "lbp-2D" image of v.
func LBP2D(ctx context.Context, v *image.Volume, opt LBP2DOptions) (FilteredImage, error) {
	if err := checkVolume(v, "LBP2D"); err != nil {
		return FilteredImage{}, err
	}
	if opt.Radius == 0 {
		opt.Radius = 1
	}
	if opt.Samples == 0 {
		opt.Samples = 8
	}
	if opt.Method == "" {
		opt.Method = "uniform"
	}
	if !(opt.Radius > 0) || opt.Samples < 1 || opt.Samples > 32 {
		return FilteredImage{}, fmt.Errorf("radiomics: LBP2D: radius %g, samples %d: need radius > 0 and 1 ≤ samples ≤ 32", opt.Radius, opt.Samples)
	}
	switch opt.Method {
	case "default", "ror", "uniform":
	default:
		return FilteredImage{}, fmt.Errorf("radiomics: LBP2D: method %q: supported are default, ror, uniform", opt.Method)
	}
	slice, err := sliceAxisOf(opt.Force2DDimension)
	if err != nil {
		return FilteredImage{}, err
	}
	// PyRadiomics swaps numpy axis force2Ddimension with axis 0 of (k, j, i): the slices' rows and
	// columns are then (j, i), (k, i) or (j, k).
	var rowAx, colAx int
	switch slice {
	case 2:
		rowAx, colAx = 1, 0
	case 1:
		rowAx, colAx = 2, 0
	default:
		rowAx, colAx = 1, 2
	}
	p := opt.Samples
	rp := make([]float64, p)
	cp := make([]float64, p)
	for i := 0; i < p; i++ {
		a := 2 * math.Pi * float64(i) / float64(p)
		rp[i] = math.Round(-opt.Radius*math.Sin(a)*1e5) / 1e5
		cp[i] = math.Round(opt.Radius*math.Cos(a)*1e5) / 1e5
	}
	out := newLike(v)
	rows, cols := v.Size[rowAx], v.Size[colAx]
	at := func(s, r, c int) int {
		var x [3]int
		x[slice], x[rowAx], x[colAx] = s, r, c
		return v.Index(x[0], x[1], x[2])
	}
	pixel := func(s, r, c int) float64 {
		if r < 0 || c < 0 || r >= rows || c >= cols {
			return 0
		}
		return v.Data[at(s, r, c)]
	}
	err = parallelFor(ctx, v.Size[slice], func(s0, s1 int) {
		bits := make([]int, p)
		for s := s0; s < s1; s++ {
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					centre := v.Data[at(s, r, c)]
					for i := 0; i < p; i++ {
						y, x := float64(r)+rp[i], float64(c)+cp[i]
						r0, c0 := math.Floor(y), math.Floor(x)
						r1, c1 := math.Ceil(y), math.Ceil(x)
						dr, dc := y-r0, x-c0
						top := (1-dc)*pixel(s, int(r0), int(c0)) + dc*pixel(s, int(r0), int(c1))
						bottom := (1-dc)*pixel(s, int(r1), int(c0)) + dc*pixel(s, int(r1), int(c1))
						bits[i] = 0
						if (1-dr)*top+dr*bottom-centre >= 0 {
							bits[i] = 1
						}
					}
					out.Data[at(s, r, c)] = lbpCode(bits, opt.Method)
				}
			}
		}
	})
	if err != nil {
		return FilteredImage{}, err
	}
	return FilteredImage{Name: "lbp-2D", Image: out}, nil
}

// lbpCode is scikit-image's code of a thresholded pattern.
func lbpCode(bits []int, method string) float64 {
	p := len(bits)
	switch method {
	case "uniform":
		changes, ones := 0, 0
		for i := 0; i < p; i++ {
			ones += bits[i]
			if i < p-1 && bits[i] != bits[i+1] {
				changes++
			}
		}
		if changes <= 2 {
			return float64(ones)
		}
		return float64(p + 1)
	case "ror":
		best := -1
		for rot := 0; rot < p; rot++ {
			code := 0
			for i := 0; i < p; i++ {
				code |= bits[(i+rot)%p] << i
			}
			if best < 0 || code < best {
				best = code
			}
		}
		return float64(best)
	default:
		code := 0
		for i := 0; i < p; i++ {
			code |= bits[i] << i
		}
		return float64(code)
	}
}
