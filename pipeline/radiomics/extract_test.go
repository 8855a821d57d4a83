package radiomics

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// block returns a 4×4×4 image (spacing sp) whose centre 2×2×2 block (indices 1…2) is the ROI with
// intensities 1…8 in index order; the rest of the image is 100.
func block(sp [3]float64) (*image.Volume, *image.Labels) {
	g := image.NewGrid([3]int{4, 4, 4}, sp)
	v := image.NewVolume(g)
	m := image.NewLabels(g)
	for i := range v.Data {
		v.Data[i] = 100
	}
	x := 1.0
	for k := 1; k <= 2; k++ {
		for j := 1; j <= 2; j++ {
			for i := 1; i <= 2; i++ {
				v.Set(i, j, k, x)
				m.Data[g.Index(i, j, k)] = 1
				x++
			}
		}
	}
	return v, m
}

func mustSettings(t *testing.T, yaml string) Settings {
	t.Helper()
	s, err := ParseSettings([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func lookup(t *testing.T, res *Result, n Naming, name string) float64 {
	t.Helper()
	v, ok := res.Lookup(n, name)
	if !ok {
		t.Fatalf("feature %s not in the result", name)
	}
	return v.Value
}

// TestFirstOrderByHand checks PyRadiomics firstorder on the values 1…8, worked out by hand:
// mean 4.5, population variance 5.25, m4 = 48.5625, Kurtosis = m4/m2² = 1.76190…, P10 = 1.7
// (numpy linear: 1 + 0.7), P90 = 7.3, IQR = 6.25 − 2.75, MAD = 2, robust MAD over 2…7 = 1.5,
// Energy with voxelArrayShift 1 = Σ(x+1)² = 284, TotalEnergy = 284 × 8 mm³; binWidth 2 from 0
// (PyRadiomics edges 0,2,4,…) gives counts 1,2,2,2,1: Entropy 2.25, Uniformity 0.21875.
func TestFirstOrderByHand(t *testing.T) {
	img, mask := block([3]float64{2, 2, 2})
	s := mustSettings(t, "setting: {binWidth: 2, voxelArrayShift: 1}\nfeatureClass: {firstorder: [Mean, Variance, Kurtosis, Skewness, 10Percentile, 90Percentile, InterquartileRange, Median, Range, MeanAbsoluteDeviation, RobustMeanAbsoluteDeviation, Energy, TotalEnergy, RootMeanSquared, Entropy, Uniformity, StandardDeviation]}")
	res, err := Extract(img, mask, 1, s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"Mean": 4.5, "Variance": 5.25, "Kurtosis": 48.5625 / 27.5625, "Skewness": 0, "10Percentile": 1.7,
		"90Percentile": 7.3, "InterquartileRange": 3.5, "Median": 4.5, "Range": 7, "MeanAbsoluteDeviation": 2,
		"RobustMeanAbsoluteDeviation": 1.5, "Energy": 284, "TotalEnergy": 284 * 8, "RootMeanSquared": math.Sqrt(284.0 / 8),
		"Entropy": 2.25, "Uniformity": 0.21875, "StandardDeviation": math.Sqrt(5.25),
	}
	for name, w := range want {
		if got := lookup(t, res, NamingPyRadiomics, "original_firstorder_"+name); math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
	if len(res.Features) != len(want) {
		t.Errorf("%d features, want %d", len(res.Features), len(want))
	}
	// With a shift, Energy is not IBSI's stat_energy, so it keeps its PyRadiomics name.
	if _, ok := res.Lookup(NamingIBSI, "stat_energy"); ok {
		t.Error("shifted Energy carries the IBSI tag stat_energy")
	}
}

// TestIBSIStatisticsByHand: in IBSI mode the same values give stat_kurt = PyRadiomics − 3 and,
// with IBSI binning from the minimum 1 (bins [1,3), [3,5), [5,7), [7,9)), four equal bins:
// ih_entropy 2, ih_uniformity 0.25, ih_mean 2.5; the IVH of levels 1…4 gives ivh_v10 = 0.75
// (levels ≥ 1 + 0.1·3), ivh_i10 = the lowest level whose fraction ≥ it is ≤ 0.1 (none of 1…4: 5,
// i.e. intensity 1 + 4·2 = 9).
func TestIBSIStatisticsByHand(t *testing.T) {
	img, mask := block([3]float64{1, 1, 1})
	s := mustSettings(t, "setting: {binWidth: 2, ibsi: {}}\nfeatureClass: {stat: , ih: , ivh: }")
	res, err := Extract(img, mask, 1, s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"stat_kurt": 48.5625/27.5625 - 3, "stat_var": 5.25, "stat_medad": 2, "stat_cov": math.Sqrt(5.25) / 4.5,
		"stat_qcod": 3.5 / 9, "ih_entropy": 2, "ih_uniformity": 0.25, "ih_mean": 2.5, "ih_mode": 2,
		"ivh_v10": 0.75, "ivh_v90": 0.25, "ivh_i10": 9, "ivh_i90": 3,
	}
	for name, w := range want {
		if got := lookup(t, res, NamingIBSI, name); math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
}

// TestShapeByHand: the 2×2×2 block's marching-cubes surface encloses the unit cube, six ½-thick
// slabs, twelve edge prisms (triangle legs ½, length 1) and eight corner tetrahedra:
// V = 1 + 3 + 1.5 + 8/48; its area is 6 squares + 12 strips of width √½ + 8 equilateral triangles
// of side √½. Voxel centres {0,1}³ have variance ¼ on each axis: axes 4·½ = 2, elongation and
// flatness 1. The farthest vertices are (−½,0,0) and (1½,1,1): √6; in one slice (1½,1)−(−½,0): √5.
func TestShapeByHand(t *testing.T) {
	img, mask := block([3]float64{1, 1, 1})
	res, err := Extract(img, mask, 1, mustSettings(t, "featureClass: {shape: [MeshVolume, VoxelVolume, SurfaceArea, Sphericity, MajorAxisLength, LeastAxisLength, Elongation, Flatness, Maximum3DDiameter, Maximum2DDiameterSlice, Compactness2]}"))
	if err != nil {
		t.Fatal(err)
	}
	v := 1 + 3 + 1.5 + 8.0/48
	a := 6 + 12*math.Sqrt(0.5) + 8*math.Sqrt(3)/4*0.5
	want := map[string]float64{
		"MeshVolume": v, "VoxelVolume": 8, "SurfaceArea": a, "Sphericity": math.Cbrt(36*math.Pi*v*v) / a,
		"MajorAxisLength": 2, "LeastAxisLength": 2, "Elongation": 1, "Flatness": 1,
		"Maximum3DDiameter": math.Sqrt(6), "Maximum2DDiameterSlice": math.Sqrt(5), "Compactness2": 36 * math.Pi * v * v / (a * a * a),
	}
	for name, w := range want {
		if got := lookup(t, res, NamingPyRadiomics, "original_shape_"+name); math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
	// Spacing scales volume by the voxel volume (2·3·4 = 24).
	img2, mask2 := block([3]float64{2, 3, 4})
	res2, err := Extract(img2, mask2, 1, mustSettings(t, "featureClass: {shape: [MeshVolume]}"))
	if err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, res2, NamingPyRadiomics, "original_shape_MeshVolume"); math.Abs(got-24*v) > 1e-9 {
		t.Errorf("anisotropic MeshVolume = %v, want %v", got, 24*v)
	}
}

// TestLocalIntensityByHand: with a 1 mm sphere on a 1 mm grid, the neighbourhood is the voxel and
// its 6 face neighbours. The ROI maximum 8 at (2,2,2) has neighbours 4, 6, 7 (ROI) and 100, 100,
// 100 (outside): mean (8+4+6+7+300)/7.
func TestLocalIntensityByHand(t *testing.T) {
	img, mask := block([3]float64{1, 1, 1})
	res, err := Extract(img, mask, 1, mustSettings(t, "setting: {ibsi: {localIntensityRadius: 1}}\nfeatureClass: {loc: }"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lookup(t, res, NamingIBSI, "loc_peak_loc"), (8+4+6+7+300)/7.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("loc_peak_loc = %v, want %v", got, want)
	}
}

func TestExtractBadInput(t *testing.T) {
	img, mask := block([3]float64{1, 1, 1})
	def := DefaultSettings()
	oneVoxel := image.NewLabels(mask.Grid)
	oneVoxel.Data[mask.Index(1, 1, 1)] = 1
	small := image.NewLabels(image.NewGrid([3]int{4, 4, 3}, [3]float64{1, 1, 1}))
	nan := image.NewVolume(img.Grid)
	copy(nan.Data, img.Data)
	nan.Data[5] = math.NaN()
	flat := image.NewVolume(image.NewGrid([3]int{4, 4, 1}, [3]float64{1, 1, 1}))
	flatMask := image.NewLabels(flat.Grid)
	for i := range flatMask.Data {
		flatMask.Data[i] = 1
	}
	tests := []struct {
		name   string
		img    *image.Volume
		mask   *image.Labels
		label  int
		s      Settings
		target error
		want   string
	}{
		{"empty mask", img, mask, 2, def, ErrEmptyMask, "no voxel has label 2"},
		{"one voxel", img, oneVoxel, 1, def, ErrROITooSmall, "1 voxel(s)"},
		{"grid mismatch", img, small, 1, def, image.ErrGridMismatch, "size [4 4 3]"},
		{"NaN voxel", nan, mask, 1, def, ErrNaN, "voxel 5"},
		{"2D input", flat, flatMask, 1, def, Err2D, "force2D"},
		{"unknown feature", img, mask, 1, mustSettings(t, "featureClass: {firstorder: [Mean, Meen]}"), nil, `unknown feature "Meen"`},
		{"reseg removes all", img, mask, 1, mustSettings(t, "setting: {resegmentRange: [50, 60]}"), ErrEmptyMask, "resegmentation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Extract(tc.img, tc.mask, tc.label, tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.target != nil && !errors.Is(err, tc.target)) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.target, tc.want)
			}
		})
	}
}

// TestUndefinedValuesHaveReasons: a single grey level makes IBSI skewness undefined.
func TestUndefinedValuesHaveReasons(t *testing.T) {
	img, mask := block([3]float64{1, 1, 1})
	for i := range img.Data {
		img.Data[i] = 5
	}
	res, err := Extract(img, mask, 1, mustSettings(t, "setting: {ibsi: {}}\nfeatureClass: {stat: [stat_skew, stat_kurt], ivh: [ivh_v10]}"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Features {
		if !math.IsNaN(v.Value) || v.Reason == "" {
			t.Errorf("%s = %v (reason %q), want NaN with a reason", v.IBSI, v.Value, v.Reason)
		}
	}
}

func TestResegmentation(t *testing.T) {
	img, mask := block([3]float64{1, 1, 1})
	tests := []struct {
		yaml     string
		wantMean float64
	}{
		{"setting: {resegmentRange: [3, 6]}", 4.5},                        // absolute: 3…6
		{"setting: {resegmentRange: [0.5], resegmentMode: relative}", 6},  // ≥ 0.5 × max 8: 4…8
		{"setting: {resegmentRange: [-1, 1], resegmentMode: sigma}", 4.5}, // 4.5 ± 2.29: 3…6
	}
	for _, tc := range tests {
		res, err := Extract(img, mask, 1, mustSettings(t, tc.yaml+"\nfeatureClass: {firstorder: [Mean], shape: [VoxelVolume]}"))
		if err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, res, NamingPyRadiomics, "original_firstorder_Mean"); math.Abs(got-tc.wantMean) > 1e-9 {
			t.Errorf("%s: Mean = %v, want %v", tc.yaml, got, tc.wantMean)
		}
		// The morphological mask stays the ROI.
		if got := lookup(t, res, NamingPyRadiomics, "original_shape_VoxelVolume"); got != 8 {
			t.Errorf("%s: VoxelVolume = %v, want 8", tc.yaml, got)
		}
	}
}

// TestCorrectMask: a mask on a grid of half the spacing, shifted by half a voxel, is resampled
// onto the image grid (nearest neighbour in patient coordinates) when correctMask is set.
func TestCorrectMask(t *testing.T) {
	img, mask := block([3]float64{2, 2, 2})
	fine := image.NewLabels(image.Grid{Size: [3]int{8, 8, 8}, Spacing: [3]float64{1, 1, 1},
		Origin: [3]float64{-0.5, -0.5, -0.5}, Direction: mask.Direction})
	for k := 0; k < 8; k++ {
		for j := 0; j < 8; j++ {
			for i := 0; i < 8; i++ {
				// Coarse voxel c (centre 2c mm) maps to fine index 2c+1: the block 1…2 is fine 3…5.
				if i >= 2 && i <= 5 && j >= 2 && j <= 5 && k >= 2 && k <= 5 {
					fine.Data[fine.Index(i, j, k)] = 1
				}
			}
		}
	}
	if _, err := Extract(img, fine, 1, DefaultSettings()); !errors.Is(err, image.ErrGridMismatch) {
		t.Fatalf("without correctMask: err = %v, want a grid mismatch", err)
	}
	s := mustSettings(t, "setting: {correctMask: true}\nfeatureClass: {shape: [VoxelVolume], firstorder: [Mean]}")
	res, err := Extract(img, fine, 1, s)
	if err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, res, NamingPyRadiomics, "original_shape_VoxelVolume"); got != 64 {
		t.Errorf("VoxelVolume = %v, want 8 voxels × 8 mm³", got)
	}
	if got := lookup(t, res, NamingPyRadiomics, "original_firstorder_Mean"); got != 4.5 {
		t.Errorf("Mean = %v, want 4.5", got)
	}
}

// TestAutocorrelationFFTEqualsPairs: the FFT evaluation of Moran's I and Geary's C equals the
// direct sum over all voxel pairs.
func TestAutocorrelationFFTEqualsPairs(t *testing.T) {
	size := [3]int{14, 11, 6}
	n := size[0] * size[1] * size[2]
	s := shapeInput{size: size, spacing: [3]float64{0.8, 1.1, 3}, morph: make([]bool, n), inten: make([]bool, n), img: make([]float64, n)}
	for i := range s.img {
		s.img[i] = math.Sin(float64(i)*0.7) * float64(i%7)
		s.inten[i] = (i*7919)%10 < 7
		s.morph[i] = s.inten[i]
	}
	m1, g1 := autocorrelationPairs(context.Background(), s)
	m2, g2 := autocorrelationFFT(context.Background(), s)
	if math.Abs(m1-m2) > 1e-9*math.Abs(m1) || math.Abs(g1-g2) > 1e-9*math.Abs(g1) {
		t.Errorf("pairs: I=%v C=%v; FFT: I=%v C=%v", m1, g1, m2, g2)
	}
}

// TestShape2DByHand: a 3×2 pixel rectangle in one slice (1 mm pixels) with force2D. The contour
// through the pixel-edge midpoints is the box [0.5, 3.5] × [0.5, 2.5] (area 6) without four corner
// triangles of legs ½: 5.5; its perimeter is 2·(2 + 1) plus four diagonals of √½; the farthest
// vertices are (0.5, 1) and (3.5, 2): √10. The pixel centres have variances 2/3 and 1/4.
func TestShape2DByHand(t *testing.T) {
	g := image.NewGrid([3]int{5, 4, 3}, [3]float64{1, 1, 1})
	v := image.NewVolume(g)
	m := image.NewLabels(g)
	for j := 1; j <= 2; j++ {
		for i := 1; i <= 3; i++ {
			m.Data[g.Index(i, j, 1)] = 1
			v.Set(i, j, 1, float64(i))
		}
	}
	res, err := Extract(v, m, 1, mustSettings(t, "setting: {force2D: true}\nfeatureClass: {shape2D: [MeshSurface, PixelSurface, Perimeter, MajorAxisLength, MinorAxisLength, MaxDiameter]}"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"MeshSurface": 5.5, "PixelSurface": 6, "Perimeter": 6 + 4*math.Sqrt(0.5),
		"MajorAxisLength": 4 * math.Sqrt(2.0/3), "MinorAxisLength": 4 * math.Sqrt(0.25),
		"MaxDiameter": math.Sqrt(10),
	}
	for name, w := range want {
		if got := lookup(t, res, NamingPyRadiomics, "original_shape2D_"+name); math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
}

// TestExtractResampledAndNormalised: resampling to the image's own spacing leaves the ROI
// unchanged (B-spline interpolation passes through the samples), and normalize maps the ROI mean
// to (mean − image mean)/image standard deviation (sample) × normalizeScale.
func TestExtractResampledAndNormalised(t *testing.T) {
	img, mask := block([3]float64{2, 2, 2})
	res, err := Extract(img, mask, 1, mustSettings(t, "setting: {resampledPixelSpacing: [2, 2, 2]}\nfeatureClass: {shape: [VoxelVolume], firstorder: [Mean, Variance]}"))
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range map[string]float64{"shape_VoxelVolume": 64, "firstorder_Mean": 4.5, "firstorder_Variance": 5.25} {
		if got := lookup(t, res, NamingPyRadiomics, "original_"+name); math.Abs(got-w) > 1e-9 {
			t.Errorf("resampled %s = %v, want %v", name, got, w)
		}
	}
	var mean, ss float64
	for _, x := range img.Data {
		mean += x
	}
	mean /= float64(len(img.Data))
	for _, x := range img.Data {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / float64(len(img.Data)-1))
	res, err = Extract(img, mask, 1, mustSettings(t, "setting: {normalize: true, normalizeScale: 100}\nfeatureClass: {firstorder: [Mean]}"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lookup(t, res, NamingPyRadiomics, "original_firstorder_Mean"), (4.5-mean)/sd*100; math.Abs(got-want) > 1e-9 {
		t.Errorf("normalised Mean = %v, want %v", got, want)
	}
}

func FuzzParseSettings(f *testing.F) {
	for _, p := range []string{"params/ibsi-phantom.yaml", "params/pyradiomics-default.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("setting: {binWidth: 5, resegmentRange: [1, 2]}\nimageType: {LoG: {sigma: [1, 2.5]}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSettings(b)
		if err == nil && len(s.ImageTypes) == 0 {
			t.Fatal("parsed settings without an image type")
		}
	})
}

func TestExtractCancelled(t *testing.T) {
	img, mask := block([3]float64{1, 1, 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ExtractContext(ctx, img, mask, 1, DefaultSettings()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
