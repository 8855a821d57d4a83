package radiomics

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// TestFilteredImageNames checks PyRadiomics' names of features on filtered images, and that
// shape features are computed once (on the original image).
func TestFilteredImageNames(t *testing.T) {
	g := image.NewGrid([3]int{24, 24, 12}, [3]float64{1, 1, 2})
	v := image.NewVolume(g)
	m := image.NewLabels(g)
	for k := 0; k < 12; k++ {
		for j := 0; j < 24; j++ {
			for i := 0; i < 24; i++ {
				v.Set(i, j, k, 100+20*math.Sin(float64(i)/2)+10*math.Cos(float64(j+k)/3))
				if (i-12)*(i-12)+(j-12)*(j-12) < 36 && k > 2 && k < 9 {
					m.Data[g.Index(i, j, k)] = 1
				}
			}
		}
	}
	s := mustSettings(t, `
imageType:
  Original: {}
  LoG: {sigma: [1, 3.0]}
  Wavelet: {}
  Square: {}
featureClass: {shape: [MeshVolume], firstorder: [Mean], glszm: [ZoneEntropy]}
`)
	res, err := Extract(v, m, 1, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"original_shape_MeshVolume", "original_firstorder_Mean", "original_glszm_ZoneEntropy",
		"log-sigma-1-mm-3D_firstorder_Mean", "log-sigma-3-0-mm-3D_glszm_ZoneEntropy",
		"wavelet-LLH_firstorder_Mean", "wavelet-HHH_glszm_ZoneEntropy", "wavelet-LLL_firstorder_Mean",
		"square_firstorder_Mean",
	} {
		if _, ok := res.Lookup(NamingPyRadiomics, name); !ok {
			t.Errorf("missing %s", name)
		}
	}
	shapes := 0
	for _, f := range res.Features {
		if strings.Contains(f.Name(NamingPyRadiomics), "_shape_") {
			shapes++
		}
	}
	// 1 original + 2 LoG + 8 wavelet + 1 square images × 2 features, plus one shape feature.
	if shapes != 1 || len(res.Features) != 12*2+1 {
		t.Errorf("%d shape features and %d in all, want 1 and 25", shapes, len(res.Features))
	}
	if got := res.Features[0].Name(NamingIBSI); got != "morph_volume" {
		t.Errorf("IBSI name of MeshVolume = %q, want morph_volume", got)
	}
}

// TestFilterMarginMatchesWholeImage: without preCrop, PyRadiomics filters the whole image; the
// margin Extract keeps around the ROI (4σ for LoG) gives the same ROI values as filtering the whole
// image.
func TestFilterMarginMatchesWholeImage(t *testing.T) {
	g := image.NewGrid([3]int{60, 60, 14}, [3]float64{1, 1, 2})
	v := image.NewVolume(g)
	m := image.NewLabels(g)
	for k := 0; k < 14; k++ {
		for j := 0; j < 60; j++ {
			for i := 0; i < 60; i++ {
				v.Set(i, j, k, 100+40*math.Sin(float64(i)/3)*math.Cos(float64(j)/4)+5*float64(k))
				if (i-30)*(i-30)+(j-30)*(j-30) < 25 && k >= 5 && k <= 8 {
					m.Data[g.Index(i, j, k)] = 1
				}
			}
		}
	}
	whole, err := LoG(context.Background(), v, []float64{3})
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	for i, l := range m.Data {
		if l == 1 {
			want = append(want, whole[0].Image.Data[i])
		}
	}
	mom := momentsOf(want)
	res, err := Extract(v, m, 1, mustSettings(t, "imageType: {LoG: {sigma: [3.0]}}\nfeatureClass: {firstorder: [Mean, Variance]}"))
	if err != nil {
		t.Fatal(err)
	}
	mean := lookup(t, res, NamingPyRadiomics, "log-sigma-3-0-mm-3D_firstorder_Mean")
	variance := lookup(t, res, NamingPyRadiomics, "log-sigma-3-0-mm-3D_firstorder_Variance")
	if math.Abs(mean-mom.mean) > 1e-3*math.Sqrt(mom.m2) || math.Abs(variance-mom.m2) > 1e-3*mom.m2 {
		t.Errorf("cropped LoG: mean %v variance %v; whole image: %v %v", mean, variance, mom.mean, mom.m2)
	}
}

