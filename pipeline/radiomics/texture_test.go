package radiomics

import (
	"context"
	"math"
	"strings"
	"testing"
)

// roi2D builds a one-slice Discretised region from rows of grey levels (0 = outside).
func roi2D(ng int, rows [][]int32) *Discretised {
	ny, nx := len(rows), len(rows[0])
	d := &Discretised{Size: [3]int{nx, ny, 1}, Spacing: [3]float64{1, 1, 1}, NG: ng, Level: make([]int32, nx*ny)}
	for j, r := range rows {
		for i, l := range r {
			d.Level[i+nx*j] = l
		}
	}
	return d
}

func pyOptions() TextureOptions { return DefaultTextureOptions() }

func ibsiOptions() TextureOptions {
	o := DefaultTextureOptions()
	o.IBSI = true
	return o
}

// byName indexes features by IBSI tag and by PyRadiomics name.
func byName(fs []Feature) map[string]Feature {
	m := map[string]Feature{}
	for _, f := range fs {
		if f.IBSI != "" {
			m[f.IBSI] = f
		}
		if f.PyRadiomics != "" {
			m[f.PyRadiomics] = f
		}
	}
	return m
}

// mustOK returns a function that fails the test on an error.
func mustOK(t *testing.T) func([]Feature, error) []Feature {
	return func(fs []Feature, err error) []Feature {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
}

func checkValues(t *testing.T, got map[string]Feature, want map[string]float64) {
	t.Helper()
	for name, w := range want {
		f, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: missing", name)
		case math.IsNaN(w) && !math.IsNaN(f.Value):
			t.Errorf("%s = %g, want undefined", name, f.Value)
		case math.IsNaN(w) && f.Reason == "":
			t.Errorf("%s undefined without a reason", name)
		case !math.IsNaN(w) && math.Abs(f.Value-w) > 1e-9*max(1, math.Abs(w)):
			t.Errorf("%s = %.12g, want %.12g", name, f.Value, w)
		}
	}
}

// The GLCM example of PyRadiomics' documentation: the symmetric matrix for 0° and 180°.
func TestGLCMCountsDocumentedExample(t *testing.T) {
	d := roi2D(5, [][]int32{{1, 2, 5, 2, 3}, {3, 2, 1, 3, 1}, {1, 3, 5, 5, 2}, {1, 1, 1, 1, 2}, {1, 2, 4, 3, 5}})
	g, err := newTexGrid(d, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := g.glcmCounts([][3]int{{1, 0, 0}}, -1)
	x.symmetrise(len(g.levels))
	want := []float64{6, 4, 3, 0, 0, 4, 0, 2, 1, 3, 3, 2, 0, 1, 2, 0, 1, 1, 0, 0, 0, 3, 2, 0, 2}
	for i, w := range want {
		if x.at(0, 0)[i] != w {
			t.Fatalf("GLCM = %v, want %v", x.at(0, 0), want)
		}
	}
	// Features of this matrix worked by hand: Σ = 40, Σ(i−j)²P = 116, ΣP² = 128, max 6.
	f := glcmFeatures(x.at(0, 0), g.levels, glcmConvention{ngNorm: 5})
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"contrast", f[11], 116.0 / 40}, {"energy", f[10], 128.0 / 1600}, {"joint max", f[0], 6.0 / 40},
		{"joint average", f[1], (13*1 + 10*2 + 8*3 + 2*4 + 7*5) / 40.0},
	} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
}

// The GLRLM example of PyRadiomics' documentation (θ = 0).
func TestGLRLMCountsDocumentedExample(t *testing.T) {
	d := roi2D(5, [][]int32{{5, 2, 5, 4, 4}, {3, 3, 3, 1, 3}, {2, 1, 1, 1, 3}, {4, 2, 2, 2, 3}, {3, 5, 3, 3, 2}})
	g, err := newTexGrid(d, 1)
	if err != nil {
		t.Fatal(err)
	}
	x, maxLen, _ := g.glrlmCounts([][3]int{{1, 0, 0}}, -1)
	want := [][]float64{{1, 0, 1, 0, 0}, {3, 0, 1, 0, 0}, {4, 1, 1, 0, 0}, {1, 1, 0, 0, 0}, {3, 0, 0, 0, 0}}
	for l, row := range want {
		for r, w := range row {
			if got := x.at(0, 0)[l*maxLen+r]; got != w {
				t.Errorf("P(%d, %d) = %g, want %g", l+1, r+1, got, w)
			}
		}
	}
}

