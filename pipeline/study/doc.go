// Package study analyses one study's DICOM files: series selection (with the reason for every series),
// the STIR volume and the T1 volume on the STIR grid, the label map of the two sacroiliac-joint regions
// (from the segmentation model, or from a DICOM SEG that came with the study: "provided segmentation"),
// the deep-feature maps of every encoder (kept for class-activation heat maps), and the image features of
// each region: radiomics with the configured parameter file and the encoders' pooled deep features.
// `sacrum serve` (through pipeline/node), `sacrum predict` and `sacrum features` share it, so a feature has
// the same value offline, in training and in the node.
//
// Label maps given to Features must be on the STIR grid; OnGrid also accepts the same voxel lattice stored
// with flipped or permuted axes (NIfTI files), copying voxels exactly, and refuses anything else (labels are
// never interpolated).
//
// # Feature names
//
// A feature is named "<roi>_<name>": roi is left (label 1), right (label 2) or both (labels 1 and 2);
// name is the PyRadiomics name of a radiomics feature (e.g. original_firstorder_Mean,
// original_glcm_JointEntropy) or an encoder channel deep_<model>_<k> (infer.FeatureName), e.g.
// left_original_firstorder_Mean, both_deep_deep_encoder_3. Features.Names lists them in a fixed order:
// ROIs left, right, both; within a ROI the radiomics features in extraction order, then the deep features
// in channel order.
//
// # features.csv (`sacrum features`)
//
// One header line, then one row per patient and reader, rows ordered by patient_id then reader:
//
//	patient_id,reader,<feature>,<feature>,...
//	SYN0001,1,123.4,...
//	SYN0001,2,121.9,...
//
// patient_id is the cohort's patient directory name (clinical.csv's patient_id), reader is 1 or 2 (the
// label map labels/reader<N>.nii.gz the row was computed on), and the feature columns are the names above
// in Features.Names order (the union over patients, first-seen order). Values are written with
// strconv 'g' -1 (shortest exact float64). An empty cell is an undefined value (NaN, e.g. a texture
// feature of a single grey level); a trainer drops such features or handles them explicitly.
//
// Imports: the standard library, pipeline/image, pipeline/volume, pipeline/infer, pipeline/radiomics (tests:
// pipeline/synth).
package study
