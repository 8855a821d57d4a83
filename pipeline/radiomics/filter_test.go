package radiomics

import (
	"context"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

func volumeOf(size [3]int, spacing [3]float64, f func(i, j, k int) float64) *image.Volume {
	v := image.NewVolume(image.NewGrid(size, spacing))
	for k := 0; k < size[2]; k++ {
		for j := 0; j < size[1]; j++ {
			for i := 0; i < size[0]; i++ {
				v.Set(i, j, k, f(i, j, k))
			}
		}
	}
	return v
}

func randomVolume(size [3]int, seed uint64) *image.Volume {
	r := rand.New(rand.NewPCG(seed, 7))
	return volumeOf(size, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return r.NormFloat64()*50 + 100 })
}

// A Gaussian blob exp(−r²/2s²) convolved with G_σ is (s/S)³·exp(−r²/2S²), S² = s² + σ²; its
// scale-normalised Laplacian at the centre is σ²·(−3/S²)·(s/S)³. ITK's recursive (Deriche)
// Gaussian overshoots the true one by about 0.3 % per axis at the centre (its impulse response
// peaks 0.3 % high; its second derivative of x² is exact), so the response lies about 1 % above
// the analytic value; the tolerance is 1.5 %.
func TestLoGGaussianBlob(t *testing.T) {
	cases := []struct {
		name    string
		spacing [3]float64
		size    [3]int
		s, sig  float64
	}{
		{"isotropic", [3]float64{1, 1, 1}, [3]int{41, 41, 41}, 3, 2},
		{"anisotropic", [3]float64{0.8, 1, 2}, [3]int{61, 51, 31}, 3, 2.5},
		{"wide", [3]float64{1, 1, 1}, [3]int{61, 61, 61}, 4, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := [3]int{tc.size[0] / 2, tc.size[1] / 2, tc.size[2] / 2}
			v := volumeOf(tc.size, tc.spacing, func(i, j, k int) float64 {
				x := float64(i-c[0]) * tc.spacing[0]
				y := float64(j-c[1]) * tc.spacing[1]
				z := float64(k-c[2]) * tc.spacing[2]
				return math.Exp(-(x*x + y*y + z*z) / (2 * tc.s * tc.s))
			})
			out, err := LoG(context.Background(), v, []float64{tc.sig})
			if err != nil {
				t.Fatal(err)
			}
			S2 := tc.s*tc.s + tc.sig*tc.sig
			want := tc.sig * tc.sig * (-3 / S2) * math.Pow(tc.s*tc.s/S2, 1.5)
			got := out[0].Image.At(c[0], c[1], c[2])
			t.Logf("LoG at centre %.6f, analytic %.6f", got, want)
			if math.Abs(got-want) > 0.015*math.Abs(want) {
				t.Errorf("LoG at centre = %.6f, want %.6f (analytic)", got, want)
			}
			// Rotational symmetry: equal physical distance along i and j gives equal response.
			if tc.spacing[0] == tc.spacing[1] {
				a, b := out[0].Image.At(c[0]+3, c[1], c[2]), out[0].Image.At(c[0], c[1]+3, c[2])
				if math.Abs(a-b) > 1e-9 {
					t.Errorf("LoG not symmetric: %g vs %g", a, b)
				}
			}
		})
	}
}

func TestLoGConstantAndNames(t *testing.T) {
	v := volumeOf([3]int{12, 10, 8}, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return 42 })
	out, err := LoG(context.Background(), v, []float64{1, 2.5})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"log-sigma-1-0-mm-3D", "log-sigma-2-5-mm-3D"}
	for n, fi := range out {
		if fi.Name != names[n] {
			t.Errorf("name %q, want %q", fi.Name, names[n])
		}
		for _, x := range fi.Image.Data {
			if math.Abs(x) > 1e-9 {
				t.Fatalf("%s of a constant image = %g, want 0", fi.Name, x)
			}
		}
	}
	if got := LoGImageName(3, true); got != "log-sigma-3-mm-3D" {
		t.Errorf("integer sigma name %q", got)
	}
	if _, err := LoG(context.Background(), volumeOf([3]int{3, 10, 10}, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return 1 }), []float64{1}); err == nil {
		t.Error("LoG of a 3-voxel-thick image: no error")
	}
	if _, err := LoG(context.Background(), v, []float64{0}); err == nil {
		t.Error("LoG with sigma 0: no error")
	}
}

