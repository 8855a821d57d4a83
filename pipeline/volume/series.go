package volume

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// Series is the instances of one SeriesInstanceUID with the attributes series selection looks at.
type Series struct {
	UID              string
	Number           int
	Description      string
	Protocol         string
	Modality         string
	SOPClassUID      string
	ScanningSequence []string
	InversionTime    float64
	RepetitionTime   float64
	EchoTime         float64
	Instances        []*Instance
}

// Name identifies the series for people: number, description and UID.
func (s *Series) Name() string {
	return fmt.Sprintf("series %d %q (%s)", s.Number, s.Description, s.UID)
}

// IsSegmentation reports whether the series holds DICOM SEG objects.
func (s *Series) IsSegmentation() bool { return s.SOPClassUID == SOPClassSegment }

// SeriesError is an inconsistency in one series; its message names the series and says why.
type SeriesError struct {
	Series string // Series.Name()
	Reason string
}

func (e *SeriesError) Error() string { return e.Series + ": " + e.Reason }

// Study is the parsed content of a folder or of a list of files.
type Study struct {
	Series  []*Series
	Skipped []string // "path: reason" for files that are not usable DICOM images
}

// ReadDir parses every regular file under dir (recursively). Files that are not DICOM images are listed in
// Skipped with the reason, not treated as errors, because study folders often carry DICOMDIR or README files.
func ReadDir(ctx context.Context, dir string) (*Study, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("volume: reading %s: %w", dir, err)
	}
	return ReadFiles(ctx, paths)
}

// ReadFiles parses the given files and groups them by series (see ReadDir).
func ReadFiles(ctx context.Context, paths []string) (*Study, error) {
	st := &Study{}
	var instances []*Instance
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in, err := ParseFile(p)
		if err != nil {
			st.Skipped = append(st.Skipped, err.Error())
			continue
		}
		instances = append(instances, in)
	}
	st.Series = Group(instances)
	return st, nil
}

// Group groups instances by SeriesInstanceUID, ordered by series number then UID. The series attributes are
// taken from the first instance (by instance number).
func Group(instances []*Instance) []*Series {
	by := map[string]*Series{}
	var out []*Series
	for _, in := range instances {
		s := by[in.SeriesUID]
		if s == nil {
			s = &Series{UID: in.SeriesUID}
			by[in.SeriesUID] = s
			out = append(out, s)
		}
		s.Instances = append(s.Instances, in)
	}
	for _, s := range out {
		sort.SliceStable(s.Instances, func(a, b int) bool {
			if s.Instances[a].InstanceNumber != s.Instances[b].InstanceNumber {
				return s.Instances[a].InstanceNumber < s.Instances[b].InstanceNumber
			}
			return s.Instances[a].Path < s.Instances[b].Path
		})
		f := s.Instances[0]
		s.Number, s.Description, s.Protocol, s.Modality = f.SeriesNumber, f.SeriesDescription, f.ProtocolName, f.Modality
		s.SOPClassUID, s.ScanningSequence = f.SOPClassUID, f.ScanningSequence
		s.InversionTime, s.RepetitionTime, s.EchoTime = f.InversionTime, f.RepetitionTime, f.EchoTime
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Number != out[b].Number {
			return out[a].Number < out[b].Number
		}
		return out[a].UID < out[b].UID
	})
	return out
}

// Tolerances of the consistency checks.
const (
	orientationTol = 1e-3 // direction cosines
	spacingRelTol  = 1e-3 // relative, pixel spacing between instances
	sliceRelTol    = 0.1  // relative deviation of a slice distance from the series' slice spacing
)

// plane is one frame with the instance it came from.
type slice struct {
	in *Instance
	f  *Frame
	d  float64 // position along the slice normal
}

