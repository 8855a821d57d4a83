package radiomics

import (
	"context"
	"fmt"
	"math"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// The intensity filters of PyRadiomics (imageoperations.getSquareImage and friends), with its
// rescaling so that the result stays in the range of the input, and its gradient magnitude
// (SimpleITK GradientMagnitudeImageFilter).

func maxAbs(v *image.Volume) float64 {
	m := 0.0
	for _, x := range v.Data {
		m = max(m, math.Abs(x))
	}
	return m
}

// pointFilter applies f to every voxel; the image must not be all zero (PyRadiomics would divide
// by zero).
func pointFilter(v *image.Volume, name string, f func(x, m float64) float64) (FilteredImage, error) {
	if err := checkVolume(v, name); err != nil {
		return FilteredImage{}, err
	}
	m := maxAbs(v)
	if m == 0 {
		return FilteredImage{}, fmt.Errorf("radiomics: %s: the image is zero everywhere", name)
	}
	out := newLike(v)
	for i, x := range v.Data {
		out.Data[i] = f(x, m)
	}
	return FilteredImage{Name: name, Image: out}, nil
}

// Square is PyRadiomics' "square": f(x) = (c·x)², c = 1/√max|x|.
func Square(v *image.Volume) (FilteredImage, error) {
	return pointFilter(v, "square", func(x, m float64) float64 {
		c := 1 / math.Sqrt(m)
		return (c * x) * (c * x)
	})
}

// SquareRoot is PyRadiomics' "squareroot": f(x) = √(c·x) for x ≥ 0, −√(−c·x) for x < 0, c = max|x|.
func SquareRoot(v *image.Volume) (FilteredImage, error) {
	return pointFilter(v, "squareroot", func(x, m float64) float64 {
		if x < 0 {
			return -math.Sqrt(-x * m)
		}
		return math.Sqrt(x * m)
	})
}

// Logarithm is PyRadiomics' "logarithm": f(x) = c·log(x+1) for x ≥ 0, −c·log(−x+1) for x < 0,
// rescaled so that max|f| = max|x| (c = max|x| / max|log(|x|+1)|).
func Logarithm(v *image.Volume) (FilteredImage, error) {
	fi, err := pointFilter(v, "logarithm", func(x, _ float64) float64 {
		if x < 0 {
			return -math.Log(-x + 1)
		}
		return math.Log(x + 1)
	})
	if err != nil {
		return fi, err
	}
	scale := maxAbs(v) / maxAbs(fi.Image)
	for i := range fi.Image.Data {
		fi.Image.Data[i] *= scale
	}
	return fi, nil
}

// Exponential is PyRadiomics' "exponential": f(x) = e^(c·x), c = log(max|x|)/max|x|.
func Exponential(v *image.Volume) (FilteredImage, error) {
	return pointFilter(v, "exponential", func(x, m float64) float64 {
		return math.Exp(math.Log(m) / m * x)
	})
}

// Gradient is PyRadiomics' "gradient": the gradient magnitude by central differences
// (x[i+1] − x[i−1])/2 per axis, the edge voxel repeated at the border (ITK's zero-flux Neumann
// condition), divided by the spacing when useSpacing (PyRadiomics `gradientUseSpacing`, default
// true).
func Gradient(ctx context.Context, v *image.Volume, useSpacing bool) (FilteredImage, error) {
	if err := checkVolume(v, "gradient"); err != nil {
		return FilteredImage{}, err
	}
	out := newLike(v)
	nx, ny, nz := v.Size[0], v.Size[1], v.Size[2]
	var scale [3]float64
	for a := 0; a < 3; a++ {
		scale[a] = 0.5
		if useSpacing {
			scale[a] = 0.5 / v.Spacing[a]
		}
	}
	err := parallelFor(ctx, nz, func(k0, k1 int) {
		for k := k0; k < k1; k++ {
			for j := 0; j < ny; j++ {
				for i := 0; i < nx; i++ {
					c := [3]int{i, j, k}
					s := 0.0
					for a := 0; a < 3; a++ {
						p, m := c, c
						p[a] = min(c[a]+1, v.Size[a]-1)
						m[a] = max(c[a]-1, 0)
						d := (v.At(p[0], p[1], p[2]) - v.At(m[0], m[1], m[2])) * scale[a]
						s += d * d
					}
					out.Data[v.Index(i, j, k)] = math.Sqrt(s)
				}
			}
		}
	})
	if err != nil {
		return FilteredImage{}, err
	}
	return FilteredImage{Name: "gradient", Image: out}, nil
}
