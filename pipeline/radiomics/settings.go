package radiomics

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Settings are the extraction settings of a PyRadiomics parameter file (section `setting`, with
// PyRadiomics' keys and defaults), the image types (`imageType`) and the feature classes
// (`featureClass`), plus the sacrum IBSI extension (`setting: {ibsi: {...}}`).
type Settings struct {
	// Feature extractor level.
	MinimumROIDimensions int     // minimumROIDimensions (default 2)
	MinimumROISize       int     // minimumROISize (0 = no minimum)
	GeometryTolerance    float64 // geometryTolerance (mm and direction cosines; default 1e-6)
	CorrectMask          bool    // correctMask: resample the mask onto the image grid when they differ
	AdditionalInfo       bool    // additionalInfo (default true): diagnostics in the result
	Label                int     // label (default 1); Extract's label argument wins when positive

	// Image normalisation (applied to the whole image before anything else).
	Normalize      bool    // normalize
	NormalizeScale float64 // normalizeScale (default 1)
	RemoveOutliers float64 // removeOutliers in standard deviations (0 = off)

	// Resampling.
	ResampledPixelSpacing []float64 // resampledPixelSpacing (nil = no resampling; 0 keeps an axis)
	Interpolator          string    // interpolator: sitkNearestNeighbor, sitkLinear, sitkBSpline (default)
	PadDistance           int       // padDistance (default 5)
	PreCrop               bool      // preCrop

	// Resegmentation.
	ResegmentRange []float64 // resegmentRange: [min] or [min, max]
	ResegmentMode  string    // resegmentMode: absolute (default), relative, sigma
	ResegmentShape bool      // resegmentShape: shape features use the resegmented mask too

	// Discretisation and first order.
	BinWidth        float64 // binWidth (default 25)
	BinCount        int     // binCount (0 = fixed bin width)
	VoxelArrayShift float64 // voxelArrayShift (Energy, TotalEnergy, RootMeanSquared)

	// 2D extraction.
	Force2D          bool // force2D
	Force2DDimension int  // force2Ddimension (0 = slice axis k)

	// Texture classes.
	Distances       []int  // distances (default [1])
	SymmetricalGLCM bool   // symmetricalGLCM (default true)
	WeightingNorm   string // weightingNorm
	GLDMA           int    // gldm_a

	// Filters.
	Sigma                     []float64 // sigma (LoG, mm)
	SigmaInteger              []bool    // per sigma: written as an integer (PyRadiomics names it "3", not "3-0")
	StartLevel                int       // start_level (wavelet)
	Level                     int       // level (wavelet, default 1)
	Wavelet                   string    // wavelet (default coif1)
	GradientUseSpacing        bool      // gradientUseSpacing (default true)
	LBP2DRadius               float64   // lbp2DRadius (default 1)
	LBP2DSamples              int       // lbp2DSamples (default 8)
	LBP2DMethod               string    // lbp2DMethod (default uniform)
	LBP3DLevels               int       // lbp3DLevels (default 2)
	LBP3DIcosphereRadius      float64   // lbp3DIcosphereRadius (default 1)
	LBP3DIcosphereSubdivision int       // lbp3DIcosphereSubdivision (default 1)

	// IBSI holds the sacrum IBSI extension; nil means PyRadiomics definitions throughout.
	IBSI *IBSISettings

	// ImageTypes lists the enabled image types in file order (default: Original only). Each carries
	// the settings that apply to it (the global ones with its own overrides).
	ImageTypes []ImageType
	// FeatureClasses maps an enabled class to the features asked for (nil = the class's defaults).
	// Keys are PyRadiomics classes (firstorder, shape, shape2D, glcm, glrlm, glszm, gldm, ngtdm) or,
	// in IBSI mode, IBSI families (morph, loc, stat, ih, ivh, cm, rlm, szm, dzm, ngt, ngl).
	FeatureClasses map[string][]string
}

// ImageType is one enabled image type (PyRadiomics `imageType` entry).
type ImageType struct {
	Name     string   // Original, LoG, Wavelet, Square, SquareRoot, Logarithm, Exponential, Gradient, LBP2D, LBP3D
	Settings Settings // the settings for this image type (ImageTypes and FeatureClasses are empty)
}

// IBSISettings is the sacrum extension for IBSI-compliant extraction (key `setting: {ibsi: {...}}`).
type IBSISettings struct {
	// BinningConvention: "ibsi" (fixed bin size counted from the lower resegmentation bound, or the
	// ROI minimum) or "pyradiomics" (bin edges at multiples of binWidth). Default ibsi.
	BinningConvention string
	// Aggregations lists the texture aggregations (see TextureOptions.Aggregations); empty = all.
	Aggregations []string
	// GridAlignment for resampling: "centre" (IBSI: grid centres aligned) or "corner" (PyRadiomics).
	GridAlignment string
	// MaskInterpolation: "linear" (IBSI: interpolate the mask trilinearly, then threshold at
	// MaskThreshold) or "nearest" (PyRadiomics).
	MaskInterpolation string
	MaskThreshold     float64 // default 0.5
	// IVHBinWidth discretises intensities for the intensity-volume histogram (0 = use the texture
	// discretisation's grey levels, as for the IBSI digital phantom).
	IVHBinWidth float64
	// LocalIntensityRadius is the radius of the local intensity sphere in mm (default: the radius of
	// a 1 cm³ sphere, 6.2035 mm).
	LocalIntensityRadius float64
}

// DefaultSettings returns PyRadiomics' defaults with the Original image type and every default
// feature class enabled.
func DefaultSettings() Settings {
	s := baseSettings()
	s.ImageTypes = []ImageType{{Name: "Original", Settings: s}}
	s.FeatureClasses = map[string][]string{}
	for _, c := range []string{"firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm"} {
		s.FeatureClasses[c] = nil
	}
	return s
}

func baseSettings() Settings {
	return Settings{
		MinimumROIDimensions: 2, Label: 1, GeometryTolerance: 1e-6, AdditionalInfo: true, NormalizeScale: 1,
		Interpolator: "sitkBSpline", PadDistance: 5, ResegmentMode: "absolute", BinWidth: 25,
		Distances: []int{1}, SymmetricalGLCM: true, Level: 1, Wavelet: "coif1", GradientUseSpacing: true,
		LBP2DRadius: 1, LBP2DSamples: 8, LBP2DMethod: "uniform", LBP3DLevels: 2, LBP3DIcosphereRadius: 1,
		LBP3DIcosphereSubdivision: 1,
	}
}

// ImageTypeNames are the image types PyRadiomics knows.
var imageTypeNames = []string{"Original", "LoG", "Wavelet", "Square", "SquareRoot", "Logarithm", "Exponential", "Gradient", "LBP2D", "LBP3D"}

// ReadSettings reads a PyRadiomics parameter file (YAML or JSON).
func ReadSettings(path string) (Settings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Settings{}, err
	}
	s, err := ParseSettings(b)
	if err != nil {
		return Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseSettings parses a PyRadiomics parameter file. Unknown keys are errors naming the key.
func ParseSettings(b []byte) (Settings, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Settings{}, fmt.Errorf("params: %w", err)
	}
	s := baseSettings()
	for k := range doc {
		switch k {
		case "setting", "imageType", "featureClass":
		case "voxelSetting":
			return Settings{}, fmt.Errorf("params: voxelSetting: voxel-based extraction is not supported")
		default:
			return Settings{}, fmt.Errorf("params: unknown top-level key %q (want setting, imageType, featureClass)", k)
		}
	}
	if v, ok := doc["setting"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return Settings{}, fmt.Errorf("params: setting: want a mapping")
		}
		if err := s.apply(m, "setting"); err != nil {
			return Settings{}, err
		}
	}
	// Image types, each with the global settings plus its own.
	if v, ok := doc["imageType"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return Settings{}, fmt.Errorf("params: imageType: want a mapping")
		}
		for _, name := range sortedKeys(m) {
			if !contains(imageTypeNames, name) {
				return Settings{}, fmt.Errorf("params: imageType: unknown image type %q (want one of %s)", name, strings.Join(imageTypeNames, ", "))
			}
			it := ImageType{Name: name, Settings: s}
			if sub, ok := m[name].(map[string]any); ok {
				if err := it.Settings.apply(sub, "imageType."+name); err != nil {
					return Settings{}, err
				}
			} else if m[name] != nil {
				return Settings{}, fmt.Errorf("params: imageType.%s: want a mapping of settings", name)
			}
			s.ImageTypes = append(s.ImageTypes, it)
		}
		if len(s.ImageTypes) == 0 {
			// PyRadiomics would extract nothing; say so instead of returning an empty result.
			return Settings{}, fmt.Errorf("params: imageType: no image type enabled (e.g. imageType: {Original: {}})")
		}
		// Keep PyRadiomics' order: Original first, then the filters in the order listed above.
		sort.SliceStable(s.ImageTypes, func(i, j int) bool {
			return indexOf(imageTypeNames, s.ImageTypes[i].Name) < indexOf(imageTypeNames, s.ImageTypes[j].Name)
		})
	} else {
		s.ImageTypes = []ImageType{{Name: "Original", Settings: s}}
	}
	s.FeatureClasses = map[string][]string{}
	if v, ok := doc["featureClass"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return Settings{}, fmt.Errorf("params: featureClass: want a mapping")
		}
		for c, fv := range m {
			if !contains(knownClasses(s.IBSI != nil), c) {
				return Settings{}, fmt.Errorf("params: featureClass: unknown feature class %q (want one of %s)", c, strings.Join(knownClasses(s.IBSI != nil), ", "))
			}
			var names []string
			if fv != nil {
				l, ok := fv.([]any)
				if !ok {
					return Settings{}, fmt.Errorf("params: featureClass.%s: want a list of feature names", c)
				}
				for _, x := range l {
					n, ok := x.(string)
					if !ok {
						return Settings{}, fmt.Errorf("params: featureClass.%s: feature %v is not a name", c, x)
					}
					names = append(names, n)
				}
				if names == nil {
					names = []string{} // an empty list is PyRadiomics' "all features"
				}
			}
			s.FeatureClasses[c] = names
		}
	} else {
		classes := []string{"firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm"}
		if s.IBSI != nil {
			classes = ibsiFamilies
		}
		for _, c := range classes {
			s.FeatureClasses[c] = nil
		}
	}
	for i := range s.ImageTypes {
		s.ImageTypes[i].Settings.IBSI = s.IBSI
	}
	return s, nil
}

