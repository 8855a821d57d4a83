package synth

import (
	"math"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// roiMean is the mean stored value of px inside label l (l = 0: outside every label).
func roiMean(px []uint16, lab *image.Labels, l uint8) float64 {
	var s, n float64
	for i, x := range lab.Data {
		if x == l {
			s += float64(px[i])
			n++
		}
	}
	return s / n
}

func pearson(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i] / float64(len(x))
		my += y[i] / float64(len(y))
	}
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

// TestROITracksOedema checks what the later radiomics work relies on: the mean STIR value inside each
// side's ROI tracks that side's latent oedema extent closely (across patients, scanners and noise),
// and the T1 value moves the other way.
func TestROITracksOedema(t *testing.T) {
	var oed, stir, t1 []float64
	for idx := 0; idx < 24; idx++ {
		st, err := GeneratePatient(3, idx, ImageOptions{Matrix: 128, Slices: 12})
		if err != nil {
			t.Fatal(err)
		}
		lat := st.Record.Latent
		for l, e := range map[uint8]float64{1: lat.OedemaLeft, 2: lat.OedemaRight} {
			if st.Reader1.Count(l) == 0 {
				t.Fatalf("patient %d: label %d is empty", idx, l)
			}
			oed = append(oed, e)
			stir = append(stir, roiMean(st.STIR, st.Reader1, l))
			t1 = append(t1, roiMean(st.T1, st.Reader1, l))
		}
	}
	rs, rt := pearson(oed, stir), pearson(oed, t1)
	t.Logf("r(oedema, mean STIR in ROI) = %.3f, r(oedema, mean T1 in ROI) = %.3f", rs, rt)
	if rs < 0.9 {
		t.Errorf("r(oedema, STIR) = %.3f, want ≥ 0.9", rs)
	}
	if rt > -0.3 {
		t.Errorf("r(oedema, T1) = %.3f, want clearly negative", rt)
	}
}
