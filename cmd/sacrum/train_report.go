package main

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/sacrum-dev/sacrum/pipeline/learn"
)

// Colours of the three models in every figure (colour-blind safe, Okabe–Ito).
var modelColours = map[string]color.RGBA{
	learn.ModelClinical: {R: 0x99, G: 0x99, B: 0x99, A: 0xff},
	learn.ModelDLR:      {R: 0x00, G: 0x72, B: 0xb2, A: 0xff},
	learn.ModelDLRC:     {R: 0xd5, G: 0x5e, B: 0x00, A: 0xff},
}

var modelLabels = map[string]string{learn.ModelClinical: "Clinical", learn.ModelDLR: "DLR", learn.ModelDLRC: "DLRC"}

var endpointLabels = map[string]string{"asas40": "ASAS40", "asas20": "ASAS20"}

func endpointLabel(ep string) string {
	if l, ok := endpointLabels[ep]; ok {
		return l
	}
	return ep
}

// reportEndpoint is one endpoint's section of report.html.
type reportEndpoint struct {
	Name, Label       string
	TrainN, TestN     int
	TrainEv, TestEv   int
	Funnel            []funnelStep
	Rows              []reportRow
	Comparisons       []reportCmp
	ClinicalInputs    string
	DLRCTerms         []reportTerm
	LassoTerms        []reportTerm
	Lambda            float64
	ROC, Cal, DCA     template.HTML
	SHAPDLRC, SHAPDLR template.HTML
}

type funnelStep struct {
	Step  string
	Left  int
	Note  string
	Count int
}

type reportRow struct {
	Model, Set                     string
	AUC, Sens, Spec, Acc, PPV, NPV string
	Brier, Slope, Intercept, HL    string
	Threshold                      string
	FirstOfModel                   bool
	Highlight                      bool
}

type reportCmp struct {
	Model, Set          string
	DeltaAUC, DeLongP   string
	IDI, IDIP, NRI, NRP string
	Significant         bool
}

type reportTerm struct {
	Name        string
	Coef        string
	MeanAbsSHAP string
}

type reportPage struct {
	ResearchUse string
	Created     string
	Patients    int
	Features    int
	Readers     int
	Clinical    string
	Config      learn.BundleConfig
	Extraction  learn.Extraction
	FeaturesSHA string
	ClinicalSHA string
	Endpoints   []reportEndpoint
}

