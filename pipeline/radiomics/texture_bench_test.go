package radiomics

import (
	"context"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// The engine's performance target: a 50,000-voxel ROI in a 256×256×24 volume. benchImage is that
// volume (a smooth pattern plus noise, like an MR image) and benchROI the ellipsoid ROI (semi-axes
// 31.5, 31.5, 12 voxels) discretised to 32 grey levels on its bounding box.
func benchImage() *image.Volume {
	r := rand.New(rand.NewPCG(11, 13))
	return volumeOf([3]int{256, 256, 24}, [3]float64{0.7, 0.7, 4}, func(i, j, k int) float64 {
		return 400 + 150*math.Sin(float64(i)/7)*math.Cos(float64(j)/9) + 60*math.Sin(float64(k)/3) + 40*r.NormFloat64()
	})
}

func benchROI(tb testing.TB) *Discretised {
	v := benchImage()
	c := [3]float64{128, 128, 11.5}
	ax := [3]float64{31.5, 31.5, 12}
	inside := func(i, j, k int) bool {
		x, y, z := (float64(i)-c[0])/ax[0], (float64(j)-c[1])/ax[1], (float64(k)-c[2])/ax[2]
		return x*x+y*y+z*z <= 1
	}
	lo, hi := [3]int{256, 256, 24}, [3]int{-1, -1, -1}
	lmin, lmax := math.Inf(1), math.Inf(-1)
	n := 0
	for k := 0; k < 24; k++ {
		for j := 0; j < 256; j++ {
			for i := 0; i < 256; i++ {
				if !inside(i, j, k) {
					continue
				}
				n++
				x := v.At(i, j, k)
				lmin, lmax = min(lmin, x), max(lmax, x)
				for a, p := range [3]int{i, j, k} {
					lo[a], hi[a] = min(lo[a], p), max(hi[a], p)
				}
			}
		}
	}
	if n < 45000 || n > 55000 {
		tb.Fatalf("benchmark ROI has %d voxels, want about 50,000", n)
	}
	const ng = 32
	size := [3]int{hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1}
	d := &Discretised{Size: size, Spacing: v.Spacing, NG: ng, Level: make([]int32, size[0]*size[1]*size[2]), Morph: make([]bool, size[0]*size[1]*size[2])}
	for k := 0; k < size[2]; k++ {
		for j := 0; j < size[1]; j++ {
			for i := 0; i < size[0]; i++ {
				if !inside(i+lo[0], j+lo[1], k+lo[2]) {
					continue
				}
				idx := i + size[0]*(j+size[1]*k)
				l := 1 + int(float64(ng)*(v.At(i+lo[0], j+lo[1], k+lo[2])-lmin)/(lmax-lmin))
				d.Level[idx] = int32(min(l, ng))
				d.Morph[idx] = true
			}
		}
	}
	return d
}

// cpuTime is the process's user + system CPU time: on a shared machine it measures the work of a
// benchmark better than the wall clock (reported as cpu-ms/op next to ns/op).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the cpu-ms/op metric for the CPU time used since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func benchFamily(b *testing.B, f func(context.Context, *Discretised, TextureOptions) ([]Feature, error), opt TextureOptions) {
	d := benchROI(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	var n int
	for i := 0; i < b.N; i++ {
		fs, err := f(ctx, d, opt)
		if err != nil {
			b.Fatal(err)
		}
		n = len(fs)
	}
	reportCPU(b, start)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "features/s")
}

func BenchmarkGLCM(b *testing.B)  { benchFamily(b, GLCMFeatures, DefaultTextureOptions()) }
func BenchmarkGLRLM(b *testing.B) { benchFamily(b, GLRLMFeatures, DefaultTextureOptions()) }
func BenchmarkGLSZM(b *testing.B) { benchFamily(b, GLSZMFeatures, DefaultTextureOptions()) }
func BenchmarkGLDM(b *testing.B)  { benchFamily(b, NGLDMFeatures, DefaultTextureOptions()) }
func BenchmarkNGTDM(b *testing.B) { benchFamily(b, NGTDMFeatures, DefaultTextureOptions()) }

// BenchmarkTexturePyRadiomics is the five PyRadiomics texture classes of one image type.
func BenchmarkTexturePyRadiomics(b *testing.B) {
	benchFamily(b, TextureFeatures, DefaultTextureOptions())
}

// BenchmarkTextureIBSI is every IBSI texture family with all 2D, 2.5D and 3D aggregations.
func BenchmarkTextureIBSI(b *testing.B) {
	opt := DefaultTextureOptions()
	opt.IBSI = true
	benchFamily(b, TextureFeatures, opt)
}

func BenchmarkLoG(b *testing.B) {
	v := benchImage()
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start)
	for i := 0; i < b.N; i++ {
		if _, err := LoG(context.Background(), v, []float64{1, 3, 5}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWavelet(b *testing.B) {
	v := benchImage()
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start)
	for i := 0; i < b.N; i++ {
		if _, err := Wavelet(context.Background(), v, WaveletOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLBP3D(b *testing.B) {
	v := benchImage()
	mask := make([]bool, len(v.Data))
	for k := 0; k < 24; k++ {
		for j := 0; j < 256; j++ {
			for i := 0; i < 256; i++ {
				x, y, z := (float64(i)-128)/31.5, (float64(j)-128)/31.5, (float64(k)-11.5)/12
				mask[v.Index(i, j, k)] = x*x+y*y+z*z <= 1
			}
		}
	}
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start)
	for i := 0; i < b.N; i++ {
		if _, err := LBP3D(context.Background(), v, mask, DefaultLBP3DOptions()); err != nil {
			b.Fatal(err)
		}
	}
}