var pyradiomicsClasses = []string{"firstorder", "shape", "shape2D", "glcm", "glrlm", "glszm", "gldm", "ngtdm"}

// ibsiFamilies are the IBSI feature families by tag prefix.
var ibsiFamilies = []string{"morph", "loc", "stat", "ih", "ivh", "cm", "rlm", "szm", "dzm", "ngt", "ngl"}

func knownClasses(ibsi bool) []string {
	if ibsi {
		return append(append([]string{}, pyradiomicsClasses...), ibsiFamilies...)
	}
	return pyradiomicsClasses
}

// apply sets the keys of one `setting` mapping; where names the section for errors.
func (s *Settings) apply(m map[string]any, where string) error {
	for _, k := range sortedKeys(m) {
		v := m[k]
		var err error
		switch k {
		case "minimumROIDimensions":
			s.MinimumROIDimensions, err = intIn(v, 1, 3)
		case "minimumROISize":
			s.MinimumROISize, err = intIn(v, 1, math.MaxInt32)
		case "geometryTolerance":
			s.GeometryTolerance, err = positive(v)
		case "correctMask":
			s.CorrectMask, err = boolean(v)
		case "additionalInfo":
			s.AdditionalInfo, err = boolean(v)
		case "label":
			s.Label, err = intIn(v, 1, 255)
		case "label_channel":
			_, err = intIn(v, 0, 255)
		case "binWidth":
			s.BinWidth, err = positive(v)
		case "binCount":
			s.BinCount, err = intIn(v, 1, 1<<16)
		case "normalize":
			s.Normalize, err = boolean(v)
		case "normalizeScale":
			s.NormalizeScale, err = positive(v)
		case "removeOutliers":
			if v != nil {
				s.RemoveOutliers, err = positive(v)
			}
		case "resampledPixelSpacing":
			if v != nil {
				s.ResampledPixelSpacing, err = floats(v, 2, 3, 0)
			}
		case "interpolator":
			s.Interpolator, err = interpolatorName(v)
		case "padDistance":
			s.PadDistance, err = intIn(v, 0, 1000)
		case "preCrop":
			s.PreCrop, err = boolean(v)
		case "distances":
			var f []float64
			f, err = floats(v, 1, 10, 1)
			s.Distances = nil
			for _, x := range f {
				if x != math.Trunc(x) {
					err = fmt.Errorf("%v is not an integer", x)
				}
				s.Distances = append(s.Distances, int(x))
			}
		case "force2D":
			s.Force2D, err = boolean(v)
		case "force2Ddimension":
			s.Force2DDimension, err = intIn(v, 0, 2)
		case "resegmentRange":
			if v != nil {
				s.ResegmentRange, err = floats(v, 1, 2, math.Inf(-1))
				if err == nil && len(s.ResegmentRange) == 2 && s.ResegmentRange[1] < s.ResegmentRange[0] {
					err = fmt.Errorf("upper bound %g below lower bound %g", s.ResegmentRange[1], s.ResegmentRange[0])
				}
			}
		case "resegmentMode":
			s.ResegmentMode, err = oneOf(v, "absolute", "relative", "sigma")
		case "resegmentShape":
			s.ResegmentShape, err = boolean(v)
		case "sigma":
			s.Sigma, err = floats(v, 1, 100, 1e-9)
			s.SigmaInteger = nil
			l, ok := v.([]any)
			if !ok {
				l = []any{v}
			}
			for _, x := range l {
				_, isInt := x.(int)
				s.SigmaInteger = append(s.SigmaInteger, isInt)
			}
		case "start_level":
			s.StartLevel, err = intIn(v, 0, 10)
		case "level":
			s.Level, err = intIn(v, 1, 10)
		case "wavelet":
			s.Wavelet, err = str(v)
		case "gradientUseSpacing":
			s.GradientUseSpacing, err = boolean(v)
		case "lbp2DRadius":
			s.LBP2DRadius, err = positive(v)
		case "lbp2DSamples":
			s.LBP2DSamples, err = intIn(v, 1, 64)
		case "lbp2DMethod":
			s.LBP2DMethod, err = oneOf(v, "default", "ror", "uniform", "var")
		case "lbp3DLevels":
			s.LBP3DLevels, err = intIn(v, 1, 10)
		case "lbp3DIcosphereRadius":
			s.LBP3DIcosphereRadius, err = positive(v)
		case "lbp3DIcosphereSubdivision":
			s.LBP3DIcosphereSubdivision, err = intIn(v, 0, 5)
		case "voxelArrayShift":
			s.VoxelArrayShift, err = number(v)
		case "symmetricalGLCM":
			s.SymmetricalGLCM, err = boolean(v)
		case "weightingNorm":
			if v != nil {
				s.WeightingNorm, err = oneOf(v, "manhattan", "euclidean", "infinity", "no_weighting")
			}
		case "gldm_a":
			s.GLDMA, err = intIn(v, 0, 1000)
		case "enableCExtensions", "verbose":
			_, err = boolean(v) // accepted for compatibility; no effect
		case "ibsi":
			if where != "setting" {
				return fmt.Errorf("params: %s.ibsi: the IBSI extension belongs in the global setting section", where)
			}
			err = s.applyIBSI(v)
		default:
			return fmt.Errorf("params: %s: unknown key %q", where, k)
		}
		if err != nil {
			return fmt.Errorf("params: %s.%s: %w", where, k, err)
		}
	}
	return nil
}

