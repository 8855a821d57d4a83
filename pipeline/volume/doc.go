// Package volume turns a study's DICOM instances into 3D volumes: it groups instances by series, orders slices
// by the projection of ImagePositionPatient onto the slice normal, checks orientation, spacing, size and gaps,
// applies the modality rescale, supports Enhanced MR (multi-frame with per-frame functional groups), and returns
// an image.Volume on an LPS grid. It also chooses the T1 and STIR series by configurable rules (saying why each
// series was chosen or rejected), resamples T1 onto the STIR grid, and reads a provided DICOM SEG as a label map.
//
// Errors that concern one series are *SeriesError values whose message names the series and the reason, so a
// study's status can show them.
//
// Imports: the standard library, pipeline/image, pipeline/dcmread, github.com/suyashkumar/dicom (parsing only).
package volume
