package infer_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/infer"
	"github.com/sacrum-dev/sacrum/pipeline/synth"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
)

// BenchmarkImagingPipeline is acceptance 5 of issue 6: one 2-series 256×256×20 synthetic study from DICOM
// files to labels and deep features, with the per-stage split reported as ms/op metrics:
//
//	go test -run '^$' -bench ImagingPipeline -benchtime 10x -cpu 2 ./pipeline/infer
func BenchmarkImagingPipeline(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	cohort, err := synth.Generate(ctx, synth.Options{Out: dir, Patients: 1, Seed: 7})
	if err != nil {
		b.Fatal(err)
	}
	study := filepath.Join(synth.PatientDir(dir, cohort.Records[0].PatientID), "dicom")
	cfg := infer.DefaultConfig()
	cfg.SegmentationModel = "../../models/seg-sij-unet/model.yaml"
	cfg.FeatureModels = []string{"../../models/deep-encoder/model.yaml"}
	pipe, err := cfg.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer pipe.Close()
	var read, assemble, seg, feat time.Duration
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		st, err := volume.ReadDir(ctx, study)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		p, err := volume.Prepare(ctx, st, volume.DefaultSelection())
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		in := infer.Inputs{"stir": p.STIR, "t1": p.T1}
		labels, err := pipe.Segmentation.Segment(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		fm, err := pipe.Encoders[0].FeatureMaps(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fm.Features(labels, infer.SIJROIs); err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		read += t1.Sub(t0)
		assemble += t2.Sub(t1)
		seg += t3.Sub(t2)
		feat += t4.Sub(t3)
	}
	n := float64(b.N)
	// Process CPU time (Go and ONNX Runtime threads): steadier than wall time on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/n, "cpu-ms/op")
	b.ReportMetric(float64(read.Milliseconds())/n, "read-ms/op")
	b.ReportMetric(float64(assemble.Milliseconds())/n, "assemble-ms/op")
	b.ReportMetric(float64(seg.Milliseconds())/n, "segment-ms/op")
	b.ReportMetric(float64(feat.Milliseconds())/n, "deepfeat-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