// TestNamesUnique: no two features share a name in either convention, in PyRadiomics and in IBSI
// mode (the CLI prints one flat object).
func TestNamesUnique(t *testing.T) {
	for _, params := range []string{"params/pyradiomics-default.yaml", "params/ibsi-phantom.yaml"} {
		s, err := ReadSettings(params)
		if err != nil {
			t.Fatal(err)
		}
		img, err := image.ReadNRRDVolume("testdata/ibsi/phantom_image.nrrd")
		if err != nil {
			t.Fatal(err)
		}
		mask, err := image.ReadNRRDLabels("testdata/ibsi/phantom_mask.nrrd")
		if err != nil {
			t.Fatal(err)
		}
		res, err := Extract(img, mask, 1, s)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []Naming{NamingPyRadiomics, NamingIBSI} {
			seen := map[string]bool{}
			for _, v := range res.Features {
				name := v.Name(n)
				if seen[name] {
					t.Errorf("%s, %s naming: %s appears twice", params, n, name)
				}
				seen[name] = true
			}
		}
	}
}

// TestForce2DExtraction: force2D computes the texture classes slice by slice and shape2D on a
// one-slice ROI; the names are PyRadiomics' own.
func TestForce2DExtraction(t *testing.T) {
	img, err := image.ReadNRRDVolume("testdata/ibsi/phantom_image.nrrd")
	if err != nil {
		t.Fatal(err)
	}
	mask, err := image.ReadNRRDLabels("testdata/ibsi/phantom_mask.nrrd")
	if err != nil {
		t.Fatal(err)
	}
	s := mustSettings(t, "setting: {binWidth: 1, force2D: true}\nfeatureClass: {glcm: [JointAverage], glszm: [ZoneEntropy], firstorder: [Mean]}")
	res, err := Extract(img, mask, 1, s)
	if err != nil {
		t.Fatal(err)
	}
	// PyRadiomics' force2D GLCM is IBSI's 2.5D average (per direction over merged slices).
	if got := lookup(t, res, NamingPyRadiomics, "original_glcm_JointAverage"); math.Abs(sigFig(got, 3)-2.2) > 1e-9 {
		t.Errorf("force2D JointAverage = %v, want IBSI cm_joint_avg_2_5D_avg 2.2", got)
	}
	if _, ok := res.Lookup(NamingPyRadiomics, "original_glszm_ZoneEntropy"); !ok {
		t.Error("no force2D ZoneEntropy")
	}
	// shape2D needs the ROI in one slice.
	one := image.NewLabels(mask.Grid)
	for j := 0; j < 4; j++ {
		for i := 0; i < 5; i++ {
			one.Data[one.Index(i, j, 1)] = mask.Data[mask.Index(i, j, 1)]
		}
	}
	res, err = Extract(img, one, 1, mustSettings(t, "setting: {force2D: true}\nfeatureClass: {shape2D: [PixelSurface]}"))
	if err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, res, NamingPyRadiomics, "original_shape2D_PixelSurface"); got != 4*19 {
		t.Errorf("PixelSurface = %v, want 19 pixels × 4 mm²", got)
	}
	if _, err := Extract(img, mask, 1, mustSettings(t, "setting: {force2D: true}\nfeatureClass: {shape2D: }")); err == nil || !strings.Contains(err.Error(), "more than one slice") {
		t.Errorf("shape2D on a 3D ROI: err = %v, want a one-slice error", err)
	}
}
