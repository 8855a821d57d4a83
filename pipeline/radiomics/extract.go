package radiomics

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// Naming selects the feature names of a Result.
type Naming string

// Feature naming conventions.
const (
	NamingPyRadiomics Naming = "pyradiomics" // original_firstorder_Mean, wavelet-LLH_glcm_Contrast
	NamingIBSI        Naming = "ibsi"        // stat_mean, cm_joint_max_3D_avg (original image)
)

// Result is the outcome of one extraction: every feature of every image type, in a stable order.
type Result struct {
	Features []Value
	// Diagnostics describe the extraction (PyRadiomics' diagnostics_* entries, in short form).
	Diagnostics map[string]string
}

// Value is one feature computed on one image type.
type Value struct {
	ImageType string // PyRadiomics image type name: original, log-sigma-3-0-mm-3D, wavelet-LLH, …
	Feature
}

// Name returns the feature's name in the naming convention n. With PyRadiomics naming, features
// that PyRadiomics lacks are named <imageType>_ibsi_<tag>; with IBSI naming, features of the
// original image are named by their IBSI tag, others <imageType>_<tag>, and features IBSI lacks
// keep their PyRadiomics name.
func (v Value) Name(n Naming) string {
	py := v.ImageType + "_" + v.Class + "_" + v.PyRadiomics
	if n == NamingIBSI && v.IBSI != "" {
		if v.ImageType == "original" {
			return v.IBSI
		}
		return v.ImageType + "_" + v.IBSI
	}
	if v.PyRadiomics == "" {
		return v.ImageType + "_ibsi_" + v.IBSI
	}
	return py
}

// Lookup returns the value of the feature with the given name, and whether it exists.
func (r *Result) Lookup(n Naming, name string) (Value, bool) {
	for _, v := range r.Features {
		if v.Name(n) == name {
			return v, true
		}
	}
	return Value{}, false
}

// Extract computes the features of the ROI label in mask on img under settings s. A label of 0
// uses s.Label. It is ExtractContext without cancellation.
func Extract(img *image.Volume, mask *image.Labels, label int, s Settings) (*Result, error) {
	return ExtractContext(context.Background(), img, mask, label, s)
}

