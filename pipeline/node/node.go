package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/suyashkumar/dicom"
	dtag "github.com/suyashkumar/dicom/pkg/tag"

	"github.com/sacrum-dev/sacrum/pipeline/dcmread"
	"github.com/sacrum-dev/sacrum/pipeline/image"
	"github.com/sacrum-dev/sacrum/pipeline/report"
	"github.com/sacrum-dev/sacrum/pipeline/study"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
	"github.com/sacrum-dev/sacrum/store"
)

// Config configures the node's pipeline.
type Config struct {
	Analyzer *study.Analyzer // imaging: series selection, segmentation, features
	Model    *Model          // the model bundle (LoadModel)
	Node     report.Node     // UID (also DeviceSerialNumber: IsOwnObject), name, software version
	Report   report.Options  // SR class, series numbers
	UIDRoot  string          // organisation UID root for result objects; empty: 2.25 UUID-form UIDs

	// ClinicalCSVDir is a folder of CSV files with an "accession" column (pipeline.clinical_csv_dir).
	ClinicalCSVDir string
	// ClinicalWait is how long a study waits after completion for missing clinical inputs before the
	// DLR-only variant is used (pipeline.clinical_wait); 0 does not wait.
	ClinicalWait time.Duration
	// ClinicalPoll is the interval at which the sources are read again while waiting (default 1 s).
	ClinicalPoll time.Duration
	// Clinical looks up the clinical JSON stored by PUT /api/v1/clinical/{accession} (store.Store.Clinical),
	// so that values stored during the wait are seen; nil uses only StudyInput.Clinical.
	Clinical func(accession string) (json.RawMessage, error)

	TopFeatures int              // SHAP contributions per endpoint in the SR and card (default 5)
	CardPNG     bool             // also write the result card as OutDir/card.png (not a result object)
	Now         func() time.Time // default time.Now
	Logger      *slog.Logger     // default: discard
}

// Pipeline is the node's store.Pipeline: a complete study's files → analysis → predictions → SR, SEG and
// result card in StudyInput.OutDir.
type Pipeline struct {
	cfg Config
}

// New checks the configuration.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Analyzer == nil {
		return nil, errors.New("node: no analyzer")
	}
	if cfg.Model == nil {
		return nil, errors.New("node: no model bundle")
	}
	if err := cfg.Model.Bundle.Validate(); err != nil {
		return nil, err
	}
	if cfg.Node.UID == "" {
		return nil, errors.New("node: no node UID")
	}
	if cfg.ClinicalPoll <= 0 {
		cfg.ClinicalPoll = time.Second
	}
	if cfg.TopFeatures <= 0 {
		cfg.TopFeatures = 5
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{cfg: cfg}, nil
}

// SetClinicalLookup sets Config.Clinical (the store is opened after the pipeline is built). Call it before
// the store runs the pipeline.
func (p *Pipeline) SetClinicalLookup(f func(accession string) (json.RawMessage, error)) {
	p.cfg.Clinical = f
}

// NodeUID is the UID written as DeviceSerialNumber: the store recognises routed-back results by it.
func (p *Pipeline) NodeUID() string { return p.cfg.Node.UID }

// Stage names of Process besides those of study.Analyzer.
const (
	StageFilter   = "filter_own_objects"
	StageClinical = "clinical_wait"
	StagePredict  = "predict"
	StageCAM      = "cam"
	StageReport   = "report"
)

// Summary is Results.Summary (shown by the admin API and `sacrum status --json`).
type Summary struct {
	ResearchUseOnly string              `json:"research_use_only"`
	Model           string              `json:"model"`
	Segmentation    string              `json:"segmentation"`
	STIRSeries      string              `json:"stir_series"`
	T1Series        string              `json:"t1_series,omitempty"`
	Series          []SeriesDecision    `json:"series"`
	Predictions     []PredictionSummary `json:"predictions"`
	IgnoredOwn      int                 `json:"ignored_own_objects,omitempty"`
	Predecessor     string              `json:"predecessor_sr,omitempty"`
	Stages          []StageSummary      `json:"stages"`
}

// SeriesDecision is why a series was chosen or rejected.
type SeriesDecision struct {
	Number int    `json:"number"`
	Role   string `json:"role,omitempty"`
	Reason string `json:"reason"`
}

// PredictionSummary is one endpoint's result.
type PredictionSummary struct {
	Endpoint        string   `json:"endpoint"`
	Variant         string   `json:"variant"`
	Probability     float64  `json:"probability"`
	Threshold       float64  `json:"threshold"`
	Responder       bool     `json:"responder"`
	DLRScore        float64  `json:"dlr_score"`
	MissingClinical []string `json:"missing_clinical,omitempty"`
	// TopFeatures are the largest SHAP contributions, as in the SR and on the card.
	TopFeatures []FeatureContribution `json:"top_features"`
}

