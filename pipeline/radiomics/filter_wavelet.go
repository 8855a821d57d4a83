package radiomics

import (
	"context"
	"fmt"
	"strings"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// The wavelet filter as PyRadiomics computes it (imageoperations._swt3): PyWavelets' stationary
// (undecimated) transform pywt.swtn(data, wavelet, level=1, start_level=0, axes) applied to the
// image padded by one voxel ('wrap') along every odd axis, cropped back afterwards. Each level
// re-applies the level-1 transform to the previous approximation (PyRadiomics never upsamples the
// filters). Along an axis the transform is PyWavelets' periodic convolution
// out[n] = Σ_j h[j]·x[(n + F/2 − j) mod N] with the decomposition filters (dec_lo, dec_hi), not
// normalised (pywt's default norm=False), so for orthogonal wavelets the 8 sub-bands of a 3D level
// hold 2³ times the energy of their input. Checked by hand against PyRadiomics' _swt3 with
// PyWavelets 1.1 (odd sizes, force2D, level 2): names, order and values agree within 1e-13.

// waveletFilters returns PyWavelets' decomposition filters (dec_lo, dec_hi) of a wavelet.
func waveletFilters(name string) (lo, hi []float64, err error) {
	var rec []float64 // the scaling filter: PyWavelets' rec_lo, as tabulated there
	switch name {
	case "haar", "db1":
		rec = []float64{0.7071067811865476, 0.7071067811865476}
	case "db2":
		rec = []float64{0.48296291314453416, 0.8365163037378079, 0.2241438680420134, -0.12940952255126037}
	case "coif1": // (1−√7, 5+√7, 14+2√7, 14−2√7, 1−√7, −3+√7)/(16√2), rounded as in PyWavelets
		rec = []float64{-0.07273261951252645, 0.3378976624574818, 0.8525720202116004, 0.3848648468648578, -0.07273261951252645, -0.015655728135791993}
	default:
		return nil, nil, fmt.Errorf("radiomics: wavelet %q: supported are haar, db1, db2, coif1", name)
	}
	f := len(rec)
	lo = make([]float64, f)
	hi = make([]float64, f)
	for k := 0; k < f; k++ {
		lo[k] = rec[f-1-k]
		if k%2 == 0 {
			hi[k] = -rec[k]
		} else {
			hi[k] = rec[k]
		}
	}
	return lo, hi, nil
}

// WaveletOptions are PyRadiomics' wavelet settings.
type WaveletOptions struct {
	Wavelet          string // `wavelet`, default "coif1"
	Level            int    // `level`, default 1
	StartLevel       int    // `start_level`, default 0
	Force2D          bool   // `force2D`: no decomposition along the slice axis
	Force2DDimension int    // `force2Ddimension`: 0 = k, 1 = j, 2 = i
}

// periodicConv returns the lineOp of PyWavelets' periodic SWT convolution with h.
func periodicConv(h []float64) lineOp {
	f := len(h)
	return func(in, out, _ []float64, n, stride, l0, l1 int) {
		for i := 0; i < n; i++ {
			o := out[i*stride+l0 : i*stride+l1]
			clear(o)
			for j := 0; j < f; j++ {
				src := ((i+f/2-j)%n + n) % n * stride
				x := in[src+l0 : src+l1][:len(o)]
				c := h[j]
				for l := range o {
					o[l] += c * x[l]
				}
			}
		}
	}
}

// Wavelet returns PyRadiomics' wavelet images: for every level the 7 (3D) or 3 (force2D) detail
// sub-bands, then the final approximation, named "wavelet-LLH" … "wavelet-HHH", "wavelet-LLL"
// (level > 1 adds its number: "wavelet2-LLH"). The letters follow the axes i, j, k (x, y, z): L is
// the low-pass (approximation) and H the high-pass (detail) filter along that axis.
func Wavelet(ctx context.Context, v *image.Volume, opt WaveletOptions) ([]FilteredImage, error) {
	if err := checkVolume(v, "wavelet"); err != nil {
		return nil, err
	}
	if opt.Wavelet == "" {
		opt.Wavelet = "coif1"
	}
	if opt.Level == 0 {
		opt.Level = 1
	}
	if opt.Level < 1 || opt.StartLevel < 0 || opt.Level+opt.StartLevel > 8 {
		return nil, fmt.Errorf("radiomics: wavelet: level %d, start_level %d: need level ≥ 1, start_level ≥ 0, level+start_level ≤ 8", opt.Level, opt.StartLevel)
	}
	lo, hi, err := waveletFilters(opt.Wavelet)
	if err != nil {
		return nil, err
	}
	axes := []int{0, 1, 2}
	if opt.Force2D {
		skip, err := sliceAxisOf(opt.Force2DDimension)
		if err != nil {
			return nil, err
		}
		axes = removeInt(axes, skip)
	}
	// Pad odd axes by one voxel, wrapping (numpy.pad mode 'wrap').
	var ps [3]int
	for a := 0; a < 3; a++ {
		ps[a] = v.Size[a] + v.Size[a]%2
	}
	data := make([]float64, ps[0]*ps[1]*ps[2])
	for k := 0; k < ps[2]; k++ {
		for j := 0; j < ps[1]; j++ {
			src := v.Index(0, j%v.Size[1], k%v.Size[2])
			dst := ps[0] * (j + ps[1]*k)
			copy(data[dst:dst+v.Size[0]], v.Data[src:src+v.Size[0]])
			if ps[0] > v.Size[0] {
				data[dst+v.Size[0]] = v.Data[src]
			}
		}
	}
	ops := [2]lineOp{periodicConv(lo), periodicConv(hi)}
	// decompose runs one level-1 swtn: the sub-bands in PyWavelets' order (aaa, aad, …, ddd).
	decompose := func(in []float64) ([][]float64, []string, error) {
		bands, names := [][]float64{in}, []string{""}
		for _, a := range axes {
			var nb [][]float64
			var nn []string
			for b, x := range bands {
				for f, letter := range []string{"L", "H"} {
					y := make([]float64, len(x))
					if err := applyAxis(ctx, x, y, nil, ps, a, ops[f]); err != nil {
						return nil, nil, err
					}
					nb = append(nb, y)
					nn = append(nn, names[b]+letter)
				}
			}
			bands, names = nb, nn
		}
		return bands, names, nil
	}
	crop := func(x []float64) *image.Volume {
		if ps == v.Size { // no padding: the band is the image
			return &image.Volume{Grid: v.Grid, Data: x}
		}
		out := newLike(v)
		for k := 0; k < v.Size[2]; k++ {
			for j := 0; j < v.Size[1]; j++ {
				src := ps[0] * (j + ps[1]*k)
				dst := v.Index(0, j, k)
				copy(out.Data[dst:dst+v.Size[0]], x[src:src+v.Size[0]])
			}
		}
		return out
	}
	for l := 0; l < opt.StartLevel; l++ {
		bands, _, err := decompose(data)
		if err != nil {
			return nil, err
		}
		data = bands[0]
	}
	var out []FilteredImage
	for l := 1; l <= opt.Level; l++ {
		bands, names, err := decompose(data)
		if err != nil {
			return nil, err
		}
		for b := 1; b < len(bands); b++ {
			out = append(out, FilteredImage{Name: waveletName(l, names[b]), Image: crop(bands[b])})
		}
		data = bands[0]
	}
	out = append(out, FilteredImage{Name: waveletName(opt.Level, strings.Repeat("L", len(axes))), Image: crop(data)})
	return out, nil
}

func waveletName(level int, bands string) string {
	if level == 1 {
		return "wavelet-" + bands
	}
	return fmt.Sprintf("wavelet%d-%s", level, bands)
}

func removeInt(s []int, x int) []int {
	var out []int
	for _, v := range s {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}