func (s *Settings) applyIBSI(v any) error {
	x := &IBSISettings{BinningConvention: "ibsi", GridAlignment: "centre", MaskInterpolation: "linear", MaskThreshold: 0.5}
	s.IBSI = x
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("want a mapping")
	}
	for _, k := range sortedKeys(m) {
		var err error
		switch k {
		case "binningConvention":
			x.BinningConvention, err = oneOf(m[k], "ibsi", "pyradiomics")
		case "aggregations":
			var l []any
			if l, ok = m[k].([]any); !ok {
				err = fmt.Errorf("want a list")
			}
			for _, a := range l {
				sa, _ := a.(string)
				if !contains([]string{"2D_avg", "2D_comb", "2_5D_avg", "2_5D_comb", "3D_avg", "3D_comb", "2D", "2_5D", "3D"}, sa) {
					err = fmt.Errorf("unknown aggregation %v", a)
				}
				x.Aggregations = append(x.Aggregations, sa)
			}
		case "gridAlignment":
			x.GridAlignment, err = oneOf(m[k], "centre", "corner")
		case "maskInterpolation":
			x.MaskInterpolation, err = oneOf(m[k], "linear", "nearest")
		case "maskThreshold":
			x.MaskThreshold, err = positive(m[k])
		case "ivhBinWidth":
			x.IVHBinWidth, err = positive(m[k])
		case "localIntensityRadius":
			x.LocalIntensityRadius, err = positive(m[k])
		default:
			return fmt.Errorf("unknown key %q (want binningConvention, aggregations, gridAlignment, maskInterpolation, maskThreshold, ivhBinWidth, localIntensityRadius)", k)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// TextureOptions returns the options the texture families get under these settings.
func (s Settings) TextureOptions() TextureOptions {
	o := TextureOptions{
		IBSI: s.IBSI != nil, Distances: append([]int(nil), s.Distances...), Symmetrical: s.SymmetricalGLCM,
		WeightingNorm: s.WeightingNorm, Alpha: s.GLDMA, Force2D: s.Force2D, Force2DDimension: s.Force2DDimension,
	}
	if s.IBSI != nil {
		o.Aggregations = append([]string(nil), s.IBSI.Aggregations...)
	}
	return o
}

func interpolatorName(v any) (string, error) {
	switch x := v.(type) {
	case string:
		switch x {
		case "sitkNearestNeighbor", "sitkLinear", "sitkBSpline":
			return x, nil
		}
		return "", fmt.Errorf("%q is not supported (sitkNearestNeighbor, sitkLinear, sitkBSpline)", x)
	case int: // SimpleITK enum values
		switch x {
		case 1:
			return "sitkNearestNeighbor", nil
		case 2:
			return "sitkLinear", nil
		case 3:
			return "sitkBSpline", nil
		}
	}
	return "", fmt.Errorf("%v is not a supported interpolator", v)
}

func number(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%v is not finite", x)
		}
		return x, nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

func positive(v any) (float64, error) {
	x, err := number(v)
	if err == nil && !(x > 0) {
		err = fmt.Errorf("%v must be positive", x)
	}
	return x, err
}

func intIn(v any, lo, hi int) (int, error) {
	x, ok := v.(int)
	if !ok {
		return 0, fmt.Errorf("%v is not an integer", v)
	}
	if x < lo || x > hi {
		return 0, fmt.Errorf("%d is outside %d…%d", x, lo, hi)
	}
	return x, nil
}

func boolean(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%v is not true or false", v)
	}
	return b, nil
}

func str(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%v is not a string", v)
	}
	return s, nil
}

func oneOf(v any, allowed ...string) (string, error) {
	s, ok := v.(string)
	if !ok || !contains(allowed, s) {
		return "", fmt.Errorf("%v is not one of %s", v, strings.Join(allowed, ", "))
	}
	return s, nil
}

// floats reads a number or a list of numbers with n in [lo, hi] elements, each ≥ min.
func floats(v any, lo, hi int, minimum float64) ([]float64, error) {
	var l []any
	switch x := v.(type) {
	case []any:
		l = x
	default:
		l = []any{x}
	}
	if len(l) < lo || len(l) > hi {
		return nil, fmt.Errorf("%d values, want %d…%d", len(l), lo, hi)
	}
	out := make([]float64, len(l))
	for i, e := range l {
		x, err := number(e)
		if err != nil {
			return nil, err
		}
		if x < minimum {
			return nil, fmt.Errorf("%v is below %v", x, minimum)
		}
		out[i] = x
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(l []string, s string) bool { return indexOf(l, s) >= 0 }

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}