func energy(x []float64) float64 {
	e := 0.0
	for _, v := range x {
		e += v * v
	}
	return e
}

// For an orthogonal wavelet |H|² + |G|² = 2 along every axis, so the 8 undecimated sub-bands of an
// even-sized image hold 2³ times its energy.
func TestWaveletEnergyAndNames(t *testing.T) {
	for _, w := range []string{"coif1", "haar", "db2"} {
		v := randomVolume([3]int{16, 12, 10}, 1)
		out, err := Wavelet(context.Background(), v, WaveletOptions{Wavelet: w})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"wavelet-LLH", "wavelet-LHL", "wavelet-LHH", "wavelet-HLL", "wavelet-HLH", "wavelet-HHL", "wavelet-HHH", "wavelet-LLL"}
		if len(out) != len(want) {
			t.Fatalf("%s: %d images, want 8", w, len(out))
		}
		total := 0.0
		for n, fi := range out {
			if fi.Name != want[n] {
				t.Errorf("%s: image %d named %q, want %q", w, n, fi.Name, want[n])
			}
			total += energy(fi.Image.Data)
		}
		if e := energy(v.Data); math.Abs(total-8*e) > 1e-9*e {
			t.Errorf("%s: Σ sub-band energy %g, want 8 × %g", w, total, e)
		}
	}
}

func TestWaveletFilters(t *testing.T) {
	lo, hi, err := waveletFilters("coif1")
	if err != nil {
		t.Fatal(err)
	}
	// The closed form of coif1, (1−√7, 5+√7, 14+2√7, 14−2√7, 1−√7, −3+√7)/(16√2), reversed for
	// dec_lo and alternated for dec_hi; PyWavelets tabulates it to about 1e-12.
	s7, d := math.Sqrt(7), 16*math.Sqrt2
	rec := []float64{(1 - s7) / d, (5 + s7) / d, (14 + 2*s7) / d, (14 - 2*s7) / d, (1 - s7) / d, (-3 + s7) / d}
	for k := range rec {
		wantLo, wantHi := rec[5-k], rec[k]
		if k%2 == 0 {
			wantHi = -rec[k]
		}
		if math.Abs(lo[k]-wantLo) > 1e-12 || math.Abs(hi[k]-wantHi) > 1e-12 {
			t.Errorf("coif1 tap %d: lo %g hi %g, want %g %g", k, lo[k], hi[k], wantLo, wantHi)
		}
	}
}

// A separable image f(i)g(j)h(k) has separable sub-bands: band XYZ = X(f)·Y(g)·Z(h).
func TestWaveletSeparable(t *testing.T) {
	size := [3]int{9, 8, 7} // odd sizes exercise PyRadiomics' wrap padding
	r := rand.New(rand.NewPCG(3, 4))
	var f [3][]float64
	for a := 0; a < 3; a++ {
		f[a] = make([]float64, size[a])
		for i := range f[a] {
			f[a][i] = r.Float64()
		}
	}
	v := volumeOf(size, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return f[0][i] * f[1][j] * f[2][k] })
	out, err := Wavelet(context.Background(), v, WaveletOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi, _ := waveletFilters("coif1")
	// 1D transform of each factor with the same padding and periodic convolution.
	oneD := func(x, h []float64) []float64 {
		n := len(x) + len(x)%2
		p := make([]float64, n)
		copy(p, x)
		if n > len(x) {
			p[len(x)] = x[0]
		}
		y := make([]float64, n)
		for i := 0; i < n; i++ {
			for j := range h {
				y[i] += h[j] * p[((i+len(h)/2-j)%n+n)%n]
			}
		}
		return y[:len(x)]
	}
	for _, fi := range out {
		bands := fi.Name[len("wavelet-"):]
		var g [3][]float64
		for a := 0; a < 3; a++ {
			h := lo
			if bands[a] == 'H' {
				h = hi
			}
			g[a] = oneD(f[a], h)
		}
		for k := 0; k < size[2]; k++ {
			for j := 0; j < size[1]; j++ {
				for i := 0; i < size[0]; i++ {
					want := g[0][i] * g[1][j] * g[2][k]
					if got := fi.Image.At(i, j, k); math.Abs(got-want) > 1e-12 {
						t.Fatalf("%s (%d,%d,%d) = %g, want %g", fi.Name, i, j, k, got, want)
					}
				}
			}
		}
	}
}