// Assemble builds the volume of an image series: slices sorted along the normal, LPS grid, rescaled values.
// It refuses series whose slices differ in size, orientation or pixel spacing, that have duplicate positions,
// irregular spacing, gaps (missing slices) or sheared stacks, with a *SeriesError saying which and where.
func Assemble(s *Series) (*image.Volume, error) {
	fail := func(format string, a ...any) error {
		return &SeriesError{Series: s.Name(), Reason: fmt.Sprintf(format, a...)}
	}
	if s.IsSegmentation() {
		return nil, fail("is a DICOM SEG, not an image series")
	}
	var sl []slice
	for _, in := range s.Instances {
		for i := range in.Frames {
			sl = append(sl, slice{in: in, f: &in.Frames[i]})
		}
	}
	if len(sl) == 0 {
		return nil, fail("has no image frames")
	}
	ref := sl[0]
	for _, x := range sl[1:] {
		if x.in.Rows != ref.in.Rows || x.in.Columns != ref.in.Columns {
			return nil, fail("image size differs: %s is %d×%d, %s is %d×%d", where(ref), ref.in.Columns, ref.in.Rows, where(x), x.in.Columns, x.in.Rows)
		}
		for c := range 6 {
			if math.Abs(x.f.Orientation[c]-ref.f.Orientation[c]) > orientationTol {
				return nil, fail("mixed orientations: %s has ImageOrientationPatient %v, %s has %v", where(ref), fmtVec(ref.f.Orientation[:]), where(x), fmtVec(x.f.Orientation[:]))
			}
		}
		for c := range 2 {
			if math.Abs(x.f.PixelSpacing[c]-ref.f.PixelSpacing[c]) > spacingRelTol*ref.f.PixelSpacing[c] {
				return nil, fail("pixel spacing differs: %s has %v mm, %s has %v mm", where(ref), ref.f.PixelSpacing, where(x), x.f.PixelSpacing)
			}
		}
	}
	row, col := ref.f.Orientation[:3], ref.f.Orientation[3:]
	normal := cross(row, col)
	for i := range sl {
		sl[i].d = dot(sl[i].f.Position[:], normal[:])
	}
	sort.SliceStable(sl, func(a, b int) bool { return sl[a].d < sl[b].d })

	dz := ref.f.SliceThickness
	if len(sl) > 1 {
		gaps := make([]float64, len(sl)-1)
		for i := 1; i < len(sl); i++ {
			gaps[i-1] = sl[i].d - sl[i-1].d
			if gaps[i-1] < 1e-3 {
				return nil, fail("two slices at the same position %.3f mm along the normal: %s and %s (multiple echoes, phases or repeated acquisition in one series?)", sl[i].d, where(sl[i-1]), where(sl[i]))
			}
		}
		sorted := append([]float64(nil), gaps...)
		sort.Float64s(sorted)
		dz = sorted[0] // the smallest distance is the true spacing when slices are missing
		for i, g := range gaps {
			if math.Abs(g-dz) <= sliceRelTol*dz {
				continue
			}
			n := g / dz
			if math.Abs(n-math.Round(n)) <= sliceRelTol {
				return nil, fail("missing slice: gap of %.2f mm between %s and %s where the slice spacing is %.2f mm (%d slice(s) missing)", g, where(sl[i]), where(sl[i+1]), dz, int(math.Round(n))-1)
			}
			return nil, fail("irregular slice spacing: %.2f mm between %s and %s, %.2f mm elsewhere", g, where(sl[i]), where(sl[i+1]), dz)
		}
		// The stack must run along the normal: in-plane offsets between slices mean gantry tilt or shear.
		for i := 1; i < len(sl); i++ {
			var off [3]float64
			for r := range 3 {
				off[r] = sl[i].f.Position[r] - sl[0].f.Position[r] - (sl[i].d-sl[0].d)*normal[r]
			}
			if norm(off[:]) > 0.01*math.Max(dz, ref.f.PixelSpacing[0]) {
				return nil, fail("slices are not stacked along the slice normal (%s is offset %.3f mm in-plane; gantry tilt or sheared stack)", where(sl[i]), norm(off[:]))
			}
		}
	}
	if !(dz > 0) {
		dz = 1
	}
	g := image.Grid{
		Size:    [3]int{ref.in.Columns, ref.in.Rows, len(sl)},
		Spacing: [3]float64{ref.f.PixelSpacing[1], ref.f.PixelSpacing[0], dz},
		Origin:  sl[0].f.Position,
	}
	for r := range 3 {
		g.Direction[3*r+0], g.Direction[3*r+1], g.Direction[3*r+2] = row[r], col[r], normal[r]
	}
	if err := g.Validate(); err != nil {
		return nil, fail("%v", err)
	}
	v := image.NewVolume(g)
	np := g.Size[0] * g.Size[1]
	for k, x := range sl {
		x.in.framePixels(x.f.Number, x.f.Slope, x.f.Intercept, v.Data[k*np:(k+1)*np])
	}
	return v, nil
}

func where(x slice) string {
	name := filepath.Base(x.in.Path)
	if len(x.in.Frames) > 1 {
		return fmt.Sprintf("%s frame %d", name, x.f.Number+1)
	}
	if x.in.InstanceNumber != 0 {
		return fmt.Sprintf("instance %d (%s)", x.in.InstanceNumber, name)
	}
	return name
}

func fmtVec(v []float64) string {
	p := make([]string, len(v))
	for i, x := range v {
		p[i] = fmt.Sprintf("%.4g", x)
	}
	return "[" + strings.Join(p, " ") + "]"
}

// ErrNoSeries is returned when a study has no image series at all.
var ErrNoSeries = errors.New("volume: the study has no image series")
