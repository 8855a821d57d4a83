package radiomics

import (
	"math"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// ramp is a 12×12×12 image of f(x) = 2x + 3y + z (mm, 1 mm voxels) with the whole image as ROI.
func ramp() (*image.Volume, []bool) {
	g := image.NewGrid([3]int{12, 12, 12}, [3]float64{1, 1, 1})
	v := image.NewVolume(g)
	m := make([]bool, g.Len())
	for k := 0; k < 12; k++ {
		for j := 0; j < 12; j++ {
			for i := 0; i < 12; i++ {
				v.Set(i, j, k, 2*float64(i)+3*float64(j)+float64(k))
				m[g.Index(i, j, k)] = true
			}
		}
	}
	return v, m
}

// TestResampleGrid checks the new grid of both alignments for 12 voxels of 1 mm → 3 mm:
// PyRadiomics keeps the corner (origin index ½(3−1) = 1, size ⌈12/3⌉ = 4); IBSI centres the grid
// (origin index (12−1)/2 − (4−1)/2·3 = 1, the same here) — and for 2.5 mm: corner 0.75,
// centre 5.5 − 2·2.5 = 0.5, size 5.
func TestResampleGrid(t *testing.T) {
	v, m := ramp()
	lo, hi := [3]int{0, 0, 0}, [3]int{11, 11, 11}
	for _, tc := range []struct {
		ibsi       bool
		spacing    float64
		wantSize   int
		wantOrigin float64
	}{
		{false, 3, 4, 1}, {true, 3, 4, 1}, {false, 2.5, 5, 0.75}, {true, 2.5, 5, 0.5},
	} {
		s := baseSettings()
		s.ResampledPixelSpacing = []float64{tc.spacing, tc.spacing, tc.spacing}
		s.Interpolator = "sitkLinear"
		s.PadDistance = 100
		if tc.ibsi {
			s.IBSI = &IBSISettings{GridAlignment: "centre", MaskInterpolation: "linear", MaskThreshold: 0.5}
		}
		r, err := resample(v, m, lo, hi, s)
		if err != nil {
			t.Fatal(err)
		}
		if r.grid.Size[0] != tc.wantSize || math.Abs(r.grid.Origin[0]-tc.wantOrigin) > 1e-12 || r.grid.Spacing[0] != tc.spacing {
			t.Errorf("ibsi=%v %v mm: size %v origin %v, want %d and %v", tc.ibsi, tc.spacing, r.grid.Size, r.grid.Origin, tc.wantSize, tc.wantOrigin)
		}
		// Interpolation reproduces the ramp at every sample inside the image.
		for k := 0; k < r.grid.Size[2]; k++ {
			for j := 0; j < r.grid.Size[1]; j++ {
				for i := 0; i < r.grid.Size[0]; i++ {
					p := r.grid.Point(float64(i), float64(j), float64(k))
					if p[0] > 11 || p[1] > 11 || p[2] > 11 {
						continue // beyond the last voxel centre the edge value is repeated
					}
					if got, want := r.img[r.grid.Index(i, j, k)], 2*p[0]+3*p[1]+p[2]; math.Abs(got-want) > 1e-9 {
						t.Fatalf("ibsi=%v: linear sample at %v = %v, want %v", tc.ibsi, p, got, want)
					}
				}
			}
		}
	}
}

// TestBSplineReproducesPolynomials: cubic B-spline interpolation passes through the samples
// (which checks the prefilter), is exact for a constant and close to a linear ramp away from the
// mirrored borders (the mirror's error decays as (2−√3)^distance).
func TestBSplineReproducesPolynomials(t *testing.T) {
	v, _ := ramp()
	for i := range v.Data {
		v.Data[i] = math.Sin(float64(i)*0.37) * 10 // arbitrary data
	}
	coef := bsplineCoefficients(v.Data, v.Size)
	var axes [3][]float64
	for a := 0; a < 3; a++ {
		for i := 0; i < 12; i++ {
			axes[a] = append(axes[a], float64(i))
		}
	}
	out := interpolate(coef, v.Size, axes, bsplineKernel)
	for i := range out {
		if math.Abs(out[i]-v.Data[i]) > 1e-9 {
			t.Fatalf("B-spline at node %d = %v, want the sample %v", i, out[i], v.Data[i])
		}
	}
	v, m := ramp()
	s := baseSettings()
	s.ResampledPixelSpacing = []float64{0.5, 0.5, 0.5}
	s.PadDistance = 100
	r, err := resample(v, m, [3]int{0, 0, 0}, [3]int{11, 11, 11}, s)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < r.grid.Size[2]; k++ {
		for j := 0; j < r.grid.Size[1]; j++ {
			for i := 0; i < r.grid.Size[0]; i++ {
				p := r.grid.Point(float64(i), float64(j), float64(k))
				if p[0] < 4 || p[0] > 7 || p[1] < 4 || p[1] > 7 || p[2] < 4 || p[2] > 7 {
					continue
				}
				if got, want := r.img[r.grid.Index(i, j, k)], 2*p[0]+3*p[1]+p[2]; math.Abs(got-want) > 0.02 {
					t.Fatalf("B-spline sample at %v = %v, want %v", p, got, want)
				}
			}
		}
	}
	c := image.NewVolume(v.Grid)
	for i := range c.Data {
		c.Data[i] = 7
	}
	coef = bsplineCoefficients(c.Data, c.Size)
	out = interpolate(coef, c.Size, [3][]float64{{0, 0.3, 5.5, 11}, {0, 11}, {2.25}}, bsplineKernel)
	for _, x := range out {
		if math.Abs(x-7) > 1e-9 {
			t.Fatalf("B-spline of a constant gave %v", out)
		}
	}
}

// TestMaskInterpolation: a ROI of one 2×2×2 block upsampled ×2. Nearest neighbour
// (PyRadiomics) keeps exactly the samples nearest to ROI voxels; linear interpolation thresholded at
// 0.5 (IBSI) keeps the samples within half a voxel of the block.
func TestMaskInterpolation(t *testing.T) {
	g := image.NewGrid([3]int{6, 6, 6}, [3]float64{2, 2, 2})
	v := image.NewVolume(g)
	m := make([]bool, g.Len())
	for k := 2; k <= 3; k++ {
		for j := 2; j <= 3; j++ {
			for i := 2; i <= 3; i++ {
				m[g.Index(i, j, k)] = true
			}
		}
	}
	count := func(r region) int {
		n := 0
		for _, b := range r.morph {
			if b {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name string
		ibsi *IBSISettings
		want int
	}{
		// Corner-aligned 1 mm grid: 4 samples per source voxel along each axis → 4³ per block axis.
		{"nearest", nil, 4 * 4 * 4},
		// Centre-aligned: samples at source index 1.75, 2.25, 2.75, 3.25 have 1D mask values 0.75,
		// 1, 1, 0.75; the trilinear value is their product, so the 8 corner samples (0.75³ < 0.5)
		// drop out and the edge samples (0.75² ≥ 0.5) stay.
		{"linear", &IBSISettings{GridAlignment: "centre", MaskInterpolation: "linear", MaskThreshold: 0.5}, 4*4*4 - 8},
	} {
		s := baseSettings()
		s.ResampledPixelSpacing = []float64{1, 1, 1}
		s.Interpolator = "sitkLinear"
		s.IBSI = tc.ibsi
		r, err := resample(v, m, [3]int{2, 2, 2}, [3]int{3, 3, 3}, s)
		if err != nil {
			t.Fatal(err)
		}
		if got := count(r); got != tc.want {
			t.Errorf("%s: %d mask voxels, want %d", tc.name, got, tc.want)
		}
	}
}

func TestBinning(t *testing.T) {
	vals := []float64{-7, -3, 0, 4.9, 5, 13}
	for _, tc := range []struct {
		name string
		s    Settings
		want []int32
	}{
		// PyRadiomics: edges at multiples of 5 from −10: [−10,−5) [−5,0) [0,5) [5,10) [10,15).
		{"pyradiomics width 5", Settings{BinWidth: 5}, []int32{1, 2, 3, 3, 4, 5}},
		// IBSI: from the minimum −7: [−7,−2) [−2,3) [3,8) [8,13) [13,18).
		{"ibsi width 5", Settings{BinWidth: 5, IBSI: &IBSISettings{BinningConvention: "ibsi"}}, []int32{1, 1, 2, 3, 3, 5}},
		// Fixed bin number 4 over [−7, 13]: width 5, the maximum in the last bin.
		{"count 4", Settings{BinCount: 4}, []int32{1, 1, 2, 3, 3, 4}},
	} {
		b := newBinning(vals, tc.s)
		for i, x := range vals {
			if got := b.level(x); got != tc.want[i] {
				t.Errorf("%s: level(%v) = %d, want %d", tc.name, x, got, tc.want[i])
			}
		}
	}
}
