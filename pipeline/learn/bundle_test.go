package learn

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// trainedBundle trains one endpoint on the synthetic cohort and wraps it.
func trainedBundle(t *testing.T) (*Bundle, *TrainResult, TrainData) {
	t.Helper()
	d := syntheticTrainData(183, 200, 5)
	res, err := TrainEndpoint(context.Background(), d, TrainConfig{Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	b := &Bundle{Schema: BundleSchema, ResearchUse: ResearchUse,
		Clinical:  []ClinicalVariable{{Name: "crp"}, {Name: "age"}},
		Endpoints: map[string]*EndpointBundle{"asas40": NewEndpointBundle("asas40", res)}}
	return b, res, d
}

func TestBundleRoundTripAndPredict(t *testing.T) {
	b, res, d := trainedBundle(t)
	dir := t.TempDir()
	if err := b.Save(dir); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Features(); strings.Join(got, ",") != strings.Join(sortedCopy(res.Selected), ",") {
		t.Errorf("Features() = %v, want %v", got, res.Selected)
	}
	dlr, _ := res.Lasso.LinearPredictors(pick(d, res.Lasso.Inputs))
	var clin [][]float64
	for _, in := range res.DLRC.Inputs[1:] {
		for j, c := range d.Clinical {
			if c == in {
				clin = append(clin, d.ClinCols[j])
			}
		}
	}
	pDLRC, _ := res.DLRC.Predict(append([][]float64{dlr}, clin...))
	pDLR, _ := res.DLR.Predict([][]float64{dlr})
	e := b.Endpoints["asas40"]
	bgLogit := func(m LinearModel, bg []float64) float64 {
		v := m.Model.Intercept
		for j := range bg {
			v += m.Model.Coef[j] * bg[j]
		}
		return v
	}
	for _, i := range res.Test[:10] {
		feats := map[string]float64{"unused": math.NaN()}
		for j, f := range d.Features {
			feats[f] = d.Reader1[j][i]
		}
		clinical := map[string]float64{}
		for j, c := range d.Clinical {
			clinical[c] = d.ClinCols[j][i]
		}
		preds, err := b.Predict(feats, clinical)
		if err != nil {
			t.Fatal(err)
		}
		p := preds["asas40"]
		near(t, "DLRC probability", p.Probability, pDLRC[i], 1e-12)
		near(t, "DLR score", p.DLRScore, dlr[i], 1e-12)
		if p.Variant != VariantDLRC || p.Threshold != res.Metrics[ModelDLRC]["train"].Threshold || p.Responder != (p.Probability >= p.Threshold) {
			t.Errorf("variant %s threshold %v responder %v", p.Variant, p.Threshold, p.Responder)
		}
		// SHAP: contributions add up to logit − background logit, largest first.
		var sum float64
		for k, c := range p.Contributions {
			sum += c.SHAP
			if k > 0 && math.Abs(c.SHAP) > math.Abs(p.Contributions[k-1].SHAP) {
				t.Errorf("contributions not sorted by |SHAP|")
			}
		}
		logit := math.Log(p.Probability / (1 - p.Probability))
		near(t, "sum of SHAP", sum, logit-bgLogit(e.DLRC, e.DLRCBackground), 1e-9)
		if len(p.Contributions) != len(res.Selected)+len(res.DLRC.Inputs)-1 {
			t.Errorf("%d contributions", len(p.Contributions))
		}
		// DLR weights reproduce the score up to a constant.
		var ws float64
		for f, w := range p.DLRWeights {
			ws += w * feats[f]
		}
		near(t, "DLR score from weights", p.DLRScore-ws, dlrConstant(e), 1e-9)

		// Without a clinical input: the DLR-only fallback.
		delete(clinical, res.DLRC.Inputs[1])
		preds, err = b.Predict(feats, clinical)
		if err != nil {
			t.Fatal(err)
		}
		p = preds["asas40"]
		near(t, "DLR-only probability", p.Probability, pDLR[i], 1e-12)
		if p.Variant != VariantDLROnly || len(p.MissingClinical) != 1 || p.Threshold != res.Metrics[ModelDLR]["train"].Threshold {
			t.Errorf("fallback: variant %s missing %v threshold %v", p.Variant, p.MissingClinical, p.Threshold)
		}
		sum = 0
		for _, c := range p.Contributions {
			sum += c.SHAP
		}
		logit = math.Log(p.Probability / (1 - p.Probability))
		near(t, "sum of SHAP (DLR-only)", sum, logit-bgLogit(e.DLR, e.DLRBackground), 1e-9)
	}
}

// dlrConstant is the DLR score of a patient whose features are all 0.
func dlrConstant(e *EndpointBundle) float64 {
	c := e.Lasso.Model.Intercept
	for j := range e.Lasso.Inputs {
		c -= e.Lasso.Model.Coef[j] * e.Lasso.Scaler.Mean[j] / e.Lasso.Scaler.SD[j]
	}
	return c
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestBundleBadInput(t *testing.T) {
	b, res, _ := trainedBundle(t)
	feats := map[string]float64{}
	for _, f := range res.Selected {
		feats[f] = 1
	}
	f0 := res.Selected[0]
	for _, tc := range []struct {
		name  string
		edit  func(feats map[string]float64)
		error string
	}{
		{"missing feature", func(m map[string]float64) { delete(m, f0) }, "feature \"" + f0 + "\" missing"},
		{"NaN feature", func(m map[string]float64) { m[f0] = math.NaN() }, "is NaN"},
	} {
		m := map[string]float64{}
		for k, v := range feats {
			m[k] = v
		}
		tc.edit(m)
		_, err := b.Predict(m, nil)
		if err == nil || !strings.Contains(err.Error(), tc.error) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.error)
		}
	}
	// No clinical values at all: DLR-only, no error.
	preds, err := b.Predict(feats, nil)
	if err != nil || preds["asas40"].Variant != VariantDLROnly {
		t.Errorf("no clinical values: %v %+v", err, preds["asas40"])
	}

	for _, tc := range []struct {
		name  string
		edit  func(b *Bundle)
		error string
	}{
		{"schema", func(b *Bundle) { b.Schema = 99 }, "schema 99"},
		{"no endpoint", func(b *Bundle) { b.Endpoints = nil }, "no endpoint"},
		{"coefficients", func(b *Bundle) { b.Endpoints["asas40"].Lasso.Model.Coef = nil }, "coefficients"},
		{"zero SD", func(b *Bundle) { b.Endpoints["asas40"].DLRC.Scaler.SD[0] = 0 }, "not positive"},
		{"unknown clinical", func(b *Bundle) { b.Clinical = b.Clinical[:0] }, "not among"},
		{"threshold", func(b *Bundle) { delete(b.Endpoints["asas40"].Thresholds, ModelDLR) }, "threshold of dlr"},
	} {
		b2, _, _ := trainedBundle(t)
		tc.edit(b2)
		dir := t.TempDir()
		if err := b2.Save(dir); err == nil || !strings.Contains(err.Error(), tc.error) {
			t.Errorf("%s: Save error %v, want %q", tc.name, err, tc.error)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, BundleFile), []byte(`{"schema": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBundle(dir); err == nil || !strings.Contains(err.Error(), "schema 2") {
		t.Errorf("LoadBundle of schema 2: %v", err)
	}
	if _, err := LoadBundle(t.TempDir()); err == nil {
		t.Error("LoadBundle of an empty directory: no error")
	}
}

func TestEncodeClinical(t *testing.T) {
	b := &Bundle{Clinical: []ClinicalVariable{{Name: "age"}, {Name: "sex", Levels: map[string]float64{"F": 0, "M": 1}}, {Name: "crp"}}}
	got, missing, err := b.EncodeClinical(map[string]string{"age": " 31 ", "sex": "M", "crp": "NA"})
	if err != nil || got["age"] != 31 || got["sex"] != 1 || len(got) != 2 || len(missing) != 1 || missing[0] != "crp" {
		t.Errorf("EncodeClinical = %v, %v, %v", got, missing, err)
	}
	for _, raw := range []map[string]string{{"sex": "X"}, {"age": "old"}, {"age": "Inf"}} {
		if _, _, err := b.EncodeClinical(raw); err == nil {
			t.Errorf("EncodeClinical(%v): no error", raw)
		}
	}
}
