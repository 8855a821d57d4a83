package radiomics

import (
	"reflect"
	"strings"
	"testing"
)

func TestDefaultParamsFileMatchesDefaults(t *testing.T) {
	s, err := ReadSettings("params/pyradiomics-default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d := DefaultSettings(); !reflect.DeepEqual(s, d) {
		t.Errorf("params/pyradiomics-default.yaml = %+v\nwant DefaultSettings() = %+v", s, d)
	}
}

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings([]byte(`
setting:
  binWidth: 10
  resampledPixelSpacing: [1, 1, 0]
  interpolator: sitkLinear
  resegmentRange: [-3, 3]
  resegmentMode: sigma
  label: 2
imageType:
  Wavelet: {binWidth: 5}
  LoG: {sigma: [1, 3.0]}
  Original: {}
featureClass:
  firstorder: [Mean, Kurtosis]
  glcm:
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.BinWidth != 10 || s.Interpolator != "sitkLinear" || s.Label != 2 || s.ResegmentMode != "sigma" ||
		!reflect.DeepEqual(s.ResampledPixelSpacing, []float64{1, 1, 0}) || !reflect.DeepEqual(s.ResegmentRange, []float64{-3, 3}) {
		t.Errorf("settings = %+v", s)
	}
	var names []string
	for _, it := range s.ImageTypes {
		names = append(names, it.Name)
	}
	if !reflect.DeepEqual(names, []string{"Original", "LoG", "Wavelet"}) {
		t.Errorf("image types %v, want Original LoG Wavelet (PyRadiomics order)", names)
	}
	if w := s.ImageTypes[2].Settings; w.BinWidth != 5 || s.ImageTypes[0].Settings.BinWidth != 10 {
		t.Errorf("per-image-type binWidth: wavelet %v original %v, want 5 and 10", w.BinWidth, s.ImageTypes[0].Settings.BinWidth)
	}
	if l := s.ImageTypes[1].Settings; !reflect.DeepEqual(l.Sigma, []float64{1, 3}) || !reflect.DeepEqual(l.SigmaInteger, []bool{true, false}) {
		t.Errorf("LoG sigma %v integer %v", l.Sigma, l.SigmaInteger)
	}
	if !reflect.DeepEqual(s.FeatureClasses["firstorder"], []string{"Mean", "Kurtosis"}) || s.FeatureClasses["glcm"] != nil {
		t.Errorf("feature classes %v", s.FeatureClasses)
	}
}

func TestParseSettingsErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"setting: {binwidth: 25}", `unknown key "binwidth"`},
		{"settings: {}", `unknown top-level key "settings"`},
		{"setting: {binWidth: -1}", "setting.binWidth"},
		{"setting: {interpolator: sitkCubic}", "setting.interpolator"},
		{"setting: {resegmentMode: lower}", "setting.resegmentMode"},
		{"setting: {resegmentRange: [5, 1]}", "below lower bound"},
		{"imageType: {Sobel: {}}", `unknown image type "Sobel"`},
		{"imageType: {LoG: {sigma: [1], colour: red}}", `imageType.LoG: unknown key "colour"`},
		{"featureClass: {glcmm: }", `unknown feature class "glcmm"`},
		{"featureClass: {morph: }", `unknown feature class "morph"`},
		{"setting: {ibsi: {aggregation: [3D]}}", `unknown key "aggregation"`},
		{"voxelSetting: {kernelRadius: 1}", "voxel-based"},
		{"setting: [1, 2]", "want a mapping"},
	}
	for _, tc := range tests {
		_, err := ParseSettings([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.yaml, err, tc.want)
		}
	}
}