func writeTrainReport(w io.Writer, b *learn.Bundle, c *trainCohort, endpoints []string, results map[string]*learn.TrainResult) error {
	page := reportPage{ResearchUse: learn.ResearchUse, Created: b.Created, Patients: len(c.ids),
		Features: len(c.allFeatures), Readers: 1, Config: b.Config, Extraction: b.Extraction,
		FeaturesSHA: c.featuresSHA, ClinicalSHA: c.clinicalSHA}
	if c.reader2 != nil {
		page.Readers = 2
	}
	page.Extraction.RadiomicsParams = ""
	var clin []string
	for _, v := range c.clinVars {
		s := v.Name
		if v.Levels != nil {
			var lv []string
			for k, x := range v.Levels {
				lv = append(lv, fmt.Sprintf("%s=%g", k, x))
			}
			sortStrings(lv)
			s += " (" + strings.Join(lv, ", ") + ")"
		}
		clin = append(clin, s)
	}
	page.Clinical = strings.Join(clin, ", ")
	for _, ep := range endpoints {
		sec, err := reportSection(ep, b.Endpoints[ep], c, results[ep], b.Config)
		if err != nil {
			return fmt.Errorf("%s: %w", ep, err)
		}
		page.Endpoints = append(page.Endpoints, sec)
	}
	return reportTemplate.Execute(w, page)
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func reportSection(ep string, e *learn.EndpointBundle, c *trainCohort, res *learn.TrainResult, cfg learn.BundleConfig) (reportEndpoint, error) {
	sec := reportEndpoint{Name: ep, Label: endpointLabel(ep), TrainN: len(res.Train), TestN: len(res.Test), Lambda: e.Lambda}
	y := c.outcomes[ep]
	for _, i := range res.Train {
		sec.TrainEv += y[i]
	}
	for _, i := range res.Test {
		sec.TestEv += y[i]
	}
	// Selection funnel.
	steps := map[string]int{}
	for _, r := range res.Selection {
		steps[r.Step]++
	}
	left := len(c.allFeatures)
	sec.Funnel = append(sec.Funnel, funnelStep{Step: "Extracted features", Left: left})
	for _, st := range []struct{ key, label string }{
		{StepMissing, "Complete for every patient"},
		{learn.StepICC, fmt.Sprintf("Reproducible between readers (%s ≥ %g)", cfg.ICCForm, cfg.ICCMin)},
		{learn.StepUnivariate, fmt.Sprintf("Differ between responders and non-responders (Mann–Whitney p < %g, training set)", cfg.Alpha)},
		{learn.StepRedundancy, fmt.Sprintf("Not redundant (|Spearman ρ| ≤ %g)", cfg.MaxAbsRho)},
		{learn.StepLasso, fmt.Sprintf("Kept by LASSO (λ = %.4g): the DLR score", e.Lambda)},
	} {
		n := steps[st.key]
		if st.key == StepMissing {
			n = len(c.missing)
		}
		if st.key == learn.StepICC && c.reader2 == nil {
			sec.Funnel = append(sec.Funnel, funnelStep{Step: "Reproducibility (ICC)", Left: left, Note: "skipped: no reader-2 features"})
			continue
		}
		left -= n
		sec.Funnel = append(sec.Funnel, funnelStep{Step: st.label, Left: left, Count: n})
	}
	// Performance table.
	for _, m := range trainModels {
		for k, set := range []string{"train", "test"} {
			s := e.Metrics[m][set]
			sec.Rows = append(sec.Rows, reportRow{Model: modelLabels[m], Set: setLabel(set), FirstOfModel: k == 0,
				Highlight: m == learn.ModelDLRC && set == "test",
				AUC:       fmt.Sprintf("%.3f (%.3f–%.3f)", s.AUC, s.AUCCIDeLong[0], s.AUCCIDeLong[1]),
				Sens:      pct(s.Sensitivity), Spec: pct(s.Specificity), Acc: pct(s.Accuracy), PPV: pct(s.PPV), NPV: pct(s.NPV),
				Brier: fmt.Sprintf("%.3f", s.Brier), Slope: fixed2(s.CalibrationSlope),
				Intercept: fixed2(s.CalibrationIntercept), HL: pString(s.HosmerLemeshow.P),
				Threshold: fmt.Sprintf("%.3f", s.Threshold)})
			if v := s.VsClinical; v != nil {
				sec.Comparisons = append(sec.Comparisons, reportCmp{Model: modelLabels[m], Set: setLabel(set),
					DeltaAUC: fmt.Sprintf("%+.3f", s.AUC-e.Metrics[learn.ModelClinical][set].AUC), DeLongP: pString(v.DeLongP),
					IDI: fmt.Sprintf("%.3f", v.IDI), IDIP: pString(v.IDIP), NRI: fmt.Sprintf("%.3f", v.NRI), NRP: pString(v.NRIP),
					Significant: v.IDIP < 0.05 && v.IDI > 0})
			}
		}
	}
	sec.ClinicalInputs = strings.Join(e.Clinical.Inputs, ", ")
	shap := map[string]float64{}
	for _, im := range e.SHAPDLRC {
		shap[im.Feature] = im.MeanAbsSHAP
	}
	for j, in := range e.DLRC.Inputs {
		sec.DLRCTerms = append(sec.DLRCTerms, reportTerm{Name: in, Coef: fmt.Sprintf("%+.3f", e.DLRC.Model.Coef[j]),
			MeanAbsSHAP: fmt.Sprintf("%.3f", shap[in])})
	}
	for _, im := range e.SHAPLasso {
		for j, in := range e.Lasso.Inputs {
			if in == im.Feature {
				sec.LassoTerms = append(sec.LassoTerms, reportTerm{Name: in, Coef: fmt.Sprintf("%+.3f", e.Lasso.Model.Coef[j]),
					MeanAbsSHAP: fmt.Sprintf("%.3f", im.MeanAbsSHAP)})
			}
		}
	}
	var err error
	if sec.ROC, err = rocFigure(res); err != nil {
		return sec, err
	}
	if sec.Cal, err = calibrationFigure(res); err != nil {
		return sec, err
	}
	if sec.DCA, err = decisionFigure(res); err != nil {
		return sec, err
	}
	if sec.SHAPDLRC, err = shapFigure("DLRC model inputs", e.SHAPDLRC, 10, modelColours[learn.ModelDLRC]); err != nil {
		return sec, err
	}
	if sec.SHAPDLR, err = shapFigure("Image features in the DLR score", e.SHAPLasso, 15, modelColours[learn.ModelDLR]); err != nil {
		return sec, err
	}
	return sec, nil
}

func setLabel(set string) string {
	if set == "train" {
		return "Training"
	}
	return "Test"
}

func pct(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f %%", 100**v)
}

func pString(p float64) string {
	if math.IsNaN(p) {
		return "n/a"
	}
	return formatP(p)
}

// svgOf renders a plot to inline SVG (no XML prolog, scalable).
func svgOf(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", err
	}
	s := buf.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	// Let the page scale the figure: width 100 %, aspect from the viewBox.
	s = strings.Replace(s, fmt.Sprintf(`width="%gpt" height="%gpt"`, w.Points(), h.Points()),
		`class="fig" preserveAspectRatio="xMidYMid meet"`, 1)
	return template.HTML(s), nil //nolint:gosec // generated by gonum/plot from numbers only
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = x, y
	// Sans-serif text, sized to stay legible when the page scales the figure.
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		f.Variant = "Sans"
		f.Size = vg.Points(11)
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Add(plotter.NewGrid())
	return p
}

