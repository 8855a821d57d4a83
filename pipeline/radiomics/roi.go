package radiomics

// This file is the contract between the feature engine (image I/O, pre-processing, morphology,
// intensity families, settings, CLI) and the texture families and filters (texture_*.go, filter_*.go).
//
// Change log for the texture/filter helper: added TextureOptions (the engine fills it from the
// parameter file and passes it to every texture family); Discretised and Feature are unchanged.

// Discretised is a region of interest after pre-processing and discretisation: the input of the
// texture families (GLCM, GLRLM, GLSZM, GLDZM, NGTDM, NGLDM, PyRadiomics GLDM).
type Discretised struct {
	Size    [3]int     // voxels along i, j, k (i fastest); cropped to the ROI bounding box (+ margin as needed)
	Spacing [3]float64 // mm
	// Level holds the grey level 1…NG of each voxel in the intensity mask (the ROI after
	// resegmentation) and 0 outside it.
	Level []int32
	// Morph is the morphological mask (the ROI before resegmentation); GLDZM distances use it (IBSI 3.7).
	Morph []bool
	NG    int // number of grey levels (highest possible level)
}

// Feature is one computed feature value with its names in both conventions.
type Feature struct {
	IBSI        string  // the full IBSI tag with its aggregation suffix, e.g. "cm_joint_max_3D_avg" ("" if none)
	PyRadiomics string  // PyRadiomics feature name within its class, e.g. "JointMaximum" ("" if none)
	Class       string  // PyRadiomics class, e.g. "glcm" ("" if none)
	Value       float64 // NaN when undefined; see Reason
	Reason      string  // why the value is undefined, e.g. "single grey level"
}

// TextureOptions configures the texture families. Extract fills it from Settings; the zero value is
// not meaningful (use DefaultTextureOptions).
type TextureOptions struct {
	// IBSI selects IBSI definitions and tags (every aggregation listed in Aggregations, e.g.
	// "cm_joint_max_3D_avg"); false selects PyRadiomics definitions (its classes glcm, glrlm, glszm,
	// gldm, ngtdm with PyRadiomics names, 3D, per-direction averaging, absent grey levels removed).
	IBSI bool
	// Aggregations (IBSI mode only) lists the IBSI aggregation suffixes to compute: "2D_avg",
	// "2D_comb", "2_5D_avg", "2_5D_comb", "3D_avg", "3D_comb" (GLCM, GLRLM) and "2D", "2_5D", "3D"
	// (GLSZM, GLDZM, NGTDM, NGLDM). Empty means all of them.
	Aggregations []string
	// Distances are the neighbour distances (Chebyshev; PyRadiomics `distances`, default [1]).
	Distances []int
	// Symmetrical makes the GLCM symmetrical (PyRadiomics `symmetricalGLCM`, default true).
	Symmetrical bool
	// WeightingNorm weights GLCM/GLRLM directions by distance (PyRadiomics `weightingNorm`: "",
	// "manhattan", "euclidean", "infinity", "no_weighting"); "" means per-direction averaging.
	WeightingNorm string
	// Alpha is the coarseness parameter of the GLDM / NGLDM dependence (PyRadiomics `gldm_a`,
	// IBSI NGLDM α; default 0).
	Alpha int
	// Force2D computes the PyRadiomics classes in 2D slices along Force2DDimension (0 = k, the
	// slice axis; 1 = j; 2 = i), as PyRadiomics `force2D` / `force2Ddimension`.
	Force2D          bool
	Force2DDimension int
}

// DefaultTextureOptions returns PyRadiomics' defaults.
func DefaultTextureOptions() TextureOptions {
	return TextureOptions{Distances: []int{1}, Symmetrical: true}
}