func TestWaveletForce2DAndLevels(t *testing.T) {
	v := randomVolume([3]int{8, 8, 4}, 2)
	out, err := Wavelet(context.Background(), v, WaveletOptions{Force2D: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"wavelet-LH", "wavelet-HL", "wavelet-HH", "wavelet-LL"}
	for n, fi := range out {
		if fi.Name != want[n] {
			t.Errorf("force2D image %d named %q, want %q", n, fi.Name, want[n])
		}
	}
	// In 2D the 4 sub-bands hold 2² times the energy, and no filtering happens along k.
	total := 0.0
	for _, fi := range out {
		total += energy(fi.Image.Data)
	}
	if e := energy(v.Data); math.Abs(total-4*e) > 1e-9*e {
		t.Errorf("force2D: Σ energy %g, want 4 × %g", total, e)
	}
	out, err = Wavelet(context.Background(), v, WaveletOptions{Level: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 15 || out[7].Name != "wavelet2-LLH" || out[14].Name != "wavelet2-LLL" {
		t.Errorf("level 2: %d images, [7] %q, [14] %q", len(out), out[7].Name, out[14].Name)
	}
	// Constant image: details vanish, the approximation is (√2)³ times the constant.
	c := volumeOf([3]int{6, 5, 4}, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return 3 })
	out, err = Wavelet(context.Background(), c, WaveletOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range out {
		want := 0.0
		if fi.Name == "wavelet-LLL" {
			want = 3 * 2 * math.Sqrt2
		}
		for _, x := range fi.Image.Data {
			if math.Abs(x-want) > 1e-12 {
				t.Fatalf("%s of a constant = %g, want %g", fi.Name, x, want)
			}
		}
	}
}

func TestPointFilters(t *testing.T) {
	v := volumeOf([3]int{3, 1, 1}, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return []float64{-4, 1, 16}[i] })
	cases := []struct {
		name string
		f    func(*image.Volume) (FilteredImage, error)
		want []float64
	}{
		// max|x| = 16.
		{"square", Square, []float64{1, 1.0 / 16, 16}},
		{"squareroot", SquareRoot, []float64{-8, 4, 16}},
		{"logarithm", Logarithm, []float64{-16 * math.Log(5) / math.Log(17), 16 * math.Log(2) / math.Log(17), 16}},
		{"exponential", Exponential, []float64{math.Pow(16, -0.25), math.Pow(16, 1.0/16), 16}},
	}
	for _, tc := range cases {
		fi, err := tc.f(v)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Name != tc.name {
			t.Errorf("name %q, want %q", fi.Name, tc.name)
		}
		for i, w := range tc.want {
			if math.Abs(fi.Image.Data[i]-w) > 1e-12 {
				t.Errorf("%s(%g) = %g, want %g", tc.name, v.Data[i], fi.Image.Data[i], w)
			}
		}
	}
	zero := volumeOf([3]int{2, 2, 2}, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return 0 })
	if _, err := Square(zero); err == nil {
		t.Error("square of a zero image: no error")
	}
}

func TestGradient(t *testing.T) {
	// f = 2x + 3y − z in mm with spacing (0.5, 1, 2): |∇f| = √14 inside, and at the borders one-sided
	// differences halve the component along that axis.
	sp := [3]float64{0.5, 1, 2}
	v := volumeOf([3]int{6, 5, 4}, sp, func(i, j, k int) float64 {
		return 2*float64(i)*sp[0] + 3*float64(j)*sp[1] - float64(k)*sp[2]
	})
	fi, err := Gradient(context.Background(), v, true)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Name != "gradient" {
		t.Errorf("name %q", fi.Name)
	}
	if got := fi.Image.At(2, 2, 2); math.Abs(got-math.Sqrt(14)) > 1e-12 {
		t.Errorf("gradient inside = %g, want √14", got)
	}
	if got := fi.Image.At(0, 2, 2); math.Abs(got-math.Sqrt(1+9+1)) > 1e-12 {
		t.Errorf("gradient at i=0 = %g, want √11", got)
	}
	fi, err = Gradient(context.Background(), v, false)
	if err != nil {
		t.Fatal(err)
	}
	// Per voxel: 2·0.5, 3·1, −1·2.
	if got := fi.Image.At(2, 2, 2); math.Abs(got-math.Sqrt(1+9+4)) > 1e-12 {
		t.Errorf("gradient without spacing = %g, want √14", got)
	}
}

// The recursive second derivative is exact on quadratics (ITK normalises it so), hence the
// scale-normalised Laplacian of r² = x² + y² + z² is 6σ² away from the borders.
func TestLoGQuadratic(t *testing.T) {
	sp := [3]float64{0.7, 1, 1.6}
	size := [3]int{61, 45, 31}
	c := [3]int{30, 22, 15}
	v := volumeOf(size, sp, func(i, j, k int) float64 {
		x, y, z := float64(i-c[0])*sp[0], float64(j-c[1])*sp[1], float64(k-c[2])*sp[2]
		return x*x + y*y + z*z
	})
	out, err := LoG(context.Background(), v, []float64{2})
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Image.At(c[0], c[1], c[2]); math.Abs(got-24) > 1e-3 { // the border extension leaks ~1e-4
		t.Errorf("LoG(r²) = %.9f, want 6σ² = 24", got)
	}
}

func TestIcosphereAndHarmonics(t *testing.T) {
	for _, c := range []struct{ sub, n int }{{0, 12}, {1, 42}, {2, 162}} {
		v := icosphere(c.sub, 2)
		if len(v) != c.n {
			t.Errorf("subdivision %d: %d vertices, want %d", c.sub, len(v), c.n)
		}
		for _, p := range v {
			if r := math.Sqrt(p[0]*p[0] + p[1]*p[1] + p[2]*p[2]); math.Abs(r-2) > 1e-12 {
				t.Fatalf("vertex %v at radius %g, want 2", p, r)
			}
		}
	}
	az, polar := 0.7, 1.1
	cases := []struct {
		m, n int
		want complex128
	}{
		{0, 0, complex(0.5/math.Sqrt(math.Pi), 0)},
		{0, 1, complex(math.Sqrt(3/(4*math.Pi))*math.Cos(polar), 0)},
		{1, 1, complex(-math.Sqrt(3/(8*math.Pi))*math.Sin(polar), 0) * complex(math.Cos(az), math.Sin(az))},
		{-1, 1, complex(math.Sqrt(3/(8*math.Pi))*math.Sin(polar), 0) * complex(math.Cos(az), -math.Sin(az))},
		{2, 3, complex(0.25*math.Sqrt(105/(2*math.Pi))*math.Sin(polar)*math.Sin(polar)*math.Cos(polar), 0) * complex(math.Cos(2*az), math.Sin(2*az))},
	}
	for _, c := range cases {
		if got := sphHarm(c.m, c.n, az, polar); math.Abs(real(got)-real(c.want)) > 1e-12 || math.Abs(imag(got)-imag(c.want)) > 1e-12 {
			t.Errorf("Y(%d,%d) = %v, want %v", c.m, c.n, got, c.want)
		}
	}
}

// The cubic B-spline interpolates: at grid points it returns the voxel values.
func TestSplineInterpolates(t *testing.T) {
	v := randomVolume([3]int{7, 6, 5}, 5)
	c, err := splineCoefficients(context.Background(), v.Data, v.Size)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 5; k++ {
		for j := 0; j < 6; j++ {
			for i := 0; i < 7; i++ {
				got := splineAt(c, v.Size, [3]float64{float64(i), float64(j), float64(k)})
				if math.Abs(got-v.At(i, j, k)) > 1e-9 {
					t.Fatalf("spline at (%d,%d,%d) = %g, want %g", i, j, k, got, v.At(i, j, k))
				}
			}
		}
	}
}

// On a constant image every sample equals the centre, so f = 1 on all 42 vertices: level 1 (n = 0)
// is √42 · 42/(4π); level 2 (n = 1) is Re √Σ_v (Σ_m c_m Y(m,1)(v))² with c_m = Σ_v Y(m,1)(v), not 0
// because PyRadiomics passes the polar angle as scipy's azimuth; the kurtosis of constant samples
// is 0.
func TestLBP3DConstant(t *testing.T) {
	v := volumeOf([3]int{7, 7, 7}, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return 5 })
	mask := make([]bool, len(v.Data))
	mask[v.Index(3, 3, 3)] = true
	mask[v.Index(2, 3, 4)] = true
	out, err := LBP3D(context.Background(), v, mask, DefaultLBP3DOptions())
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"lbp-3D-m1", "lbp-3D-m2", "lbp-3D-k"}
	verts := icosphere(1, 1)
	var cm [3]complex128
	for m := -1; m <= 1; m++ {
		for _, p := range verts {
			cm[m+1] += sphHarm(m, 1, math.Acos(p[2]), math.Atan2(p[1], p[0]))
		}
	}
	var total complex128
	for _, p := range verts {
		var f complex128
		for m := -1; m <= 1; m++ {
			f += cm[m+1] * sphHarm(m, 1, math.Acos(p[2]), math.Atan2(p[1], p[0]))
		}
		total += f * f
	}
	want := []float64{math.Pow(42, 1.5) / (4 * math.Pi), real(cmplx.Sqrt(total)), 0}
	for n, fi := range out {
		if fi.Name != names[n] {
			t.Errorf("image %d named %q, want %q", n, fi.Name, names[n])
		}
		for idx, in := range mask {
			w := 0.0
			if in {
				w = want[n]
			}
			if math.Abs(fi.Image.Data[idx]-w) > 1e-9 {
				t.Fatalf("%s voxel %d = %g, want %g", fi.Name, idx, fi.Image.Data[idx], w)
			}
		}
	}
	if _, err := LBP3D(context.Background(), v, mask[:3], LBP3DOptions{}); err == nil {
		t.Error("LBP3D with a short mask: no error")
	}
}

