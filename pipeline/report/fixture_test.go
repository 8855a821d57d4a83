package report

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// obliqueGrid is a coronal-oblique grid (tilted 20° about the left-right axis), as SIJ MRI is
// usually acquired, with anisotropic in-plane spacing.
func obliqueGrid(nx, ny, nz int) image.Grid {
	th := 20 * math.Pi / 180
	// Columns: row direction (patient left), column direction (feet, tilted), slice normal.
	row := [3]float64{1, 0, 0}
	col := [3]float64{0, math.Sin(th), -math.Cos(th)}
	nrm := [3]float64{row[1]*col[2] - row[2]*col[1], row[2]*col[0] - row[0]*col[2], row[0]*col[1] - row[1]*col[0]}
	return image.Grid{
		Size:    [3]int{nx, ny, nz},
		Spacing: [3]float64{280.0 / float64(nx), 300.0 / float64(ny), 4},
		Origin:  [3]float64{-140.3, -22.7, 95.1},
		Direction: [9]float64{
			row[0], col[0], nrm[0],
			row[1], col[1], nrm[1],
			row[2], col[2], nrm[2],
		},
	}
}

// testResult builds a study with two SIJ regions on an oblique nx×ny×nz grid: a synthetic STIR
// image (sacrum, ilia and bright joint lines), the label map, a heat map and two predictions.
func testResult(t testing.TB, nx, ny, nz int) *Result {
	t.Helper()
	g := obliqueGrid(nx, ny, nz)
	labels := image.NewLabels(g)
	stir := image.NewVolume(g)
	heat := image.NewVolume(g)
	for k := 0; k < nz; k++ {
		// The joints are longest in the middle slices and absent at the ends.
		extent := 1 - math.Abs(float64(k)-float64(nz-1)/2)/(float64(nz)/2)
		for j := 0; j < ny; j++ {
			for i := 0; i < nx; i++ {
				u, v := float64(i)/float64(nx-1), float64(j)/float64(ny-1) // 0..1
				val := 80 + 15*math.Sin(7*u)*math.Cos(5*v)
				// Pelvic bones: a bright ring; sacrum in the middle.
				du, dv := u-0.5, v-0.55
				if r := math.Hypot(du/0.42, dv/0.35); r < 1 && r > 0.55 {
					val += 120
				}
				if math.Abs(du) < 0.14 && math.Abs(dv) < 0.25 {
					val += 100
				}
				for side, cx := range []float64{0.36, 0.64} { // patient right is image left
					// Joint line: a slanted band beside the sacrum.
					d := math.Abs((u - cx) - 0.25*(v-0.55)*(1-2*float64(side)))
					if d < 0.02 && math.Abs(dv) < 0.2*extent {
						val += 250
					}
					if d < 0.05 && math.Abs(dv) < 0.22*extent && extent > 0.2 {
						l := uint8(2 - side) // label 1 = left = image right (larger i)
						labels.Data[g.Index(i, j, k)] = l
						heat.Data[g.Index(i, j, k)] = math.Exp(-(dv*dv)/0.01) * (1 - d*10)
					}
				}
				stir.Data[g.Index(i, j, k)] = val
			}
		}
	}
	stirRef := SeriesRef{SeriesInstanceUID: "1.2.826.0.1.3680043.9.9999.2.1", FrameOfReferenceUID: "1.2.826.0.1.3680043.9.9999.4.1",
		SeriesDescription: "COR STIR SIJ"}
	t1Ref := SeriesRef{SeriesInstanceUID: "1.2.826.0.1.3680043.9.9999.2.2", FrameOfReferenceUID: "1.2.826.0.1.3680043.9.9999.4.1",
		SeriesDescription: "COR T1 SIJ"}
	for k := 0; k < nz; k++ {
		stirRef.Instances = append(stirRef.Instances, InstanceRef{SOPClassUID: "1.2.840.10008.5.1.4.1.1.4",
			SOPInstanceUID: fmt.Sprintf("1.2.826.0.1.3680043.9.9999.3.1.%d", k+1)})
		t1Ref.Instances = append(t1Ref.Instances, InstanceRef{SOPClassUID: "1.2.840.10008.5.1.4.1.1.4",
			SOPInstanceUID: fmt.Sprintf("1.2.826.0.1.3680043.9.9999.3.2.%d", k+1)})
	}
	return &Result{
		Source: Source{
			StudyInstanceUID: "1.2.826.0.1.3680043.9.9999.1", AccessionNumber: "ACC0001", StudyID: "1",
			StudyDate: "20260301", StudyTime: "101500", ReferringPhysician: "Referrer^Rita",
			PatientName: "Synthetic^Patient", PatientID: "SYN0001", PatientBirthDate: "19850101", PatientSex: "F",
			STIR: stirRef, T1: t1Ref,
		},
		Predictions: []Prediction{
			{Endpoint: "ASAS40", Probability: 0.7312345678901234, DLRScore: 1.234567890123, Threshold: 0.4821, Responder: true,
				Variant: "DLRC", TopFeatures: []Contribution{
					{"DLR score", 1.2345, 0.8123}, {"CRP (mg/L)", 18.2, 0.4211}, {"BASDAI", 6.1, -0.2544},
					{"original_glcm_JointEntropy_left", 5.4321, 0.1378}, {"deep_sijenc_17", -0.31, -0.0612}}},
			{Endpoint: "ASAS20", Probability: 0.123456789012345e-3, DLRScore: -2.5, Threshold: 0.55, Responder: false,
				Variant: "DLR-only", TopFeatures: []Contribution{
					{"original_firstorder_90Percentile_right", 412.5, -0.951}, {"wavelet-LLH_glszm_ZoneEntropy", 6.02, 0.33}}},
		},
		Labels: labels, Heatmap: heat, STIRVolume: stir,
		Model: Model{Name: "sacrum-dlrc-synthetic", Version: "1.0.0", SegmentationName: "sij-unet", SegmentationVersion: "0.3.1"},
		Node:  Node{UID: "1.2.826.0.1.3680043.9.9999.99", Name: "SACRUM", SoftwareVersion: "0.1.0"},
		Now:   time.Date(2026, 11, 26, 14, 30, 0, 123456000, time.UTC),
	}
}