// The GLSZM example of PyRadiomics' documentation (8-connected zones), and its features by hand:
// zone sizes per level 1: {4}; 2: {1, 5}; 3: {1, 3, 5}; 4: {1, 2}; 5: {1, 1, 1}; Nz = 11, Np = 25.
func TestGLSZMDocumentedExample(t *testing.T) {
	must := mustOK(t)
	d := roi2D(5, [][]int32{{5, 2, 5, 4, 4}, {3, 3, 3, 1, 3}, {2, 1, 1, 1, 3}, {4, 2, 2, 2, 3}, {3, 5, 3, 3, 2}})
	got := byName(must(GLSZMFeatures(context.Background(), d, pyOptions())))
	nz := 11.0
	ps := map[float64]float64{1: 6, 2: 1, 3: 1, 4: 1, 5: 2}
	var sae, lae, szn float64
	for j, n := range ps {
		sae += n / (j * j)
		lae += n * j * j
		szn += n * n
	}
	checkValues(t, got, map[string]float64{
		"ZonePercentage":            nz / 25,
		"SmallAreaEmphasis":         sae / nz,
		"LargeAreaEmphasis":         lae / nz,
		"GrayLevelNonUniformity":    (1 + 4 + 9 + 4 + 9) / nz,
		"SizeZoneNonUniformity":     szn / nz,
		"LowGrayLevelZoneEmphasis":  (1 + 2.0/4 + 3.0/9 + 2.0/16 + 3.0/25) / nz,
		"HighGrayLevelZoneEmphasis": (1 + 2*4 + 3*9 + 2*16 + 3*25) / nz,
	})
}

// Two adjacent voxels of levels 1 and 2 (NG = 4): every PyRadiomics class worked by hand. The
// bounding box is 2×1×1, so PyRadiomics keeps the single angle (1, 0, 0).
func TestPyRadiomicsTwoVoxels(t *testing.T) {
	must := mustOK(t)
	d := &Discretised{Size: [3]int{3, 2, 2}, Spacing: [3]float64{1, 1, 1}, NG: 4, Level: make([]int32, 12)}
	d.Level[0], d.Level[1] = 1, 2
	ctx := context.Background()
	glcm := byName(must(GLCMFeatures(ctx, d, pyOptions())))
	checkValues(t, glcm, map[string]float64{
		"Contrast": 1, "Correlation": -1, "JointEntropy": 1, "JointAverage": 1.5, "SumSquares": 0.25,
		"Idn":  1 / 1.5, // PyRadiomics normalises by the highest level present (2), IBSI by NG (4)
		"Idmn": 1 / 1.25, "MCC": 1, "Imc1": -1, "Imc2": math.Sqrt(1 - math.Exp(-2)),
		"MaximumProbability": 0.5, "DifferenceAverage": 1, "Autocorrelation": 2, "ClusterTendency": 0,
	})
	ibsi := byName(must(GLCMFeatures(ctx, d, ibsiOptions())))
	checkValues(t, ibsi, map[string]float64{"cm_inv_diff_norm_3D_avg": 1 / 1.25, "cm_inv_diff_mom_norm_3D_avg": 1 / (1 + 1.0/16)})

	glrlm := byName(must(GLRLMFeatures(ctx, d, pyOptions())))
	checkValues(t, glrlm, map[string]float64{
		"ShortRunEmphasis": 1, "LongRunEmphasis": 1, "RunPercentage": 1, "GrayLevelNonUniformity": 1,
		"GrayLevelNonUniformityNormalized": 0.5, "GrayLevelVariance": 0.25, "LowGrayLevelRunEmphasis": 0.625,
	})
	ngtdm := byName(must(NGTDMFeatures(ctx, d, pyOptions())))
	checkValues(t, ngtdm, map[string]float64{"Coarseness": 1, "Contrast": 0.25, "Busyness": 1, "Complexity": 1, "Strength": 1})
	gldm := byName(must(NGLDMFeatures(ctx, d, pyOptions())))
	checkValues(t, gldm, map[string]float64{
		"SmallDependenceEmphasis": 1, "LargeDependenceEmphasis": 1, "GrayLevelNonUniformity": 1,
		"DependenceNonUniformity": 2, "DependenceNonUniformityNormalized": 1, "LowGrayLevelEmphasis": 0.625,
	})
	opt := pyOptions()
	opt.Alpha = 1 // both voxels now depend on each other: dependence 2
	gldm = byName(must(NGLDMFeatures(ctx, d, opt)))
	checkValues(t, gldm, map[string]float64{"SmallDependenceEmphasis": 0.25, "LargeDependenceEmphasis": 4})
	for _, fs := range []map[string]Feature{glcm, glrlm, ngtdm, gldm} {
		for name, f := range fs {
			if name == f.IBSI {
				continue
			}
			if f.Class == "" || f.PyRadiomics != name {
				t.Errorf("%s: class %q name %q", name, f.Class, f.PyRadiomics)
			}
		}
	}
}

