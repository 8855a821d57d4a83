// Package image holds the 3D image model shared by the pipeline: a float volume or a label map on a
// voxel grid with spacing, origin and direction in DICOM patient coordinates (LPS), and readers and
// writers for NIfTI-1 (.nii, .nii.gz). NRRD and DICOM readers live beside it in their own files.
//
// Imports: the standard library only (plus gonum for small matrix helpers if needed).
package image
