package radiomics

import (
	"context"
	"fmt"
	"math"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// The Laplacian of Gaussian as PyRadiomics computes it: SimpleITK's
// LaplacianRecursiveGaussianImageFilter with NormalizeAcrossScale on and sigma in mm. That filter
// is ITK's fourth-order recursive (Deriche) approximation of the Gaussian and its second derivative
// (RecursiveGaussianImageFilter, coefficients of Farnebäck & Westin), with the first and last
// sample of every line extended to infinity at the borders, summed over the axes as
// Σ_a σ² ∂²/∂x_a² (second derivative along a, smoothing along the other axes). This port uses the
// same coefficients, boundary terms and recursion in float64; ITK keeps its intermediate images in
// float32, so values agree to about 1e-6 relative, not bit for bit. The separable passes commute,
// so they are ordered to share work (7 passes instead of 9).

// recursiveGaussian holds the coefficients of one axis (ITK's SetUp).
type recursiveGaussian struct {
	n, d, m, bn, bm [4]float64
}

func newRecursiveGaussian(sigma, spacing float64, order int, normalize bool) recursiveGaussian {
	a1 := [3]float64{1.3530, -0.6724, -1.3563}
	b1 := [3]float64{1.8151, -3.4327, 5.2318}
	a2 := [3]float64{-0.3531, 0.6724, 0.3446}
	b2 := [3]float64{0.0902, 0.6100, -2.2355}
	const w1, l1, w2, l2 = 0.6681, -1.3932, 2.0787, -1.3732
	sd := sigma / spacing
	cos1, cos2 := math.Cos(w1/sd), math.Cos(w2/sd)
	sin1, sin2 := math.Sin(w1/sd), math.Sin(w2/sd)
	exp1, exp2 := math.Exp(l1/sd), math.Exp(l2/sd)
	var r recursiveGaussian
	r.d[3] = exp1 * exp1 * exp2 * exp2
	r.d[2] = -2*cos1*exp1*exp2*exp2 - 2*cos2*exp2*exp1*exp1
	r.d[1] = 4*cos2*cos1*exp1*exp2 + exp1*exp1 + exp2*exp2
	r.d[0] = -2 * (exp2*cos2 + exp1*cos1)
	sD := 1 + r.d[0] + r.d[1] + r.d[2] + r.d[3]
	dD := r.d[0] + 2*r.d[1] + 3*r.d[2] + 4*r.d[3]
	eD := r.d[0] + 4*r.d[1] + 9*r.d[2] + 16*r.d[3]
	ncoef := func(k int) (n [4]float64, sn, dn, en float64) {
		A1, B1, A2, B2 := a1[k], b1[k], a2[k], b2[k]
		n[0] = A1 + A2
		n[1] = exp2*(B2*sin2-(A2+2*A1)*cos2) + exp1*(B1*sin1-(A1+2*A2)*cos1)
		n[2] = ((A1+A2)*cos2*cos1-B1*cos2*sin1-B2*cos1*sin2)*2*exp1*exp2 + A2*exp1*exp1 + A1*exp2*exp2
		n[3] = exp2*exp1*exp1*(B2*sin2-A2*cos2) + exp1*exp2*exp2*(B1*sin1-A1*cos1)
		sn = n[0] + n[1] + n[2] + n[3]
		dn = n[1] + 2*n[2] + 3*n[3]
		en = n[1] + 4*n[2] + 9*n[3]
		return
	}
	symmetric := true
	switch order {
	case 0:
		n, sn, _, _ := ncoef(0)
		alpha0 := 2*sn/sD - n[0]
		for i := range n {
			r.n[i] = n[i] / alpha0
		}
	case 1:
		scale := 1.0
		if normalize {
			scale = sigma
		}
		n, sn, dn, _ := ncoef(1)
		alpha1 := 2 * (sn*dD - dn*sD) / (sD * sD)
		for i := range n {
			r.n[i] = n[i] * scale / alpha1
		}
		symmetric = false
	default:
		scale := 1.0
		if normalize {
			scale = sigma * sigma
		}
		n0, sn0, dn0, en0 := ncoef(0)
		n2, sn2, dn2, en2 := ncoef(2)
		beta := -(2*sn2 - sD*n2[0]) / (2*sn0 - sD*n0[0])
		var n [4]float64
		for i := range n {
			n[i] = n2[i] + beta*n0[i]
		}
		sn, dn, en := sn2+beta*sn0, dn2+beta*dn0, en2+beta*en0
		alpha2 := (en*sD*sD - eD*sn*sD - 2*dn*dD*sD + 2*dD*dD*sn) / (sD * sD * sD)
		for i := range n {
			r.n[i] = n[i] * scale / alpha2
		}
	}
	sign := 1.0
	if !symmetric {
		sign = -1
	}
	r.m[0] = sign * (r.n[1] - r.d[0]*r.n[0])
	r.m[1] = sign * (r.n[2] - r.d[1]*r.n[0])
	r.m[2] = sign * (r.n[3] - r.d[2]*r.n[0])
	r.m[3] = -sign * r.d[3] * r.n[0]
	sN := r.n[0] + r.n[1] + r.n[2] + r.n[3]
	sM := r.m[0] + r.m[1] + r.m[2] + r.m[3]
	for i := 0; i < 4; i++ {
		r.bn[i] = r.d[i] * sN / sD
		r.bm[i] = r.d[i] * sM / sD
	}
	return r
}

// filter is ITK's RecursiveSeparableImageFilter::FilterDataArray over lanes [l0, l1); n ≥ 4.
func (r *recursiveGaussian) filter(in, out, tmp []float64, n, stride, l0, l1 int) {
	N, D, M, BN, BM := r.n, r.d, r.m, r.bn, r.bm
	at := func(i, l int) int { return i*stride + l }
	for l := l0; l < l1; l++ {
		v1 := in[at(0, l)]
		x1, x2, x3 := in[at(1, l)], in[at(2, l)], in[at(3, l)]
		s0 := v1*N[0] + v1*N[1] + v1*N[2] + v1*N[3]
		s1 := x1*N[0] + v1*N[1] + v1*N[2] + v1*N[3]
		s2 := x2*N[0] + x1*N[1] + v1*N[2] + v1*N[3]
		s3 := x3*N[0] + x2*N[1] + x1*N[2] + v1*N[3]
		s0 -= v1*BN[0] + v1*BN[1] + v1*BN[2] + v1*BN[3]
		s1 -= s0*D[0] + v1*BN[1] + v1*BN[2] + v1*BN[3]
		s2 -= s1*D[0] + s0*D[1] + v1*BN[2] + v1*BN[3]
		s3 -= s2*D[0] + s1*D[1] + s0*D[2] + v1*BN[3]
		out[at(0, l)], out[at(1, l)], out[at(2, l)], out[at(3, l)] = s0, s1, s2, s3

		v2 := in[at(n-1, l)]
		y1, y2, y3 := in[at(n-1, l)], in[at(n-2, l)], in[at(n-3, l)]
		t1 := v2*M[0] + v2*M[1] + v2*M[2] + v2*M[3]
		t2 := y1*M[0] + v2*M[1] + v2*M[2] + v2*M[3]
		t3 := y2*M[0] + y1*M[1] + v2*M[2] + v2*M[3]
		t4 := y3*M[0] + y2*M[1] + y1*M[2] + v2*M[3]
		t1 -= v2*BM[0] + v2*BM[1] + v2*BM[2] + v2*BM[3]
		t2 -= t1*D[0] + v2*BM[1] + v2*BM[2] + v2*BM[3]
		t3 -= t2*D[0] + t1*D[1] + v2*BM[2] + v2*BM[3]
		t4 -= t3*D[0] + t2*D[1] + t1*D[2] + v2*BM[3]
		tmp[at(n-1, l)], tmp[at(n-2, l)], tmp[at(n-3, l)], tmp[at(n-4, l)] = t1, t2, t3, t4
	}
	row := func(s []float64, i int) []float64 { return s[i*stride+l0 : i*stride+l1] }
	for i := 4; i < n; i++ {
		o := row(out, i)
		x0, x1, x2, x3 := row(in, i)[:len(o)], row(in, i-1)[:len(o)], row(in, i-2)[:len(o)], row(in, i-3)[:len(o)]
		y1, y2, y3, y4 := row(out, i-1)[:len(o)], row(out, i-2)[:len(o)], row(out, i-3)[:len(o)], row(out, i-4)[:len(o)]
		for l := range o {
			s := x0[l]*N[0] + x1[l]*N[1] + x2[l]*N[2] + x3[l]*N[3]
			s -= y1[l]*D[0] + y2[l]*D[1] + y3[l]*D[2] + y4[l]*D[3]
			o[l] = s
		}
	}
	for i := n - 4; i > 0; i-- {
		o := row(tmp, i-1)
		x0, x1, x2, x3 := row(in, i)[:len(o)], row(in, i+1)[:len(o)], row(in, i+2)[:len(o)], row(in, i+3)[:len(o)]
		y1, y2, y3, y4 := row(tmp, i)[:len(o)], row(tmp, i+1)[:len(o)], row(tmp, i+2)[:len(o)], row(tmp, i+3)[:len(o)]
		for l := range o {
			s := x0[l]*M[0] + x1[l]*M[1] + x2[l]*M[2] + x3[l]*M[3]
			s -= y1[l]*D[0] + y2[l]*D[1] + y3[l]*D[2] + y4[l]*D[3]
			o[l] = s
		}
	}
	for i := 0; i < n; i++ {
		o := row(out, i)
		t := row(tmp, i)[:len(o)]
		for l := range o {
			o[l] += t[l]
		}
	}
}

// LoGImageName is PyRadiomics' image type name for a LoG sigma: "log-sigma-<str(sigma) with '.'
// replaced by '-'>-mm-3D". Python prints a float sigma as "3.0" and an integer one (a YAML `3`)
// as "3"; integer selects the latter.
func LoGImageName(sigma float64, integer bool) string {
	s := pythonFloat(sigma)
	if integer && sigma == math.Trunc(sigma) {
		s = fmt.Sprintf("%d", int64(sigma))
	}
	return "log-sigma-" + replaceDot(s) + "-mm-3D"
}

func replaceDot(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '.' {
			b[i] = '-'
		}
	}
	return string(b)
}