// FeatureContribution is one model input: its value and its SHAP value (on the log-odds of response).
type FeatureContribution struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	SHAP  float64 `json:"shap"`
}

// Summaries are the summaries of predictions: in a study's summary, and in prediction.json of `sacrum
// predict`, which gives the same numbers without a node.
func Summaries(preds []Prediction) []PredictionSummary {
	out := make([]PredictionSummary, 0, len(preds))
	for _, pr := range preds {
		ps := PredictionSummary{Endpoint: pr.Endpoint, Variant: pr.Variant, Probability: pr.Probability,
			Threshold: pr.Threshold, Responder: pr.Responder, DLRScore: pr.DLRScore, MissingClinical: pr.MissingClinical}
		for _, c := range pr.TopFeatures {
			ps.TopFeatures = append(ps.TopFeatures, FeatureContribution{Name: c.Name, Value: c.Value, SHAP: c.SHAP})
		}
		out = append(out, ps)
	}
	return out
}

// StageSummary is one stage's duration.
type StageSummary struct {
	Stage string  `json:"stage"`
	MS    float64 `json:"ms"`
}

// Process implements store.Pipeline.
func (p *Pipeline) Process(ctx context.Context, in *store.StudyInput) (*store.Results, error) {
	start := p.cfg.Now()
	var stages []store.StageTime
	stage := func(name string, d time.Duration) { stages = append(stages, store.StageTime{Stage: name, Duration: d}) }

	t0 := time.Now()
	paths, ignored, err := p.inputFiles(in)
	if err != nil {
		return nil, err
	}
	stage(StageFilter, time.Since(t0))
	an, err := p.cfg.Analyzer.AnalyzeFiles(ctx, paths)
	if err != nil {
		return nil, err
	}
	for _, s := range an.Stages {
		stage(s.Name, s.Elapsed)
	}

	t0 = time.Now()
	clinical, err := p.waitClinical(ctx, in, start)
	if err != nil {
		return nil, err
	}
	stage(StageClinical, time.Since(t0))

	t0 = time.Now()
	preds, err := p.cfg.Model.Predict(an.Features.Values, clinical, p.cfg.TopFeatures)
	if err != nil {
		return nil, err
	}
	stage(StagePredict, time.Since(t0))

	t0 = time.Now()
	heat, err := CAM(an, p.cfg.Model.Bundle.Endpoints[p.cfg.Model.Bundle.EndpointNames()[0]].DLRWeights())
	if err != nil {
		return nil, err
	}
	stage(StageCAM, time.Since(t0))

	t0 = time.Now()
	res, err := p.reportResult(an, in, preds, heat)
	if err != nil {
		return nil, err
	}
	objs, err := report.Write(ctx, in.OutDir, res)
	if err != nil {
		return nil, err
	}
	if p.cfg.CardPNG {
		if err := writeCardPNG(filepath.Join(in.OutDir, "card.png"), res); err != nil {
			return nil, err
		}
	}
	stage(StageReport, time.Since(t0))

	out := &store.Results{Stages: stages}
	for _, o := range []report.ObjectRef{objs.SR, objs.SEG, objs.Card} {
		out.Objects = append(out.Objects, store.ResultObject{Path: o.Path, SOPClassUID: o.SOPClassUID,
			SOPInstanceUID: o.SOPInstanceUID, SeriesUID: o.SeriesInstanceUID})
	}
	sum := p.summary(an, preds, ignored, res, stages)
	if out.Summary, err = json.Marshal(sum); err != nil {
		return nil, err
	}
	p.cfg.Logger.Info("study analysed", "study_uid", in.StudyUID, "variant", preds[0].Variant,
		"segmentation", an.LabelSource, "elapsed", p.cfg.Now().Sub(start))
	return out, nil
}

func writeCardPNG(path string, r *report.Result) error {
	img, err := report.RenderCard(r)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("card PNG: %w", err)
	}
	err = png.Encode(f, img)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("card PNG %s: %w", path, err)
	}
	return nil
}

// resultClasses are the SOP classes of objects a node writes; only these can be our own objects.
var resultClasses = []string{report.ComprehensiveSR3DStorage, report.ComprehensiveSRStorage, report.EnhancedSRStorage,
	report.SegmentationStorage, report.SecondaryCaptureStorage}

