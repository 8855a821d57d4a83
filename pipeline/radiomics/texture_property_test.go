package radiomics

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomROI is a random 3D region (a blob with holes) with a smooth texture quantised to ng levels.
func randomROI(seed uint64, size [3]int, ng int) *Discretised {
	r := rand.New(rand.NewPCG(seed, 99))
	n := size[0] * size[1] * size[2]
	d := &Discretised{Size: size, Spacing: [3]float64{1, 1, 2}, NG: ng, Level: make([]int32, n), Morph: make([]bool, n)}
	f := [3]float64{r.Float64() + 0.3, r.Float64() + 0.3, r.Float64() + 0.3}
	for k := 0; k < size[2]; k++ {
		for j := 0; j < size[1]; j++ {
			for i := 0; i < size[0]; i++ {
				idx := i + size[0]*(j+size[1]*k)
				x, y, z := float64(i)/float64(size[0])-0.5, float64(j)/float64(size[1])-0.5, float64(k)/float64(size[2])-0.5
				if x*x+y*y+z*z > 0.2 || r.Float64() < 0.1 {
					continue
				}
				d.Morph[idx] = true
				v := 0.5 + 0.25*math.Sin(f[0]*float64(i))*math.Cos(f[1]*float64(j)) + 0.2*math.Sin(f[2]*float64(k)) + 0.1*r.Float64()
				d.Level[idx] = int32(min(ng, max(1, int(v*float64(ng))+1)))
			}
		}
	}
	return d
}

// transposeIJ swaps the i and j axes of a region.
func transposeIJ(d *Discretised) *Discretised {
	s := d.Size
	t := &Discretised{Size: [3]int{s[1], s[0], s[2]}, Spacing: [3]float64{d.Spacing[1], d.Spacing[0], d.Spacing[2]}, NG: d.NG,
		Level: make([]int32, len(d.Level)), Morph: make([]bool, len(d.Morph))}
	for k := 0; k < s[2]; k++ {
		for j := 0; j < s[1]; j++ {
			for i := 0; i < s[0]; i++ {
				src := i + s[0]*(j+s[1]*k)
				dst := j + s[1]*(i+s[0]*k)
				t.Level[dst], t.Morph[dst] = d.Level[src], d.Morph[src]
			}
		}
	}
	return t
}

// Identities that hold for every region, and invariance of every IBSI feature under a swap of the
// i and j axes (the direction sets map onto themselves).
func TestTextureProperties(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 4; seed++ {
		d := randomROI(seed, [3]int{14, 11, 6}, 8)
		fs, err := TextureFeatures(ctx, d, ibsiOptions())
		if err != nil {
			t.Fatal(err)
		}
		m := byName(fs)
		for _, f := range fs {
			if math.IsInf(f.Value, 0) || math.IsNaN(f.Value) != (f.Reason != "") {
				t.Errorf("seed %d %s: value %g reason %q", seed, f.IBSI, f.Value, f.Reason)
			}
		}
		same := func(a, b string, scale float64) {
			t.Helper()
			va, vb := m[a].Value, m[b].Value*scale
			if math.Abs(va-vb) > 1e-9*max(1, math.Abs(va)) {
				t.Errorf("seed %d: %s = %.12g, %s×%g = %.12g", seed, a, va, b, scale, vb)
			}
		}
		for _, agg := range directionalAggs {
			same("cm_sum_var_"+agg, "cm_clust_tend_"+agg, 1)
			same("cm_dissimilarity_"+agg, "cm_diff_avg_"+agg, 1)
			same("cm_sum_avg_"+agg, "cm_joint_avg_"+agg, 2)
		}
		for _, agg := range zoneAggs {
			for _, f := range []string{"glnu", "glnu_norm", "z_perc", "gl_var", "lgze", "hgze"} {
				same("szm_"+f+"_"+agg, "dzm_"+f+"_"+agg, 1)
			}
			if v := m["ngl_dc_perc_"+agg].Value; v != 1 {
				t.Errorf("seed %d: ngl_dc_perc_%s = %g, want 1", seed, agg, v)
			}
		}
		tr, err := TextureFeatures(ctx, transposeIJ(d), ibsiOptions())
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range tr {
			g := fs[i]
			if f.IBSI != g.IBSI {
				t.Fatalf("feature order differs: %s vs %s", f.IBSI, g.IBSI)
			}
			if math.Abs(f.Value-g.Value) > 1e-9*max(1, math.Abs(g.Value)) && !(math.IsNaN(f.Value) && math.IsNaN(g.Value)) {
				t.Errorf("seed %d %s: %g, transposed %g", seed, g.IBSI, g.Value, f.Value)
			}
		}
		// PyRadiomics mode: every feature defined, and the IBSI-tagged ones equal the IBSI 3D
		// values (the region spans more than one voxel along every axis, so PyRadiomics keeps all
		// 13 angles).
		py, err := TextureFeatures(ctx, d, pyOptions())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range py {
			if math.IsNaN(f.Value) {
				t.Errorf("seed %d %s_%s undefined: %s", seed, f.Class, f.PyRadiomics, f.Reason)
			}
			if f.IBSI == "" || strings.HasPrefix(f.IBSI, "ngt_") || strings.HasPrefix(f.IBSI, "cm_inv_diff") {
				continue // NGTDM counts isolated voxels; Idn/Idmn normalise by the highest level present
			}
			if w := m[f.IBSI].Value; math.Abs(f.Value-w) > 1e-9*max(1, math.Abs(w)) {
				t.Errorf("seed %d %s_%s = %.12g, IBSI %s = %.12g", seed, f.Class, f.PyRadiomics, f.Value, f.IBSI, w)
			}
		}
	}
}