// A region with one grey level: IBSI leaves correlation, IMC1 and the NGTDM ratios undefined;
// PyRadiomics returns its documented substitutes.
func TestSingleGreyLevel(t *testing.T) {
	must := mustOK(t)
	d := roi2D(3, [][]int32{{2, 2, 2}, {2, 2, 0}})
	ctx := context.Background()
	ibsi := byName(must(TextureFeatures(ctx, d, ibsiOptions())))
	nan := math.NaN()
	checkValues(t, ibsi, map[string]float64{
		"cm_corr_2D_avg": nan, "cm_info_corr1_3D_comb": nan, "cm_contrast_3D_avg": 0, "cm_joint_max_2D_comb": 1,
		"ngt_coarseness_3D": nan, "ngt_contrast_2D": nan, "ngt_busyness_2_5D": nan, "ngt_strength_3D": nan,
		"szm_z_perc_3D": 1.0 / 5, "szm_lze_3D": 25, "dzm_sde_3D": 1,
	})
	py := byName(must(TextureFeatures(ctx, d, pyOptions())))
	checkValues(t, py, map[string]float64{
		"Correlation": 1, "Imc1": 0, "Imc2": 0, "MCC": 1, "Coarseness": 1e6, "Busyness": 0, "Strength": 0,
	})
}

// The IBSI digital phantom through PyRadiomics mode: wherever a PyRadiomics feature carries an IBSI
// tag (its definition coincides), its value must reproduce the IBSI reference of that aggregation.
func TestPyRadiomicsModeOnPhantom(t *testing.T) {
	d := phantomROI(t)
	ref := map[string]float64{}
	for _, r := range readReference(t, "testdata/texture/ibsi_1_dig_phantom_reference_values.csv") {
		ref[r.tag] = r.value
	}
	for _, force2D := range []bool{false, true} {
		opt := pyOptions()
		opt.Force2D = force2D
		fs, err := TextureFeatures(context.Background(), d, opt)
		if err != nil {
			t.Fatal(err)
		}
		n, tagged := 0, 0
		for _, f := range fs {
			n++
			if f.IBSI == "" {
				continue
			}
			tagged++
			r, ok := ref[f.IBSI]
			if !ok {
				t.Errorf("%s_%s: tag %s not in the reference", f.Class, f.PyRadiomics, f.IBSI)
				continue
			}
			if !equal3SF(f.Value, r) {
				t.Errorf("force2D=%v %s_%s = %.6g, IBSI %s = %g", force2D, f.Class, f.PyRadiomics, f.Value, f.IBSI, r)
			}
		}
		t.Logf("force2D=%v: %d PyRadiomics features, %d checked against IBSI references", force2D, n, tagged)
		if n != 24+16+16+14+5 {
			t.Errorf("force2D=%v: %d features, want 75 (glcm 24, glrlm 16, glszm 16, gldm 14, ngtdm 5)", force2D, n)
		}
	}
}

