package image

import (
	"fmt"
	"strings"
)

// ReadVolumeFile reads a volume, choosing the format from the file name: .nrrd or .nhdr (NRRD),
// .nii or .nii.gz (NIfTI-1).
func ReadVolumeFile(path string) (*Volume, error) {
	switch l := strings.ToLower(path); {
	case strings.HasSuffix(l, ".nrrd"), strings.HasSuffix(l, ".nhdr"):
		return ReadNRRDVolume(path)
	case strings.HasSuffix(l, ".nii"), strings.HasSuffix(l, ".nii.gz"):
		return ReadNIfTIVolume(path)
	}
	return nil, fmt.Errorf("%s: unknown image format (want .nrrd, .nhdr, .nii or .nii.gz)", path)
}

// ReadLabelsFile reads a label map (integer voxels 0…255) in any format ReadVolumeFile knows.
func ReadLabelsFile(path string) (*Labels, error) {
	v, err := ReadVolumeFile(path)
	return labelsOf(path, v, err)
}

// labelsOf converts a volume just read from path into a label map.
func labelsOf(path string, v *Volume, err error) (*Labels, error) {
	if err != nil {
		return nil, err
	}
	m, err := v.ToLabels()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
