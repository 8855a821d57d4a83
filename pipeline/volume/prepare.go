package volume

import (
	"context"
	"fmt"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// Prepared is a study ready for segmentation and features: the selection, the STIR volume, the T1 volume
// resampled onto the STIR grid (nil when the study has no T1), and the provided segmentation (nil when none).
type Prepared struct {
	Selection *Selection
	STIR      *image.Volume
	T1        *image.Volume
	Provided  *image.Labels // label map of a DICOM SEG referencing the STIR series, on the STIR grid
	// T1Resampled says whether T1 was on another grid and had to be resampled.
	T1Resampled bool
	Elapsed     time.Duration
}

// Prepare selects the series of a study, assembles them and brings T1 onto the STIR grid. An unusable T1
// series is an error (it was chosen, so the study is inconsistent), as is an unusable provided SEG.
func Prepare(ctx context.Context, st *Study, cfg SelectionConfig) (*Prepared, error) {
	start := time.Now()
	sel, err := Select(st, cfg)
	if err != nil {
		return nil, err
	}
	p := &Prepared{Selection: sel}
	if p.STIR, err = Assemble(sel.STIR); err != nil {
		return nil, fmt.Errorf("STIR: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if sel.T1 != nil {
		// Resampling works in patient coordinates, which only a shared frame of reference makes common.
		if a, b := sel.STIR.Instances[0].FrameOfReferenceUID, sel.T1.Instances[0].FrameOfReferenceUID; a != "" && b != "" && a != b {
			return nil, &SeriesError{Series: sel.T1.Name(), Reason: fmt.Sprintf("FrameOfReferenceUID %s differs from the STIR series' %s: the two cannot be registered by their coordinates", b, a)}
		}
		t1, err := Assemble(sel.T1)
		if err != nil {
			return nil, fmt.Errorf("T1: %w", err)
		}
		p.T1 = Resample(t1, p.STIR.Grid)
		p.T1Resampled = p.T1 != t1
	}
	if sel.Segment != nil {
		if p.Provided, err = SegmentationLabels(sel.Segment, p.STIR.Grid); err != nil {
			return nil, fmt.Errorf("provided segmentation: %w", err)
		}
	}
	p.Elapsed = time.Since(start)
	return p, nil
}