func line(p *plot.Plot, xy plotter.XYs, c color.Color, width float64, dashed bool, label string) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color, l.Width = c, vg.Points(width)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	p.Add(l)
	if label != "" {
		p.Legend.Add(label, l)
	}
	return nil
}

func diagonal(p *plot.Plot) error {
	return line(p, plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, color.Gray{Y: 0x80}, 0.8, true, "")
}

func rocFigure(res *learn.TrainResult) (template.HTML, error) {
	var out strings.Builder
	for _, set := range []string{"train", "test"} {
		p := newPlot(setLabel(set)+" set", "1 − specificity", "Sensitivity")
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		if err := diagonal(p); err != nil {
			return "", err
		}
		for _, m := range trainModels {
			s := res.Metrics[m][set]
			var xy plotter.XYs
			for k := len(s.ROC) - 1; k >= 0; k-- { // from (0,0) to (1,1)
				xy = append(xy, plotter.XY{X: 1 - s.ROC[k].Specificity, Y: s.ROC[k].Sensitivity})
			}
			if err := line(p, xy, modelColours[m], 1.8, false, fmt.Sprintf("%s  AUC %.3f", modelLabels[m], s.AUC)); err != nil {
				return "", err
			}
		}
		p.Legend.Left, p.Legend.Top = false, false
		p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), vg.Points(6)
		svg, err := svgOf(p, 320, 300)
		if err != nil {
			return "", err
		}
		out.WriteString(`<div class="panel">` + string(svg) + `</div>`)
	}
	return template.HTML(out.String()), nil
}

func calibrationFigure(res *learn.TrainResult) (template.HTML, error) {
	p := newPlot("Calibration, test set", "Predicted probability of response", "Observed proportion of responders")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	if err := diagonal(p); err != nil {
		return "", err
	}
	for _, m := range trainModels {
		s := res.Metrics[m]["test"]
		var xy plotter.XYs
		for _, b := range s.CalibrationCurve {
			if b.N > 0 {
				xy = append(xy, plotter.XY{X: b.Predicted, Y: b.Observed})
			}
		}
		if len(xy) == 0 {
			continue
		}
		if err := line(p, xy, modelColours[m], 1.5, false, fmt.Sprintf("%s  slope %.2f", modelLabels[m], s.CalibrationSlope)); err != nil {
			return "", err
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return "", err
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Radius, sc.GlyphStyle.Shape = modelColours[m], vg.Points(2.5), draw.CircleGlyph{}
		p.Add(sc)
	}
	p.Legend.Left, p.Legend.Top = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), vg.Points(6)
	svg, err := svgOf(p, 320, 300)
	return template.HTML(`<div class="panel">` + string(svg) + `</div>`), err
}