// Merging all angles with weight 1 (weightingNorm no_weighting) is IBSI's merged 3D GLCM.
func TestWeightingNoWeightingIsMerged(t *testing.T) {
	must := mustOK(t)
	d := phantomROI(t)
	opt := pyOptions()
	opt.WeightingNorm = "no_weighting"
	got := byName(must(GLCMFeatures(context.Background(), d, opt)))
	if f := got["Contrast"]; f.IBSI != "cm_contrast_3D_comb" || !equal3SF(f.Value, 5.12) {
		t.Errorf("no_weighting Contrast = %g (%s), want 5.12 (cm_contrast_3D_comb)", f.Value, f.IBSI)
	}
	// Weighted by exp(−‖d‖²): spacing 2 mm weighs the face neighbours e^-4, edges e^-8, corners e^-12.
	opt.WeightingNorm = "euclidean"
	w := byName(must(GLCMFeatures(context.Background(), d, opt)))
	if f := w["Contrast"]; f.IBSI != "" || math.IsNaN(f.Value) || f.Value == got["Contrast"].Value {
		t.Errorf("euclidean-weighted Contrast = %g (%q)", f.Value, f.IBSI)
	}
}

func TestTextureBadInput(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		d    *Discretised
		opt  TextureOptions
		want string
	}{
		{"nil", nil, pyOptions(), "no region"},
		{"empty", roi2D(2, [][]int32{{0, 0}}), pyOptions(), "empty"},
		{"size", &Discretised{Size: [3]int{2, 2, 2}, NG: 2, Level: make([]int32, 7)}, pyOptions(), "grid"},
		{"level", roi2D(2, [][]int32{{1, 3}}), pyOptions(), "outside 1…2"},
		{"ng", roi2D(0, [][]int32{{0, 0}}), pyOptions(), "NG"},
		{"distance", roi2D(2, [][]int32{{1, 2}}), TextureOptions{Distances: []int{0}}, "distance"},
		{"norm", roi2D(2, [][]int32{{1, 2}}), TextureOptions{WeightingNorm: "l2"}, "weightingNorm"},
		{"dimension", roi2D(2, [][]int32{{1, 2}}), TextureOptions{Force2DDimension: 3}, "force2Ddimension"},
		{"aggregation", roi2D(2, [][]int32{{1, 2}}), TextureOptions{IBSI: true, Aggregations: []string{"4D"}}, "aggregation"},
	}
	for _, tc := range cases {
		_, err := TextureFeatures(ctx, tc.d, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	// One voxel: no pairs, runs of one, one zone; nothing panics and empty matrices give reasons.
	one := roi2D(3, [][]int32{{0, 2, 0}})
	for _, opt := range []TextureOptions{ibsiOptions(), pyOptions()} {
		fs, err := TextureFeatures(ctx, one, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if math.IsNaN(f.Value) != (f.Reason != "") || math.IsInf(f.Value, 0) {
				t.Errorf("%s%s: value %g reason %q", f.IBSI, f.PyRadiomics, f.Value, f.Reason)
			}
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := TextureFeatures(cancelled, one, pyOptions()); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestIBSIAggregationSelection(t *testing.T) {
	opt := ibsiOptions()
	opt.Aggregations = []string{"3D_comb", "2_5D"}
	fs, err := TextureFeatures(context.Background(), phantomROI(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if !strings.HasSuffix(f.IBSI, "_3D_comb") && !strings.HasSuffix(f.IBSI, "_2_5D") {
			t.Errorf("unrequested aggregation %s", f.IBSI)
		}
	}
	if want := 25 + 16 + 16 + 16 + 5 + 17; len(fs) != want {
		t.Errorf("%d features, want %d", len(fs), want)
	}
}

// PyRadiomics drops a run length angle along which no line holds two ROI voxels; a line with two
// ROI voxels that are not neighbours keeps it.
func TestGLRLMSingleElementAngles(t *testing.T) {
	must := mustOK(t)
	// (0,0) and (1,1), level 1: only the diagonal (1,1,0) has a line with two voxels, one run of 2.
	diag := roi2D(2, [][]int32{{1, 0}, {0, 1}})
	got := byName(must(GLRLMFeatures(context.Background(), diag, pyOptions())))
	checkValues(t, got, map[string]float64{"ShortRunEmphasis": 0.25, "LongRunEmphasis": 4, "RunPercentage": 0.5})
	// IBSI keeps every direction: the 3D average over the 13 directions has 12 with two runs of 1.
	ibsi := byName(must(GLRLMFeatures(context.Background(), diag, ibsiOptions())))
	checkValues(t, ibsi, map[string]float64{"rlm_sre_3D_avg": (12 + 0.25) / 13})
	// (0,0) and (2,0) with a gap: the line holds two voxels, so the angle stays: two runs of 1.
	gap := roi2D(2, [][]int32{{1, 0, 1}})
	got = byName(must(GLRLMFeatures(context.Background(), gap, pyOptions())))
	checkValues(t, got, map[string]float64{"ShortRunEmphasis": 1, "RunPercentage": 1})
}

// symmetricalGLCM false counts the neighbour at +angle only: levels 1, 2 along i give P(1,2) = 1.
func TestGLCMAsymmetric(t *testing.T) {
	must := mustOK(t)
	d := roi2D(2, [][]int32{{1, 2}})
	opt := pyOptions()
	opt.Symmetrical = false
	got := byName(must(GLCMFeatures(context.Background(), d, opt)))
	checkValues(t, got, map[string]float64{"JointAverage": 1, "SumAverage": 3, "Contrast": 1, "MaximumProbability": 1})
}

func TestDirectionWeights(t *testing.T) {
	sp := [3]float64{0.5, 1, 2}
	o := [3]int{1, -1, 1} // |d| per axis in mm: 0.5, 1, 2
	cases := []struct {
		norm string
		exp  bool
		want float64
	}{
		{"infinity", true, math.Exp(-4)},
		{"euclidean", true, math.Exp(-5.25)},
		{"manhattan", true, math.Exp(-3.5 * 3.5)},
		{"no_weighting", true, 1},
		{"infinity", false, 2},
		{"euclidean", false, math.Sqrt(5.25)},
		{"manhattan", false, 3.5},
	}
	for _, c := range cases {
		if got := directionWeight(c.norm, o, sp, c.exp); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s (exp %v) = %g, want %g", c.norm, c.exp, got, c.want)
		}
	}
}

// PyRadiomics' angles: one of each ± pair, first non-zero of (k, j, i) positive, 13 in 3D, 4 in a
// slice, fewer where the bounding box is thinner than the offset.
func TestDirections(t *testing.T) {
	g, err := newTexGrid(&Discretised{Size: [3]int{3, 3, 3}, NG: 1, Level: []int32{
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(g.directions([]int{1}, -1, true)); n != 13 {
		t.Errorf("3D: %d directions, want 13", n)
	}
	if n := len(g.directions([]int{1}, 2, true)); n != 4 {
		t.Errorf("2D: %d directions, want 4", n)
	}
	if n := len(g.directions([]int{1, 2}, -1, true)); n != 13+49 {
		t.Errorf("distances 1, 2: %d directions, want 62", n)
	}
	flat, err := newTexGrid(roi2D(1, [][]int32{{1, 1}, {1, 1}}), 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(flat.directions([]int{1}, -1, true)); n != 4 {
		t.Errorf("one-slice ROI: %d PyRadiomics directions, want 4", n)
	}
	if n := len(flat.directions([]int{1}, -1, false)); n != 13 {
		t.Errorf("one-slice ROI: %d IBSI directions, want 13", n)
	}
	for _, o := range g.directions([]int{1, 2}, -1, false) {
		if !positiveHalf(o) {
			t.Errorf("direction %v not in the positive half", o)
		}
	}
}

// Matrices hold only the grey levels present: a huge NG with three levels in use is cheap, and the
// features see the grey-level values themselves (contrast of levels 1 and 50,001 is 50,000²).
func TestSparseGreyLevels(t *testing.T) {
	must := mustOK(t)
	d := roi2D(100000, [][]int32{{1, 50001, 100000}, {1, 1, 100000}})
	for _, opt := range []TextureOptions{ibsiOptions(), pyOptions()} {
		fs := must(TextureFeatures(context.Background(), d, opt))
		for _, f := range fs {
			if math.IsInf(f.Value, 0) || math.IsNaN(f.Value) != (f.Reason != "") {
				t.Errorf("%s%s: value %g reason %q", f.IBSI, f.PyRadiomics, f.Value, f.Reason)
			}
		}
	}
	line := roi2D(100000, [][]int32{{1, 50001}})
	got := byName(must(GLCMFeatures(context.Background(), line, pyOptions())))
	checkValues(t, got, map[string]float64{"Contrast": 50000 * 50000, "JointAverage": 25001})
}
