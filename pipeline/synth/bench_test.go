package synth

import (
	"context"
	"testing"
)

// BenchmarkRenderPatient is one 256×256×20 patient (both series, labels) in memory on one core.
func BenchmarkRenderPatient(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		if _, err := GeneratePatient(1, i%16, ImageOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmallPatient is the size other packages' tests use (128×128×12), rendered and written.
func BenchmarkSmallPatient(b *testing.B) {
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		st, err := GeneratePatient(1, i%16, ImageOptions{Matrix: 128, Slices: 12})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Write(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCohort16 writes a 16-patient cohort at the default size with all CPUs.
func BenchmarkCohort16(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(context.Background(), Options{Out: b.TempDir(), Patients: 16, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