// LoG returns the Laplacian of Gaussian of v for every sigma (mm), normalised across scale
// (σ²∇²G), named as PyRadiomics names them (float sigmas: "log-sigma-3-0-mm-3D"). Like PyRadiomics
// it needs at least 4 voxels along every axis and size ≥ ⌈σ/spacing⌉ + 1 along every axis.
func LoG(ctx context.Context, v *image.Volume, sigmas []float64) ([]FilteredImage, error) {
	if err := checkVolume(v, "LoG"); err != nil {
		return nil, err
	}
	if min(v.Size[0], v.Size[1], v.Size[2]) < 4 {
		return nil, fmt.Errorf("radiomics: LoG: image size %v: need at least 4 voxels along every axis", v.Size)
	}
	var out []FilteredImage
	for _, s := range sigmas {
		if !(s > 0) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("radiomics: LoG: sigma %v: must be positive", s)
		}
		for a := 0; a < 3; a++ {
			if float64(v.Size[a]) < math.Ceil(s/v.Spacing[a])+1 {
				return nil, fmt.Errorf("radiomics: LoG: sigma %g mm: image size %v too small for spacing %v", s, v.Size, v.Spacing)
			}
		}
		img, err := laplacianRecursiveGaussian(ctx, v, s)
		if err != nil {
			return nil, err
		}
		out = append(out, FilteredImage{Name: LoGImageName(s, false), Image: img})
	}
	return out, nil
}