// ExtractContext computes the features of one ROI. Image types and feature families run in
// parallel (GOMAXPROCS goroutines). Input problems (empty or too small ROI, grid mismatch, NaN
// voxels, 2D input without force2D) are errors; undefined feature values are NaN with a reason.
func ExtractContext(ctx context.Context, img *image.Volume, mask *image.Labels, label int, s Settings) (*Result, error) {
	if img == nil || mask == nil {
		return nil, fmt.Errorf("radiomics: no image or mask")
	}
	if label <= 0 {
		label = s.Label
	}
	if label <= 0 || label > 255 {
		return nil, fmt.Errorf("radiomics: label %d: want 1…255", label)
	}
	if len(s.ImageTypes) == 0 {
		s.ImageTypes = []ImageType{{Name: "Original", Settings: s}}
	}
	if len(img.Data) != img.Len() || len(mask.Data) != mask.Len() {
		return nil, fmt.Errorf("radiomics: image or mask data do not match their size")
	}
	if err := mask.Grid.Validate(); err != nil {
		return nil, fmt.Errorf("radiomics: mask: %w", err)
	}
	if !img.SameGrid(mask.Grid, s.GeometryTolerance) {
		if !s.CorrectMask {
			return nil, fmt.Errorf("radiomics: mask grid (size %v, spacing %v, origin %v) differs from image grid (size %v, spacing %v, origin %v); set correctMask: true to resample the mask: %w",
				mask.Size, mask.Spacing, mask.Origin, img.Size, img.Spacing, img.Origin, image.ErrGridMismatch)
		}
		mask = resampleLabels(mask, img.Grid)
	}
	for i, x := range img.Data {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%w: voxel %d (i=%d j=%d k=%d) is %v", ErrNaN, i, i%img.Size[0], i/img.Size[0]%img.Size[1], i/(img.Size[0]*img.Size[1]), x)
		}
	}
	if img.Size[2] == 1 && !s.Force2D {
		return nil, fmt.Errorf("%w: the image has one slice (size %v); set force2D: true for 2D features", Err2D, img.Size)
	}
	lo, hi, n := labelBBox(mask, uint8(label))
	if n == 0 {
		return nil, fmt.Errorf("%w: no voxel has label %d", ErrEmptyMask, label)
	}
	dims := 0
	for a := 0; a < 3; a++ {
		if hi[a] > lo[a] {
			dims++
		}
	}
	minDims := max(s.MinimumROIDimensions, 1)
	if n == 1 || dims < minDims {
		return nil, fmt.Errorf("%w: label %d has %d voxel(s) spanning %d dimension(s); at least %d dimensions are needed (minimumROIDimensions)",
			ErrROITooSmall, label, n, dims, minDims)
	}
	if s.MinimumROISize > 0 && n < s.MinimumROISize {
		return nil, fmt.Errorf("%w: label %d has %d voxels, minimumROISize is %d", ErrROITooSmall, label, n, s.MinimumROISize)
	}
	src := img
	if s.Normalize {
		src = normalise(img, s)
	}
	pad := s.PadDistance
	radius := oneCCRadius
	if s.IBSI != nil {
		if s.IBSI.LocalIntensityRadius > 0 {
			radius = s.IBSI.LocalIntensityRadius
		}
		sp := math.Min(img.Spacing[0], math.Min(img.Spacing[1], img.Spacing[2]))
		if len(s.ResampledPixelSpacing) > 0 {
			for _, x := range s.ResampledPixelSpacing {
				if x > 0 {
					sp = math.Min(sp, x)
				}
			}
		}
		pad = max(pad, int(math.Ceil(radius/sp))+1)
	}
	var r region
	if len(s.ResampledPixelSpacing) > 0 {
		rs := s
		rs.PadDistance = pad
		var err error
		inROI := make([]bool, len(mask.Data))
		for i, l := range mask.Data {
			inROI[i] = int(l) == label
		}
		if r, err = resample(src, inROI, lo, hi, rs); err != nil {
			return nil, err
		}
	} else {
		r = crop(src, mask, uint8(label), lo, hi, filterPad(s, img.Spacing, pad))
	}
	resegment(&r, s)
	_, _, nMorph := bbox(r.grid, func(i int) bool { return r.morph[i] })
	_, _, nInt := bbox(r.grid, func(i int) bool { return r.inten[i] })
	if nMorph == 0 {
		return nil, fmt.Errorf("%w: no voxel of label %d is left after resampling", ErrEmptyMask, label)
	}
	if nInt == 0 {
		return nil, fmt.Errorf("%w: resegmentation (range %v, mode %s) removed every voxel of label %d", ErrEmptyMask, s.ResegmentRange, s.ResegmentMode, label)
	}
	if s.ResegmentShape {
		r.morph = append([]bool(nil), r.inten...)
	}
	e := &extraction{ctx: ctx, s: s, r: r, radius: radius}
	res, err := e.run()
	if err != nil {
		return nil, err
	}
	res.Diagnostics = map[string]string{
		"research_use":          "research use only, not for diagnostic use",
		"label":                 fmt.Sprint(label),
		"image_size":            fmt.Sprint(img.Size),
		"image_spacing":         fmt.Sprint(img.Spacing),
		"roi_voxels":            fmt.Sprint(n),
		"roi_bounding_box":      fmt.Sprintf("%v…%v", lo, hi),
		"processed_spacing":     fmt.Sprint(r.grid.Spacing),
		"processed_roi_voxels":  fmt.Sprint(nMorph),
		"intensity_mask_voxels": fmt.Sprint(nInt),
		"definitions":           map[bool]string{true: "IBSI", false: "PyRadiomics"}[s.IBSI != nil],
	}
	return res, nil
}

// filterPad is the margin (voxels per axis) kept around the ROI for the filters. PyRadiomics filters
// the whole image unless preCrop is set (or resampling crops it), so the margin must cover the
// filters' reach for the ROI's values to be the same: 4σ for LoG, the dilated filter length for
// the wavelet levels; pointwise and 3×3×3 filters need no more than padDistance.
func filterPad(s Settings, spacing [3]float64, pad int) [3]int {
	out := [3]int{pad, pad, pad}
	if s.PreCrop {
		return out
	}
	for _, it := range s.ImageTypes {
		reach := [3]int{}
		switch it.Name {
		case "LoG":
			for _, sigma := range it.Settings.Sigma {
				for a := 0; a < 3; a++ {
					reach[a] = max(reach[a], int(math.Ceil(4*sigma/spacing[a]))+1)
				}
			}
		case "Wavelet":
			lo, _, err := waveletFilters(it.Settings.Wavelet)
			if err != nil {
				continue // Extract reports the unknown wavelet when it applies the filter
			}
			levels := it.Settings.StartLevel + max(it.Settings.Level, 1)
			w := (len(lo) - 1) * (1<<levels - 1)
			reach = [3]int{w, w, w}
		case "LBP3D":
			w := int(math.Ceil(it.Settings.LBP3DIcosphereRadius)) + 2
			reach = [3]int{w, w, w}
		}
		for a := 0; a < 3; a++ {
			out[a] = max(out[a], reach[a])
		}
	}
	return out
}

