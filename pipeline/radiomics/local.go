package radiomics

import "math"

// oneCCRadius is the radius (mm) of a 1 cm³ sphere, the IBSI local intensity neighbourhood.
var oneCCRadius = math.Cbrt(3 * 1000 / (4 * math.Pi))

// localIntensityFeatures computes the local and global intensity peaks (IBSI 3.2): the mean image
// intensity in a sphere of the given radius centred on voxels of the intensity mask. Voxels of the
// image (not only of the ROI) within the sphere count; the local peak is taken at the ROI's
// maximum-intensity voxel (the highest mean if there are several).
func localIntensityFeatures(s shapeInput, radius float64) []Feature {
	var offs [][3]int
	var r [3]int
	for a := 0; a < 3; a++ {
		r[a] = int(math.Floor(radius / s.spacing[a]))
	}
	for k := -r[2]; k <= r[2]; k++ {
		for j := -r[1]; j <= r[1]; j++ {
			for i := -r[0]; i <= r[0]; i++ {
				d := [3]float64{float64(i) * s.spacing[0], float64(j) * s.spacing[1], float64(k) * s.spacing[2]}
				if norm3(d) <= radius+1e-9 {
					offs = append(offs, [3]int{i, j, k})
				}
			}
		}
	}
	localMean := func(idx int) float64 {
		i := idx % s.size[0]
		j := idx / s.size[0] % s.size[1]
		k := idx / (s.size[0] * s.size[1])
		var sum float64
		var n int
		for _, o := range offs {
			x, y, z := i+o[0], j+o[1], k+o[2]
			if x < 0 || y < 0 || z < 0 || x >= s.size[0] || y >= s.size[1] || z >= s.size[2] {
				continue
			}
			sum += s.img[x+s.size[0]*(y+s.size[1]*z)]
			n++
		}
		return sum / float64(n)
	}
	maxI := math.Inf(-1)
	for i, in := range s.inten {
		if in {
			maxI = math.Max(maxI, s.img[i])
		}
	}
	local, global := math.Inf(-1), math.Inf(-1)
	for i, in := range s.inten {
		if !in {
			continue
		}
		m := localMean(i)
		global = math.Max(global, m)
		if s.img[i] == maxI {
			local = math.Max(local, m)
		}
	}
	return []Feature{
		feature("loc_peak_loc", "", "", local, "empty intensity mask"),
		feature("loc_peak_glob", "", "", global, "empty intensity mask"),
	}
}