// inputFiles lists the study's files without the result objects this node made (routed back by a PACS):
// our SEG must never come back as a "provided segmentation".
func (p *Pipeline) inputFiles(in *store.StudyInput) ([]string, int, error) {
	var paths []string
	ignored := 0
	for _, inst := range in.Instances {
		if slices.Contains(resultClasses, inst.SOPClassUID) && p.isOwn(inst.Path) {
			ignored++
			continue
		}
		paths = append(paths, inst.Path)
	}
	if len(paths) == 0 {
		return nil, 0, fmt.Errorf("study %s has no instances to analyse (%d own result objects ignored)", in.StudyUID, ignored)
	}
	return paths, ignored, nil
}

func (p *Pipeline) isOwn(path string) bool {
	ds, err := dicom.ParseFile(path, nil, dicom.SkipPixelData())
	if err != nil {
		// Not ours (we write readable files); volume.ReadFiles lists it as skipped with the reason.
		p.cfg.Logger.Warn("unreadable result-class instance", "path", path, "err", err)
		return false
	}
	return report.IsOwnObject(dcmread.First(ds.Elements, dtag.Manufacturer), dcmread.First(ds.Elements, dtag.DeviceSerialNumber), p.cfg.Node.UID)
}

// Clinical gathers the raw clinical values of a study: the CSV folder, overridden by the JSON stored
// through the admin API (read again from the store when Config.Clinical is set).
func (p *Pipeline) Clinical(in *store.StudyInput) (map[string]string, error) {
	out, err := ClinicalFromCSVDir(p.cfg.ClinicalCSVDir, in.Accession)
	if err != nil {
		return nil, err
	}
	raw := in.Clinical
	if p.cfg.Clinical != nil && in.Accession != "" {
		if r, err := p.cfg.Clinical(in.Accession); err != nil {
			return nil, fmt.Errorf("clinical inputs: %w", err)
		} else if r != nil {
			raw = r
		}
	}
	put, err := ClinicalFromJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("clinical inputs of accession %s: %w", in.Accession, err)
	}
	maps.Copy(out, put)
	return out, nil
}

// waitClinical returns the encoded clinical inputs, waiting until ClinicalWait after start while some
// that the bundle's DLRC models need are missing.
func (p *Pipeline) waitClinical(ctx context.Context, in *store.StudyInput, start time.Time) (map[string]float64, error) {
	deadline := start.Add(p.cfg.ClinicalWait)
	for {
		raw, err := p.Clinical(in)
		if err != nil {
			return nil, err
		}
		c, missing, err := p.cfg.Model.Bundle.EncodeClinical(raw)
		if err != nil {
			return nil, fmt.Errorf("clinical inputs of accession %s: %w", in.Accession, err)
		}
		left := deadline.Sub(p.cfg.Now())
		if len(missing) == 0 || left <= 0 {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(left, p.cfg.ClinicalPoll)):
		}
	}
}

// CAM is the class-activation heat map of a DLR score on the STIR grid: in each ROI, Σ_k w_k·A_k over the
// deep features of that ROI, with w the score's weights per raw unit (learn.EndpointBundle.DLRWeights);
// left and right voxels also get the "both" ROI's term. It is nil when the score uses no deep feature.
func CAM(an *study.Analysis, w map[string]float64) (*image.Volume, error) {
	var heat *image.Volume
	for _, fm := range an.Maps {
		for _, roi := range study.ROIs {
			wk := make([]float64, fm.Channels())
			used := false
			for c, n := range fm.Names() {
				if x, ok := w[study.Name(roi.Name, n)]; ok {
					wk[c], used = x, true
				}
			}
			if !used {
				continue
			}
			m, err := fm.CAM(an.Labels, wk, roi.Labels...)
			if err != nil {
				return nil, fmt.Errorf("class-activation map: %w", err)
			}
			if heat == nil {
				heat = m
				continue
			}
			for i, x := range m.Data {
				heat.Data[i] += x
			}
		}
	}
	return heat, nil
}

