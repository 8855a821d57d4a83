// Package radiomics computes IBSI-compliant and PyRadiomics-compatible radiomics features of a
// region of interest (ROI) in a 3D image: pre-processing (normalisation, resampling, cropping,
// resegmentation, discretisation), the morphological, local intensity, intensity statistics,
// intensity histogram and intensity-volume histogram families (this package's engine files), the
// texture families GLCM, GLRLM, GLSZM, GLDZM, NGTDM, NGLDM (texture_*.go) and the image filters
// LoG, wavelet, square, square root, logarithm, exponential, gradient, LBP (filter_*.go). No Go
// radiomics library exists, so all of it is hand-written here.
//
// # Use
//
//	s, err := radiomics.ReadSettings("params/pyradiomics-default.yaml") // or DefaultSettings()
//	res, err := radiomics.Extract(img, mask, label, s)                  // img *image.Volume, mask *image.Labels
//	for _, v := range res.Features {
//		name := v.Name(radiomics.NamingPyRadiomics) // "original_glcm_Contrast"; NamingIBSI: "cm_contrast_3D_avg"
//		_ = v.Value                                  // NaN when undefined; v.Reason says why
//	}
//
// Extract runs image types and families in parallel (GOMAXPROCS goroutines); ExtractContext adds
// cancellation. Input problems are errors (ErrEmptyMask, ErrROITooSmall, ErrNaN, Err2D,
// image.ErrGridMismatch, unknown parameter keys); an undefined value is NaN with a reason.
//
// # Settings
//
// Settings come from a PyRadiomics parameter file (YAML) with its sections and keys: `setting`
// (minimumROIDimensions, minimumROISize, geometryTolerance, correctMask, additionalInfo, label,
// binWidth, binCount, normalize, normalizeScale, removeOutliers, resampledPixelSpacing,
// interpolator, padDistance, preCrop, resegmentRange, resegmentMode, resegmentShape, force2D,
// force2Ddimension, distances, symmetricalGLCM, weightingNorm, gldm_a, voxelArrayShift, sigma,
// start_level, level, wavelet, gradientUseSpacing, lbp2D*/lbp3D*), `imageType` (Original, LoG,
// Wavelet, Square, SquareRoot, Logarithm, Exponential, Gradient, LBP2D, LBP3D, each with its own
// setting overrides) and `featureClass` (firstorder, shape, shape2D, glcm, glrlm, glszm, gldm,
// ngtdm; a list selects features, an empty value the defaults, deprecated ones only by name).
// Defaults are PyRadiomics' (binWidth 25, sitkBSpline, padDistance 5, distances [1], symmetric GLCM,
// …). An unknown key is an error naming it.
//
// sacrum's IBSI mode is the key `setting: {ibsi: {...}}`; its presence selects the IBSI
// definitions (below) and allows IBSI family names in featureClass (morph, loc, stat, ih, ivh, cm,
// rlm, szm, dzm, ngt, ngl). Its keys:
//
//	binningConvention     ibsi (default): fixed bin size counted from the lower resegmentation
//	                      bound, else the ROI minimum; pyradiomics: bin edges at multiples of binWidth
//	aggregations          texture aggregations: 2D_avg 2D_comb 2_5D_avg 2_5D_comb 3D_avg 3D_comb
//	                      (GLCM, GLRLM) and 2D 2_5D 3D (the others); default all
//	gridAlignment         resampling grid: centre (IBSI, default) or corner (PyRadiomics)
//	maskInterpolation     linear (IBSI, default: interpolate, then threshold) or nearest (PyRadiomics)
//	maskThreshold         threshold of the interpolated mask (default 0.5)
//	ivhBinWidth           discretisation of the intensity-volume histogram (default: the texture
//	                      discretisation's grey levels, as for the IBSI digital phantom)
//	localIntensityRadius  local intensity sphere radius in mm (default 6.2035: 1 cm³)
//
// params/ibsi-phantom.yaml reproduces all 482 values of the IBSI digital phantom reference table
// (TestIBSIPhantom; the same through `sacrum radiomics`); params/pyradiomics-default.yaml writes out
// PyRadiomics' defaults.
//
// # Pre-processing (IBSI 1, chapter 2)
//
// In order: normalisation of the whole image (PyRadiomics normalize: z-score with the sample
// standard deviation as SimpleITK, clipped at ±removeOutliers, times normalizeScale); resampling
// (nearest neighbour, trilinear or cubic B-spline with Unser's prefilter and mirror boundaries; the
// grid aligned at the centres (IBSI) or the corners (PyRadiomics); the mask interpolated linearly and
// thresholded (IBSI) or by nearest neighbour (PyRadiomics); axes whose ROI is one voxel thick or
// whose spacing is 0 keep their spacing); cropping to the ROI plus padDistance voxels, or plus the
// filters' reach (4σ for LoG, the dilated wavelet filter) unless preCrop, because PyRadiomics then
// filters the whole image, and plus the local intensity sphere in IBSI mode; resegmentation into the intensity mask (absolute range, range
// relative to the ROI maximum, or mean ± k·σ, e.g. [-3, 3] for IBSI's outlier filtering), the
// morphological mask staying the ROI (unless resegmentShape); discretisation by fixed bin number or
// fixed bin size (both conventions above). voxelArrayShift is added for Energy, TotalEnergy and
// RootMeanSquared only, as in PyRadiomics.
//
// # IBSI and PyRadiomics, feature by feature
//
// The definitions follow the parameter file: IBSI mode (`setting: ibsi`) computes the IBSI
// families with IBSI definitions; otherwise the PyRadiomics classes with PyRadiomics definitions.
// The naming mode only names: --naming pyradiomics gives <imageType>_<class>_<Feature>
// (original_firstorder_Mean, wavelet-LLH_glcm_Contrast, log-sigma-3-0-mm-3D_glszm_ZoneEntropy;
// IBSI-only features <imageType>_ibsi_<tag>); --naming ibsi gives the IBSI tag (stat_mean,
// cm_joint_max_3D_avg; <imageType>_<tag> on filtered images). A PyRadiomics feature carries an
// IBSI tag only where its definition equals IBSI's; otherwise it keeps its PyRadiomics name.
//
//	feature                       IBSI                              PyRadiomics                               IBSI tag on PyRadiomics value
//	fixed bin size                bins from X_min (reseg. bound)    bins at multiples of binWidth             (setting binningConvention)
//	fixed bin number              equal                             equal                                     —
//	Mean, Variance, Median, Min,  equal (population variance)       equal                                     stat_* yes
//	 Max, Range, P10, P90, IQR,
//	 MAD, robust MAD
//	Skewness                      undefined (NaN) if σ = 0          0 if σ = 0                                stat_skew yes (differs only when flat)
//	Kurtosis                      excess: m4/m2² − 3 (stat_kurt)    m4/m2² (IBSI + 3)                         no
//	Energy, RootMeanSquared       Σx², √(Σx²/N)                     with voxelArrayShift added                stat_energy/stat_rms only if shift = 0
//	TotalEnergy, StandardDev.     —                                 Energy × voxel volume; σ (deprecated)     no
//	Entropy, Uniformity           ih_entropy, ih_uniformity (log2)  on the binned values, log2(p + ε)         yes
//	stat_medad, stat_cov,         yes                               —                                         IBSI mode only
//	 stat_qcod, ih_*, ivh_*,
//	 loc_peak_loc/glob
//	MeshVolume, SurfaceArea,      marching cubes at 0.5             same mesh (non-planar patches            yes
//	 SurfaceVolumeRatio,                                             triangulated to enclose most volume)
//	 Sphericity, Max3DDiameter
//	VoxelVolume                   morph_vol_approx                  equal                                     yes
//	Compactness1/2, Spherical     morph_comp_1/2, morph_sph_dispr   deprecated: computed only when named      yes
//	 Disproportion
//	Major/Minor/LeastAxisLength   4√λ of the sample covariance      4√λ of the population covariance          no (factor √(N/(N−1)))
//	 (PCA)                         (N−1; the IBSI reference)          (N)
//	Elongation, Flatness          √(λ₂/λ₁), √(λ₃/λ₁)                equal (ratios)                            yes
//	Maximum2DDiameter Slice/      —                                 largest vertex distance in k/j/i planes   no
//	 Column/Row
//	asphericity, centre of mass   yes (OMBB: smallest box with a    —                                         IBSI mode only
//	 shift, AABB/OMBB/AEE/MVEE/   face on a hull face; MVEE:
//	 hull densities, integrated   Khachiyan–Todd–Yıldırım; Moran/Geary exact
//	 intensity, Moran's I,        over all pairs, by FFT)
//	 Geary's C
//	shape2D                       —                                 MeshSurface, Perimeter, … (force2D)       no
//	GLCM                          per aggregation 2D/2.5D/3D,       3D, per-direction matrices averaged       cm_*_3D_avg where equal
//	                              avg/comb; all Ng levels           (≈ 3D_avg), absent grey levels removed,
//	                                                                 weightingNorm merges (≈ 3D_comb)
//	GLRLM, GLSZM, NGTDM           per aggregation                   3D (2.5D with force2D)                    rlm/szm/ngt tags where equal
//	GLDM (PyRadiomics)            NGLDM (ngl_*), α = gldm_a          dependence counted with the centre         ngl tags where equal
//	GLDZM                         dzm_*                             —                                         IBSI mode only
//
// The texture families document their own details (texture_*.go).
//
// Imports: the standard library, gonum, go.yaml.in/yaml/v3 and pipeline/image.
package radiomics
