package synth

import (
	"math"
	"testing"
)

// TestImagingRecoversOracle checks, on the demonstration cohort (seed 1, 183 patients, rendered small),
// that what later issues build on holds: a logistic model on the clinical variables plus two plain ROI
// features (mean STIR and mean T1 inside the labels, per study normalised by the mean outside) comes
// close to the oracle AUC on the test split and beats the clinical-only model.
func TestImagingRecoversOracle(t *testing.T) {
	recs := NewCohort(1, 183)
	feat := make([][]float64, len(recs))
	for i, rec := range recs {
		st, err := Render(1, rec, ImageOptions{Matrix: 96, Slices: 10})
		if err != nil {
			t.Fatal(err)
		}
		stir := roiMean(st.STIR, st.Reader1, 1) + roiMean(st.STIR, st.Reader1, 2)
		t1 := roiMean(st.T1, st.Reader1, 1) + roiMean(st.T1, st.Reader1, 2)
		feat[i] = append(clinicalX(rec), math.Log(stir/roiMean(st.STIR, st.Reader1, 0)), math.Log(t1/roiMean(st.T1, st.Reader1, 0)), rec.Latent.Oedema())
	}
	var trX, trC [][]float64
	var trY, teY []bool
	var teOracle []float64
	var teIdx []int
	for i, rec := range recs {
		if rec.Split == "train" {
			trX, trC, trY = append(trX, feat[i]), append(trC, clinicalX(rec)), append(trY, rec.ASAS40)
		} else {
			teIdx, teY, teOracle = append(teIdx, i), append(teY, rec.ASAS40), append(teOracle, rec.P40)
		}
	}
	full, clin := fitLogistic(t, trX, trY, 1), fitLogistic(t, trC, trY, 1)
	var sf, sc []float64
	for _, i := range teIdx {
		sf, sc = append(sf, full(feat[i])), append(sc, clin(clinicalX(recs[i])))
	}
	oracle, withImaging, clinical := AUC(teOracle, teY), AUC(sf, teY), AUC(sc, teY)
	t.Logf("test AUC: oracle %.3f, clinical + ROI means %.3f, clinical only %.3f", oracle, withImaging, clinical)
	if withImaging < oracle-0.05 {
		t.Errorf("clinical + ROI means AUC %.3f is more than 0.05 below the oracle %.3f", withImaging, oracle)
	}
	if withImaging < clinical+0.08 {
		t.Errorf("imaging adds too little: %.3f vs clinical-only %.3f", withImaging, clinical)
	}
}