// reportResult assembles what report.Write needs.
func (p *Pipeline) reportResult(an *study.Analysis, in *store.StudyInput, preds []Prediction, heat *image.Volume) (*report.Result, error) {
	sel := an.Prepared.Selection
	src, err := readSource(sel.STIR.Instances[0].Path)
	if err != nil {
		return nil, err
	}
	if src.StudyInstanceUID == "" {
		src.StudyInstanceUID = in.StudyUID
	}
	if src.AccessionNumber == "" {
		src.AccessionNumber = in.Accession
	}
	refs, err := study.SliceRefs(sel.STIR, an.Prepared.STIR)
	if err != nil {
		return nil, err
	}
	src.STIR = seriesRef(sel.STIR, refs)
	if sel.T1 != nil {
		src.T1 = report.SeriesRef{SeriesInstanceUID: sel.T1.UID, FrameOfReferenceUID: sel.T1.Instances[0].FrameOfReferenceUID,
			SeriesDescription: sel.T1.Description}
		for _, inst := range sel.T1.Instances {
			src.T1.Instances = append(src.T1.Instances, report.InstanceRef{SOPClassUID: inst.SOPClassUID, SOPInstanceUID: inst.SOPInstanceUID})
		}
	}
	r := &report.Result{
		Source: src, Labels: an.Labels, Provided: an.Provided, Heatmap: heat, STIRVolume: an.Prepared.STIR,
		Model: report.Model{Name: p.cfg.Model.Name, Version: p.cfg.Model.Version}, Node: p.cfg.Node,
		Options: p.cfg.Report, UIDRoot: p.cfg.UIDRoot, Now: p.cfg.Now(),
	}
	if !an.Provided && p.cfg.Analyzer.Models != nil && p.cfg.Analyzer.Models.Segmentation != nil {
		m := p.cfg.Analyzer.Models.Segmentation.Manifest
		r.Model.SegmentationName, r.Model.SegmentationVersion = m.Name, m.Version
	}
	for _, pr := range preds {
		r.Predictions = append(r.Predictions, pr.Prediction)
	}
	r.Predecessor = predecessorSR(in.Predecessors)
	return r, nil
}

func seriesRef(s *volume.Series, refs []study.SliceRef) report.SeriesRef {
	r := report.SeriesRef{SeriesInstanceUID: s.UID, FrameOfReferenceUID: s.Instances[0].FrameOfReferenceUID,
		SeriesDescription: s.Description}
	for _, x := range refs {
		r.Instances = append(r.Instances, report.InstanceRef{SOPClassUID: x.SOPClassUID, SOPInstanceUID: x.SOPInstanceUID, Frame: x.Frame})
	}
	return r
}

// predecessorSR is the SR among the previous run's results.
func predecessorSR(prev []store.ResultObject) *report.SOPRef {
	for _, o := range prev {
		switch o.SOPClassUID {
		case report.ComprehensiveSR3DStorage, report.ComprehensiveSRStorage, report.EnhancedSRStorage, store.BasicTextSRClass:
			if o.SeriesUID == "" {
				continue
			}
			return &report.SOPRef{SOPClassUID: o.SOPClassUID, SOPInstanceUID: o.SOPInstanceUID, SeriesInstanceUID: o.SeriesUID}
		}
	}
	return nil
}

// readSource copies the patient and study attributes of a source image.
func readSource(path string) (report.Source, error) {
	var s report.Source
	ds, err := dicom.ParseFile(path, nil, dicom.SkipPixelData())
	if err != nil {
		return s, fmt.Errorf("read patient and study of %s: %w", path, err)
	}
	s.StudyInstanceUID, s.AccessionNumber, s.StudyID = dcmread.First(ds.Elements, dtag.StudyInstanceUID), dcmread.First(ds.Elements, dtag.AccessionNumber), dcmread.First(ds.Elements, dtag.StudyID)
	s.StudyDate, s.StudyTime, s.ReferringPhysician = dcmread.First(ds.Elements, dtag.StudyDate), dcmread.First(ds.Elements, dtag.StudyTime), dcmread.First(ds.Elements, dtag.ReferringPhysicianName)
	s.PatientName, s.PatientID = dcmread.First(ds.Elements, dtag.PatientName), dcmread.First(ds.Elements, dtag.PatientID)
	s.PatientBirthDate, s.PatientSex = dcmread.First(ds.Elements, dtag.PatientBirthDate), dcmread.First(ds.Elements, dtag.PatientSex)
	return s, nil
}

func (p *Pipeline) summary(an *study.Analysis, preds []Prediction, ignored int, r *report.Result, stages []store.StageTime) Summary {
	sel := an.Prepared.Selection
	s := Summary{ResearchUseOnly: report.Disclaimer, Model: p.cfg.Model.Name + " " + p.cfg.Model.Version,
		Segmentation: an.LabelSource, STIRSeries: sel.STIR.Name(), IgnoredOwn: ignored}
	if sel.T1 != nil {
		s.T1Series = sel.T1.Name()
	}
	for _, d := range sel.Decisions {
		s.Series = append(s.Series, SeriesDecision{Number: d.Number, Role: d.Role, Reason: d.Reason})
	}
	s.Predictions = Summaries(preds)
	if r.Predecessor != nil {
		s.Predecessor = r.Predecessor.SOPInstanceUID
	}
	for _, st := range stages {
		s.Stages = append(s.Stages, StageSummary{Stage: st.Stage, MS: float64(st.Duration.Microseconds()) / 1000})
	}
	return s
}