func decisionFigure(res *learn.TrainResult) (template.HTML, error) {
	p := newPlot("Decision curve, test set", "Threshold probability", "Net benefit")
	test := res.Metrics[learn.ModelDLRC]["test"]
	var all, none plotter.XYs
	top := 0.0
	for _, nb := range test.DecisionCurve {
		all = append(all, plotter.XY{X: nb.Threshold, Y: nb.TreatAll})
		none = append(none, plotter.XY{X: nb.Threshold, Y: nb.TreatNone})
		top = math.Max(top, nb.TreatAll)
	}
	for _, m := range trainModels {
		for _, nb := range res.Metrics[m]["test"].DecisionCurve {
			top = math.Max(top, nb.Model)
		}
	}
	p.X.Min, p.X.Max = 0, 1
	p.Y.Min, p.Y.Max = -0.1, math.Max(0.1, top*1.1)
	clip := func(xy plotter.XYs) plotter.XYs {
		var out plotter.XYs
		for _, v := range xy {
			if v.Y >= p.Y.Min {
				out = append(out, v)
			}
		}
		return out
	}
	if err := line(p, clip(all), color.Gray{Y: 0x40}, 1, true, "Treat all"); err != nil {
		return "", err
	}
	if err := line(p, none, color.Black, 1, false, "Treat none"); err != nil {
		return "", err
	}
	for _, m := range trainModels {
		var xy plotter.XYs
		for _, nb := range res.Metrics[m]["test"].DecisionCurve {
			xy = append(xy, plotter.XY{X: nb.Threshold, Y: nb.Model})
		}
		if err := line(p, clip(xy), modelColours[m], 1.6, false, modelLabels[m]); err != nil {
			return "", err
		}
	}
	p.Legend.Left, p.Legend.Top = false, true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), -vg.Points(6)
	svg, err := svgOf(p, 320, 300)
	return template.HTML(`<div class="panel">` + string(svg) + `</div>`), err
}

// shapFigure is a horizontal bar chart of the top mean |SHAP| values.
func shapFigure(title string, imp []learn.Importance, top int, c color.Color) (template.HTML, error) {
	if len(imp) > top {
		imp = imp[:top]
	}
	if len(imp) == 0 {
		return "", nil
	}
	vals := make(plotter.Values, len(imp))
	names := make([]string, len(imp))
	for k, im := range imp { // largest at the top
		vals[len(imp)-1-k] = im.MeanAbsSHAP
		names[len(imp)-1-k] = shortName(featureLabel(im.Feature), 40)
	}
	p := newPlot(title, "Mean |SHAP| (log-odds)", "")
	bars, err := plotter.NewBarChart(vals, vg.Points(11))
	if err != nil {
		return "", err
	}
	bars.Horizontal, bars.Color, bars.LineStyle.Width = true, c, 0
	p.Add(bars)
	p.NominalY(names...)
	p.X.Min = 0
	h := vg.Length(60 + 18*len(imp))
	svg, err := svgOf(p, 420, h)
	return template.HTML(`<div class="panel wide">` + string(svg) + `</div>`), err
}

// featureLabel shortens a PyRadiomics-style name for a figure:
// "left_original_glrlm_LongRunHighGrayLevelEmphasis" → "left glrlm LongRunHighGrayLevelEmphasis".
func featureLabel(s string) string {
	s = strings.Replace(s, "_original_", " ", 1)
	return strings.Replace(s, "_", " ", 1)
}

// fixed2 prints v with two decimals, without a minus sign on a rounded zero.
func fixed2(v float64) string {
	if math.Abs(v) < 0.005 {
		v = 0
	}
	return fmt.Sprintf("%.2f", v)
}

func shortName(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n/2-1]) + "…" + string(r[len(r)-n/2+1:])
}

