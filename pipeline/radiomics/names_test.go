package radiomics

import (
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