// A ramp along i: the samples above the centre are the vertices with c2 ≥ 0, and the kurtosis is
// that of the vertices' c2 coordinates (sampling a linear function is exact away from the border).
func TestLBP3DRamp(t *testing.T) {
	v := volumeOf([3]int{25, 9, 9}, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return float64(i) })
	mask := make([]bool, len(v.Data))
	mask[v.Index(12, 4, 4)] = true
	out, err := LBP3D(context.Background(), v, mask, DefaultLBP3DOptions())
	if err != nil {
		t.Fatal(err)
	}
	verts := icosphere(1, 1)
	var m1, m2, m4 float64
	for _, p := range verts {
		m1 += p[2]
	}
	m1 /= 42
	for _, p := range verts {
		d := p[2] - m1
		m2 += d * d / 42
		m4 += d * d * d * d / 42
	}
	if got, want := out[2].Image.At(12, 4, 4), m4/(m2*m2)-3; math.Abs(got-want) > 1e-6 {
		t.Errorf("kurtosis %g, want %g", got, want)
	}
	if out[1].Image.At(12, 4, 4) == 0 {
		t.Error("a ramp gives no first-degree response")
	}
}

// LBP2D on a ramp along i (the columns of slices across k): the 8 samples at radius 1 are ≥ the
// centre where cos(2πp/8) ≥ 0, p = 0, 1, 2, 6, 7: uniform code 5 (two changes), default
// 1+2+4+64+128 = 199, rotation-invariant 31; a constant image gives 8, 255, 255 inside.
func TestLBP2D(t *testing.T) {
	ramp := volumeOf([3]int{7, 6, 3}, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return 3 * float64(i) })
	flat := volumeOf([3]int{7, 6, 3}, [3]float64{1, 1, 1}, func(i, j, k int) float64 { return 4 })
	for _, c := range []struct {
		method     string
		ramp, flat float64
	}{{"uniform", 5, 8}, {"default", 199, 255}, {"ror", 31, 255}} {
		for _, in := range []struct {
			v    *image.Volume
			want float64
		}{{ramp, c.ramp}, {flat, c.flat}} {
			fi, err := LBP2D(context.Background(), in.v, LBP2DOptions{Method: c.method})
			if err != nil {
				t.Fatal(err)
			}
			if fi.Name != "lbp-2D" {
				t.Errorf("name %q", fi.Name)
			}
			if got := fi.Image.At(3, 2, 1); got != in.want {
				t.Errorf("%s: code %g, want %g", c.method, got, in.want)
			}
		}
	}
	if _, err := LBP2D(context.Background(), flat, LBP2DOptions{Method: "var"}); err == nil {
		t.Error("LBP2D method var: no error")
	}
}