// transposeIK swaps the i and k axes of a region.
func transposeIK(d *Discretised) *Discretised {
	s := d.Size
	t := &Discretised{Size: [3]int{s[2], s[1], s[0]}, Spacing: [3]float64{d.Spacing[2], d.Spacing[1], d.Spacing[0]}, NG: d.NG,
		Level: make([]int32, len(d.Level)), Morph: make([]bool, len(d.Morph))}
	for k := 0; k < s[2]; k++ {
		for j := 0; j < s[1]; j++ {
			for i := 0; i < s[0]; i++ {
				src := i + s[0]*(j+s[1]*k)
				dst := k + s[2]*(j+s[1]*i)
				t.Level[dst], t.Morph[dst] = d.Level[src], d.Morph[src]
			}
		}
	}
	return t
}

// force2Ddimension 2 (slices across i) on a region with i and k swapped equals the default
// dimension 0 (slices across k) on the original, in both modes (3D features are invariant under
// the swap anyway).
func TestForce2DDimension(t *testing.T) {
	ctx := context.Background()
	d := randomROI(7, [3]int{12, 10, 7}, 6)
	for _, ibsi := range []bool{false, true} {
		opt := pyOptions()
		opt.IBSI, opt.Force2D = ibsi, true
		want, err := TextureFeatures(ctx, d, opt)
		if err != nil {
			t.Fatal(err)
		}
		opt.Force2DDimension = 2
		got, err := TextureFeatures(ctx, transposeIK(d), opt)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			g := got[i]
			if math.Abs(g.Value-w.Value) > 1e-9*max(1, math.Abs(w.Value)) && !(math.IsNaN(g.Value) && math.IsNaN(w.Value)) {
				t.Errorf("ibsi=%v %s%s: %g with force2Ddimension 2 on the swapped region, %g with 0", ibsi, w.IBSI, w.PyRadiomics, g.Value, w.Value)
			}
		}
	}
}

// FuzzTexture feeds arbitrary small regions and options to every family in both modes: no panic,
// no ±Inf, and an undefined value always carries a reason.
func FuzzTexture(f *testing.F) {
	f.Add([]byte{3, 2, 2, 4, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 4, 1}, uint8(0))
	f.Add([]byte{1, 1, 1, 1, 1}, uint8(3))
	f.Add([]byte{5, 1, 1, 2, 1, 0, 2, 0, 1}, uint8(6))
	f.Fuzz(func(t *testing.T, b []byte, flags uint8) {
		if len(b) < 4 {
			return
		}
		size := [3]int{int(b[0])%6 + 1, int(b[1])%6 + 1, int(b[2])%4 + 1}
		ng := int(b[3])%8 + 1
		n := size[0] * size[1] * size[2]
		d := &Discretised{Size: size, Spacing: [3]float64{1, 0.5, 2}, NG: ng, Level: make([]int32, n)}
		for i := 0; i < n && 4+i < len(b); i++ {
			d.Level[i] = int32(int(b[4+i]) % (ng + 1))
		}
		opt := DefaultTextureOptions()
		opt.IBSI = flags&1 != 0
		opt.Force2D = flags&2 != 0
		opt.Symmetrical = flags&4 == 0
		opt.Alpha = int(flags>>3) % 3
		opt.WeightingNorm = []string{"", "", "manhattan", "no_weighting"}[int(flags>>5)%4]
		fs, err := TextureFeatures(context.Background(), d, opt)
		if err != nil {
			return // empty region
		}
		for _, x := range fs {
			if math.IsInf(x.Value, 0) || math.IsNaN(x.Value) != (x.Reason != "") {
				t.Fatalf("%s%s: value %g reason %q", x.IBSI, x.PyRadiomics, x.Value, x.Reason)
			}
		}
	})
}
