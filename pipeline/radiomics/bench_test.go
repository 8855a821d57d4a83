package radiomics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// benchVolume is a 256×256×24 MR-like volume (0.7×0.7×4 mm) with an ellipsoidal ROI of about
// 50,000 voxels: smooth structure plus noise, intensities 0…1000 (about 40 bins of width 25).
func benchVolume() (*image.Volume, *image.Labels, int) {
	g := image.NewGrid([3]int{256, 256, 24}, [3]float64{0.7, 0.7, 4})
	v := image.NewVolume(g)
	m := image.NewLabels(g)
	r := rand.New(rand.NewPCG(1, 2))
	n := 0
	for k := 0; k < 24; k++ {
		for j := 0; j < 256; j++ {
			for i := 0; i < 256; i++ {
				x := 500 + 200*math.Sin(float64(i)/9)*math.Cos(float64(j)/13) + 80*math.Sin(float64(k)/3) + 60*r.NormFloat64()
				v.Set(i, j, k, math.Max(0, math.Min(1000, x)))
				dx, dy, dz := (float64(i)-128)/35.6, (float64(j)-128)/35.6, (float64(k)-11.5)/9.5
				if dx*dx+dy*dy+dz*dz <= 1 {
					m.Data[g.Index(i, j, k)] = 1
					n++
				}
			}
		}
	}
	return v, m, n
}

func benchSettings(b *testing.B, yaml string) Settings {
	s, err := ParseSettings([]byte(yaml))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

const benchOriginal = `
imageType: {Original: {}}
featureClass: {shape: , firstorder: , glcm: , glrlm: , glszm: , gldm: , ngtdm: }
`

const benchFiltered = `
imageType:
  Original: {}
  LoG: {sigma: [1.0, 2.0, 3.0]}
  Wavelet: {}
featureClass: {shape: , firstorder: , glcm: , glrlm: , glszm: , gldm: , ngtdm: }
`

func benchmarkExtract(b *testing.B, yaml string) {
	img, mask, n := benchVolume()
	s := benchSettings(b, yaml)
	b.ReportAllocs()
	cpu0 := processCPUTime()
	b.ResetTimer()
	var res *Result
	for i := 0; i < b.N; i++ {
		var err error
		if res, err = Extract(img, mask, 1, s); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// CPU time of the process per extraction: on an idle machine wall time ≥ cpu/cores.
	b.ReportMetric((processCPUTime()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/op")
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(res.Features))/perOp, "features/s")
	b.ReportMetric(float64(n), "roi-voxels")
	b.ReportMetric(float64(len(res.Features)), "features")
}

// BenchmarkExtractOriginal is acceptance 5a: every original PyRadiomics feature (≤ 50 ms).
func BenchmarkExtractOriginal(b *testing.B) { benchmarkExtract(b, benchOriginal) }

// BenchmarkExtractFiltered is acceptance 5b: original + LoG (3 sigmas) + wavelet (8) (≤ 1 s).
func BenchmarkExtractFiltered(b *testing.B) { benchmarkExtract(b, benchFiltered) }

// BenchmarkExtractIBSI is every IBSI family with all aggregations on the same ROI (Moran's I and
// Geary's C are exact: all 1.3·10⁹ voxel pairs).
func BenchmarkExtractIBSI(b *testing.B) {
	benchmarkExtract(b, "setting: {binWidth: 25, ibsi: {}}\nimageType: {Original: {}}\n")
}

// BenchmarkExtractFamilies times each family alone on the original image (the per-family split).
// "none" is the pre-processing alone (validation, cropping, masks), the base of every other line.
func BenchmarkExtractFamilies(b *testing.B) {
	b.Run("none", func(b *testing.B) { benchmarkExtract(b, "imageType: {Original: {}}\nfeatureClass: {}\n") })
	for _, class := range []string{"shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"} {
		b.Run(class, func(b *testing.B) {
			benchmarkExtract(b, fmt.Sprintf("imageType: {Original: {}}\nfeatureClass: {%s: }\n", class))
		})
	}
}

// TestBenchVolumeROISize keeps the benchmark ROI at about 50,000 voxels.
func TestBenchVolumeROISize(t *testing.T) {
	start := time.Now()
	_, _, n := benchVolume()
	if n < 48000 || n > 52000 {
		t.Errorf("benchmark ROI has %d voxels, want about 50,000", n)
	}
	t.Logf("ROI %d voxels (built in %v)", n, time.Since(start))
}

// processCPUTime is the user + system CPU time of the process so far.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