// laplacianRecursiveGaussian computes Σ_a σ²∂²/∂x_a² (G_σ * v):
// G_k(G_j D2_i v / s_i² + D2_j G_i v / s_j²) + D2_k G_j G_i v / s_k².
func laplacianRecursiveGaussian(ctx context.Context, v *image.Volume, sigma float64) (*image.Volume, error) {
	var g, d2 [3]recursiveGaussian
	for a := 0; a < 3; a++ {
		g[a] = newRecursiveGaussian(sigma, v.Spacing[a], 0, true)
		d2[a] = newRecursiveGaussian(sigma, v.Spacing[a], 2, true)
	}
	n := len(v.Data)
	gi := make([]float64, n)
	gji := make([]float64, n)
	t := make([]float64, n)
	scratch := make([]float64, n)
	out := newLike(v)
	pass := func(in, dst []float64, axis int, r *recursiveGaussian) error {
		return applyAxis(ctx, in, dst, scratch, v.Size, axis, r.filter)
	}
	if err := pass(v.Data, gi, 0, &g[0]); err != nil { // G_i v
		return nil, err
	}
	if err := pass(gi, gji, 1, &g[1]); err != nil { // G_j G_i v
		return nil, err
	}
	if err := pass(gji, out.Data, 2, &d2[2]); err != nil { // D2_k G_j G_i v
		return nil, err
	}
	if err := pass(gi, gji, 1, &d2[1]); err != nil { // D2_j G_i v (reuses gji)
		return nil, err
	}
	if err := pass(v.Data, gi, 0, &d2[0]); err != nil { // D2_i v (reuses gi)
		return nil, err
	}
	if err := pass(gi, t, 1, &g[1]); err != nil { // G_j D2_i v
		return nil, err
	}
	si, sj, sk := 1/(v.Spacing[0]*v.Spacing[0]), 1/(v.Spacing[1]*v.Spacing[1]), 1/(v.Spacing[2]*v.Spacing[2])
	for i := range t {
		t[i] = t[i]*si + gji[i]*sj
	}
	if err := pass(t, gi, 2, &g[2]); err != nil { // G_k(...)
		return nil, err
	}
	for i := range out.Data {
		out.Data[i] = out.Data[i]*sk + gi[i]
	}
	return out, nil
}