// extraction is one run of the feature families over the image types.
type extraction struct {
	ctx    context.Context
	s      Settings
	r      region
	radius float64
}

// task computes one family on one image; results land in slot.
type task struct {
	run  func() ([]Feature, error)
	it   string // image type name for the results
	slot int
	cost int // relative cost: expensive tasks start first so the workers finish together
}

// familyCost ranks the families by their measured time (BENCHMARKS.md) for scheduling.
var familyCost = map[string]int{"ngl": 6, "gldm": 6, "ngt": 5, "ngtdm": 5, "morph": 9, "shape": 4, "szm": 4, "glszm": 4,
	"dzm": 4, "cm": 4, "glcm": 4, "rlm": 3, "glrlm": 3, "loc": 3, "firstorder": 1, "stat": 1, "ih": 1, "ivh": 1, "shape2D": 1}

func (e *extraction) enabled(class string) ([]string, bool) {
	names, ok := e.s.FeatureClasses[class]
	return names, ok
}

// ibsiEnabled reports whether IBSI family fam is enabled (directly or through its PyRadiomics class).
func (e *extraction) ibsiEnabled(fam string) ([]string, bool) {
	if names, ok := e.s.FeatureClasses[fam]; ok {
		return names, true
	}
	for class, fams := range map[string][]string{
		"shape": {"morph"}, "firstorder": {"loc", "stat", "ih", "ivh"}, "glcm": {"cm"}, "glrlm": {"rlm"},
		"glszm": {"szm", "dzm"}, "gldm": {"ngl"}, "ngtdm": {"ngt"},
	} {
		if _, ok := e.s.FeatureClasses[class]; ok && contains(fams, fam) {
			return nil, true
		}
	}
	return nil, false
}

// deprecated lists PyRadiomics features that are computed only when asked for by name.
var deprecated = map[string]bool{
	"firstorder.StandardDeviation": true, "shape.Compactness1": true, "shape.Compactness2": true,
	"shape.SphericalDisproportion": true, "shape2D.SphericalDisproportion": true,
}

// selectFeatures keeps the features asked for: names nil = the defaults; otherwise the listed
// PyRadiomics names or IBSI tags (with or without the aggregation suffix).
func selectFeatures(fs []Feature, names []string, ibsi bool, class string) ([]Feature, error) {
	var out []Feature
	if len(names) == 0 {
		for _, f := range fs {
			if !ibsi && deprecated[f.Class+"."+f.PyRadiomics] {
				continue
			}
			out = append(out, f)
		}
		return out, nil
	}
	found := map[string]bool{}
	for _, f := range fs {
		for _, n := range names {
			if n == f.PyRadiomics || n == f.IBSI || (f.IBSI != "" && strings.HasPrefix(f.IBSI, n+"_") && ibsi) {
				found[n] = true
				out = append(out, f)
				break
			}
		}
	}
	for _, n := range names {
		if !found[n] {
			return nil, fmt.Errorf("radiomics: featureClass.%s: unknown feature %q", class, n)
		}
	}
	return out, nil
}

func (e *extraction) run() (*Result, error) {
	r := e.r
	s := e.s
	ibsi := s.IBSI != nil
	var tasks []task
	add := func(it, family string, f func() ([]Feature, error)) {
		tasks = append(tasks, task{run: f, it: it, slot: len(tasks), cost: familyCost[family]})
	}
	shapeIn := shapeInput{size: r.grid.Size, spacing: r.grid.Spacing, morph: r.morph, inten: r.inten, img: r.img}
	if ibsi {
		if names, ok := e.ibsiEnabled("morph"); ok {
			add("original", "morph", func() ([]Feature, error) {
				return selectFeatures(morphologyFeatures(e.ctx, shapeIn, computeGeometry(shapeIn)), names, true, "morph")
			})
		}
	} else {
		if names, ok := e.enabled("shape"); ok { // 3D shape, with or without force2D, as PyRadiomics
			add("original", "shape", func() ([]Feature, error) {
				return selectFeatures(shapeFeatures(shapeIn, computeGeometry(shapeIn)), names, false, "shape")
			})
		}
		if names, ok := e.enabled("shape2D"); ok {
			if !s.Force2D {
				return nil, fmt.Errorf("radiomics: featureClass.shape2D: needs force2D: true")
			}
			add("original", "shape2D", func() ([]Feature, error) {
				fs, err := shape2DFeatures(shapeIn, s.Force2DDimension)
				if err != nil {
					return nil, err
				}
				return selectFeatures(fs, names, false, "shape2D")
			})
		}
	}
	vol := &image.Volume{Grid: r.grid, Data: r.img}
	for _, it := range s.ImageTypes {
		images, err := derivedImages(e.ctx, it, vol, r.morph)
		if err != nil {
			return nil, err
		}
		for _, d := range images {
			e.addImageTasks(add, d.name, d.data, it.Settings)
		}
	}
	results := make([][]Feature, len(tasks))
	errs := make([]error, len(tasks))
	order := make([]int, len(tasks))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return tasks[order[a]].cost > tasks[order[b]].cost })
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, i := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := e.ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			results[i], errs[i] = tasks[i].run()
		}(i)
	}
	wg.Wait()
	res := &Result{}
	for i, t := range tasks {
		if errs[i] != nil {
			return nil, errs[i]
		}
		for _, f := range results[i] {
			res.Features = append(res.Features, Value{ImageType: t.it, Feature: f})
		}
	}
	return res, nil
}