var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>sacrum — DLRC model training report</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;max-width:1100px;margin:0 auto;padding:0 20px 40px}
h1{font-size:24px;margin:18px 0 4px}h2{font-size:20px;margin:32px 0 8px;border-bottom:2px solid #d55e00;padding-bottom:4px}
h3{font-size:16px;margin:22px 0 6px}
.ruo{background:#fff4e5;border:1px solid #f0b060;padding:8px 12px;border-radius:4px;font-weight:600}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13.5px}
th,td{padding:4px 9px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th{background:#f3f3f3;text-align:center}td.l,th.l{text-align:left}
tr.hl td{background:#fdf0e6;font-weight:600}tr.first td{border-top:1px solid #999}
.sig{color:#0a6b2c;font-weight:600}
.panels{display:flex;flex-wrap:wrap;gap:12px}.panel{flex:1 1 300px;max-width:360px}.panel.wide{max-width:480px;flex-basis:420px}
svg.fig{width:100%;height:auto}
.note{color:#555;font-size:13.5px;max-width:900px}
.meta td{text-align:left;white-space:normal}.meta td:first-child{color:#555;white-space:nowrap}
code{font-size:12.5px}
</style></head><body>
<h1>DLRC model: prediction of response to TNF inhibitors in axial spondyloarthritis</h1>
<p class="ruo">{{.ResearchUse}} This model estimates the probability that a patient reaches the ASAS response criteria after TNF-inhibitor treatment from a baseline sacroiliac-joint MRI and clinical data. It has not been validated for clinical use.</p>
<table class="meta">
<tr><td>Trained</td><td>{{.Created}}</td></tr>
<tr><td>Patients</td><td>{{.Patients}}</td></tr>
<tr><td>Image features offered</td><td>{{.Features}} (radiomics and deep-learning features, {{.Readers}} reader segmentation{{if eq .Readers 2}}s{{end}})</td></tr>
<tr><td>Clinical variables offered</td><td>{{.Clinical}}</td></tr>
<tr><td>Method</td><td>{{.Config.ICCForm}} ≥ {{.Config.ICCMin}}, Mann–Whitney p &lt; {{.Config.Alpha}}, |Spearman ρ| &gt; {{.Config.MaxAbsRho}} redundancy, LASSO ({{.Config.Folds}}-fold CV, {{.Config.Lambda}}), L2 logistic regression (C by CV){{if .Config.HeldOutDLR}}, second stage fitted on out-of-fold DLR scores{{end}}; AUC 95 % CI by DeLong, bootstrap {{.Config.Bootstrap}}, seed {{.Config.Seed}}</td></tr>
{{if .Extraction.RadiomicsParamsSHA256}}<tr><td>Radiomics settings</td><td>sha256 <code>{{.Extraction.RadiomicsParamsSHA256}}</code></td></tr>{{end}}
{{if .Extraction.DeepModel}}<tr><td>Deep feature model</td><td>{{.Extraction.DeepModel}} {{.Extraction.DeepModelVersion}}</td></tr>{{end}}
<tr><td>Training data</td><td>features sha256 <code>{{.FeaturesSHA}}</code><br>clinical sha256 <code>{{.ClinicalSHA}}</code></td></tr>
</table>
<p class="note"><b>How to read this page.</b> Three models are compared for each endpoint: <b>Clinical</b> (clinical variables only), <b>DLR</b> (the deep-learning radiomics score from the MRI alone) and <b>DLRC</b> (DLR score and clinical variables together). The <b>AUC</b> is the probability that the model ranks a random responder above a random non-responder (0.5 = chance, 1 = perfect). The <b>test set</b> was not used for any step of training: its numbers are the honest estimate of performance on new patients of the same kind. Sensitivity, specificity and the other rates use the Youden threshold chosen on the training set.</p>
{{range .Endpoints}}
<h2>{{.Label}} response</h2>
<p>Training set: {{.TrainN}} patients, {{.TrainEv}} responders. Test set: {{.TestN}} patients, {{.TestEv}} responders.</p>
<h3>Performance</h3>
<table>
<tr><th class="l">Model</th><th class="l">Set</th><th>AUC (95 % CI)</th><th>Sensitivity</th><th>Specificity</th><th>Accuracy</th><th>PPV</th><th>NPV</th><th>Threshold</th></tr>
{{range .Rows}}<tr class="{{if .Highlight}}hl{{end}}{{if .FirstOfModel}} first{{end}}"><td class="l">{{.Model}}</td><td class="l">{{.Set}}</td><td>{{.AUC}}</td><td>{{.Sens}}</td><td>{{.Spec}}</td><td>{{.Acc}}</td><td>{{.PPV}}</td><td>{{.NPV}}</td><td>{{.Threshold}}</td></tr>
{{end}}</table>
<h3>Added value of the MRI over clinical data</h3>
<table>
<tr><th class="l">Model vs clinical</th><th class="l">Set</th><th>ΔAUC</th><th>DeLong p</th><th>IDI</th><th>IDI p</th><th>NRI</th><th>NRI p</th></tr>
{{range .Comparisons}}<tr><td class="l">{{.Model}}</td><td class="l">{{.Set}}</td><td>{{.DeltaAUC}}</td><td>{{.DeLongP}}</td><td{{if .Significant}} class="sig"{{end}}>{{.IDI}}</td><td{{if .Significant}} class="sig"{{end}}>{{.IDIP}}</td><td>{{.NRI}}</td><td>{{.NRP}}</td></tr>
{{end}}</table>
<p class="note">IDI (integrated discrimination improvement) is how much further apart the model places responders and non-responders than the clinical model does; NRI (continuous net reclassification improvement) counts patients whose predicted probability moves in the right direction. A positive value with p &lt; 0.05 (green) means the model adds information beyond the clinical variables.</p>
<h3>ROC curves</h3>
<div class="panels">{{.ROC}}</div>
<h3>Calibration and clinical usefulness (test set)</h3>
<div class="panels">{{.Cal}}{{.DCA}}</div>
<table>
<tr><th class="l">Model</th><th class="l">Set</th><th>Calibration slope</th><th>Calibration-in-the-large</th><th>Brier score</th><th>Hosmer–Lemeshow p</th></tr>
{{range .Rows}}<tr class="{{if .FirstOfModel}}first{{end}}"><td class="l">{{.Model}}</td><td class="l">{{.Set}}</td><td>{{.Slope}}</td><td>{{.Intercept}}</td><td>{{.Brier}}</td><td>{{.HL}}</td></tr>
{{end}}</table>
<p class="note">Calibration: points on the diagonal mean the predicted probabilities match the observed response rates (slope 1 and intercept 0 are ideal; a slope below 1 means the predictions are too extreme). Decision curve: a model is useful at a threshold probability where its net benefit is above both “treat all” and “treat none”.</p>
<h3 id="shap-{{.Name}}">What drives the prediction (SHAP)</h3>
<div class="panels">{{.SHAPDLRC}}{{.SHAPDLR}}</div>
<p class="note">Mean absolute SHAP value on the training set: the average change in the predicted log-odds of response that each input causes. Left: the inputs of the DLRC model (the DLR score and the clinical variables). Right: the MRI features that make up the DLR score.</p>
<h3>Model</h3>
<table>
<tr><th class="l">DLRC input</th><th>Coefficient (per SD)</th><th>Mean |SHAP|</th></tr>
{{range .DLRCTerms}}<tr><td class="l">{{.Name}}</td><td>{{.Coef}}</td><td>{{.MeanAbsSHAP}}</td></tr>
{{end}}</table>
<p class="note">Clinical-only model inputs: {{.ClinicalInputs}}.</p>
<h3>Feature selection</h3>
<table>
<tr><th class="l">Step</th><th>Removed</th><th>Features left</th></tr>
{{range .Funnel}}<tr><td class="l">{{.Step}}{{if .Note}} ({{.Note}}){{end}}</td><td>{{if .Count}}{{.Count}}{{end}}</td><td>{{.Left}}</td></tr>
{{end}}</table>
<details><summary>The {{len .LassoTerms}} features of the DLR score (LASSO coefficients per SD)</summary>
<table>
<tr><th class="l">Feature</th><th>Coefficient</th><th>Mean |SHAP|</th></tr>
{{range .LassoTerms}}<tr><td class="l"><code>{{.Name}}</code></td><td>{{.Coef}}</td><td>{{.MeanAbsSHAP}}</td></tr>
{{end}}</table></details>
{{end}}
<p class="ruo">{{.ResearchUse}}</p>
</body></html>
`))
