package radiomics

import (
	"context"
	"fmt"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// textureFamily binds a texture family (texture_*.go) to its IBSI tag prefix and PyRadiomics class
// ("" when PyRadiomics has no such class).
type textureFamily struct {
	ibsi, class string
	fn          func(context.Context, *Discretised, TextureOptions) ([]Feature, error)
}

// textureFamilies in output order (IBSI chapter order; PyRadiomics' gldm is IBSI's NGLDM).
var textureFamilies = []textureFamily{
	{"cm", "glcm", GLCMFeatures},
	{"rlm", "glrlm", GLRLMFeatures},
	{"szm", "glszm", GLSZMFeatures},
	{"dzm", "", GLDZMFeatures},
	{"ngt", "ngtdm", NGTDMFeatures},
	{"ngl", "gldm", NGLDMFeatures},
}

// derivedImages applies the filter of image type it (filter_*.go) to v; mask is the ROI on v's grid
// (LBP3D computes only there).
func derivedImages(ctx context.Context, it ImageType, v *image.Volume, mask []bool) ([]namedImage, error) {
	s := it.Settings
	var fs []FilteredImage
	var err error
	one := func(f FilteredImage, e error) {
		fs, err = []FilteredImage{f}, e
	}
	switch it.Name {
	case "Original":
		return []namedImage{{"original", v.Data}}, nil
	case "LoG":
		if len(s.Sigma) == 0 {
			return nil, fmt.Errorf("radiomics: imageType.LoG: no sigma given")
		}
		fs, err = LoG(ctx, v, s.Sigma)
		if err == nil {
			for i := range fs {
				if i < len(s.SigmaInteger) && s.SigmaInteger[i] {
					fs[i].Name = LoGImageName(s.Sigma[i], true)
				}
			}
		}
	case "Wavelet":
		fs, err = Wavelet(ctx, v, WaveletOptions{Wavelet: s.Wavelet, Level: s.Level, StartLevel: s.StartLevel,
			Force2D: s.Force2D, Force2DDimension: s.Force2DDimension})
	case "Square":
		one(Square(v))
	case "SquareRoot":
		one(SquareRoot(v))
	case "Logarithm":
		one(Logarithm(v))
	case "Exponential":
		one(Exponential(v))
	case "Gradient":
		one(Gradient(ctx, v, s.GradientUseSpacing))
	case "LBP3D":
		fs, err = LBP3D(ctx, v, mask, LBP3DOptions{Levels: s.LBP3DLevels, IcosphereRadius: s.LBP3DIcosphereRadius,
			IcosphereSubdivision: s.LBP3DIcosphereSubdivision})
	default:
		return nil, fmt.Errorf("radiomics: imageType.%s: not supported yet", it.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("radiomics: imageType.%s: %w", it.Name, err)
	}
	out := make([]namedImage, len(fs))
	for i, f := range fs {
		if !f.Image.SameGrid(v.Grid, 1e-9) || len(f.Image.Data) != len(v.Data) {
			return nil, fmt.Errorf("radiomics: imageType.%s: filter %s changed the grid", it.Name, f.Name)
		}
		out[i] = namedImage{f.Name, f.Image.Data}
	}
	return out, nil
}