// namedImage is one derived image (original, log-sigma-…, wavelet-…).
type namedImage struct {
	name string
	data []float64
}

// addImageTasks queues the intensity and texture families of one derived image.
func (e *extraction) addImageTasks(add func(string, string, func() ([]Feature, error)), name string, img []float64, s Settings) {
	r := e.r
	ibsi := s.IBSI != nil
	// Sorted ROI values, binning and the texture input are computed once, when first needed.
	var onceValues, onceDisc sync.Once
	var values []float64
	var bin binning
	roi := func() ([]float64, binning) {
		onceValues.Do(func() {
			values = roiValues(&r, img)
			bin = newBinning(values, s)
		})
		return values, bin
	}
	var disc *Discretised
	discretised := func() *Discretised {
		onceDisc.Do(func() {
			_, b := roi()
			disc = discretise(&r, img, b)
		})
		return disc
	}
	levels := func() []int32 {
		_, bin := roi()
		var l []int32
		for i, in := range r.inten {
			if in {
				l = append(l, bin.level(img[i]))
			}
		}
		return l
	}
	sin := shapeInput{size: r.grid.Size, spacing: r.grid.Spacing, morph: r.morph, inten: r.inten, img: img}
	if ibsi {
		if names, ok := e.ibsiEnabled("loc"); ok {
			add(name, "loc", func() ([]Feature, error) {
				return selectFeatures(localIntensityFeatures(sin, e.radius), names, true, "loc")
			})
		}
		if names, ok := e.ibsiEnabled("stat"); ok {
			add(name, "stat", func() ([]Feature, error) {
				values, _ := roi()
				return selectFeatures(statFeatures(values), names, true, "stat")
			})
		}
		if names, ok := e.ibsiEnabled("ih"); ok {
			add(name, "ih", func() ([]Feature, error) {
				return selectFeatures(histogramFeatures(levels(), discretised().NG), names, true, "ih")
			})
		}
		if names, ok := e.ibsiEnabled("ivh"); ok {
			add(name, "ivh", func() ([]Feature, error) {
				values, ivhBin := roi()
				ng := discretised().NG
				lv := levels()
				if s.IBSI.IVHBinWidth > 0 {
					ivhBin = binning{width: s.IBSI.IVHBinWidth, low: values[0]}
					if len(s.ResegmentRange) > 0 && s.ResegmentMode == "absolute" {
						ivhBin.low = s.ResegmentRange[0]
					}
					lv = lv[:0]
					ng = 0
					for i, in := range r.inten {
						if in {
							l := ivhBin.level(img[i])
							lv = append(lv, l)
							ng = max(ng, int(l))
						}
					}
				}
				return selectFeatures(ivhFeatures(lv, ng, ivhBin.value), names, true, "ivh")
			})
		}
	} else if names, ok := e.enabled("firstorder"); ok {
		add(name, "firstorder", func() ([]Feature, error) {
			values, _ := roi()
			sp := r.grid.Spacing
			return selectFeatures(firstOrderFeatures(values, levels(), s.VoxelArrayShift, sp[0]*sp[1]*sp[2]), names, false, "firstorder")
		})
	}
	opt := s.TextureOptions()
	for _, fam := range textureFamilies {
		var names []string
		var ok bool
		if ibsi {
			names, ok = e.ibsiEnabled(fam.ibsi)
		} else if fam.class != "" {
			names, ok = e.enabled(fam.class)
		}
		if !ok {
			continue
		}
		fam := fam
		add(name, fam.ibsi, func() ([]Feature, error) {
			fs, err := fam.fn(e.ctx, discretised(), opt)
			if err != nil {
				return nil, fmt.Errorf("radiomics: %s on %s: %w", fam.ibsi, name, err)
			}
			key := fam.class
			if ibsi {
				key = fam.ibsi
			}
			return selectFeatures(fs, names, ibsi, key)
		})
	}
}
