package radiomics

// This file is the contract between the feature engine (image I/O, pre-processing, morphology,
// intensity families, settings, CLI) and the texture families and filters (texture_*.go, filter_*.go).

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
	IBSI        string  // IBSI tag without the aggregation suffix? No: the full tag, e.g. "cm_joint_max_3D_avg"
	PyRadiomics string  // PyRadiomics feature name within its class, e.g. "JointMaximum" ("" if none)
	Class       string  // PyRadiomics class, e.g. "glcm" ("" if none)
	Value       float64 // NaN when undefined; see Reason
	Reason      string  // why the value is undefined, e.g. "single grey level"
}
