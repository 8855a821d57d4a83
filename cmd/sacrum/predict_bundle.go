package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/suyashkumar/dicom"
	dtag "github.com/suyashkumar/dicom/pkg/tag"

	"github.com/sacrum-dev/sacrum/pipeline/node"
	"github.com/sacrum-dev/sacrum/pipeline/study"
)

// predictionReport is prediction.json of `sacrum predict`: the node's predictions for the study, with
// the fields of the study summary's predictions (node.Summaries).
type predictionReport struct {
	ResearchUseOnly string                   `json:"research_use_only"`
	Model           string                   `json:"model"`
	Clinical        map[string]string        `json:"clinical_inputs"`
	Predictions     []node.PredictionSummary `json:"predictions"`
}

// studyPrediction analyses a study's files and applies the configured bundle exactly as the node does
// (the bundle's radiomics parameters, the same feature names, learn.Bundle.Predict), so that `sacrum
// predict` gives the probabilities of the node's SR. clinical holds raw values by variable name (as in a
// clinical CSV); missing ones make the DLR-only variant, as in the node.
func studyPrediction(ctx context.Context, pc PipelineConfig, paths []string, clinical map[string]string) (*study.Analysis, *predictionReport, error) {
	if pc.NodeUID == "" {
		pc.NodeUID = "2.25.0" // not written anywhere: predict makes no result objects
	}
	if pc.TopFeatures <= 0 {
		pc.TopFeatures = 5
	}
	nc, err := pc.nodeConfig("", "")
	if err != nil {
		return nil, nil, err
	}
	defer nc.Analyzer.Models.Close()
	an, err := nc.Analyzer.AnalyzeFiles(ctx, paths)
	if err != nil {
		return nil, nil, err
	}
	enc, _, err := nc.Model.Bundle.EncodeClinical(clinical)
	if err != nil {
		return nil, nil, fmt.Errorf("clinical inputs: %w", err)
	}
	preds, err := nc.Model.Predict(an.Features.Values, enc, nc.TopFeatures)
	if err != nil {
		return nil, nil, err
	}
	used := map[string]string{} // the bundle's variables only (a CSV row also holds identifiers and outcomes)
	for _, v := range nc.Model.Bundle.Clinical {
		if x, ok := clinical[v.Name]; ok {
			used[v.Name] = x
		}
	}
	rep := &predictionReport{ResearchUseOnly: researchOnly, Model: nc.Model.Name + " " + nc.Model.Version, Clinical: used}
	rep.Predictions = node.Summaries(preds)
	return an, rep, nil
}

// writePrediction writes DIR/prediction.json for `sacrum predict`: the node's predictions for the study in
// studyDir with the configured bundle (pc.Bundle). clinicalPath is a JSON object of clinical values, or a CSV
// file with an accession column (the study's AccessionNumber selects the row); empty means no clinical
// inputs (DLR-only).
func writePrediction(ctx context.Context, studyDir, outDir string, pc PipelineConfig, clinicalPath string) (*predictionReport, error) {
	var paths []string
	err := filepath.WalkDir(studyDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	clinical := map[string]string{}
	switch {
	case clinicalPath == "":
	case strings.EqualFold(filepath.Ext(clinicalPath), ".json"):
		b, err := os.ReadFile(clinicalPath)
		if err != nil {
			return nil, err
		}
		if clinical, err = node.ClinicalFromJSON(b); err != nil {
			return nil, fmt.Errorf("%s: %w", clinicalPath, err)
		}
	default:
		acc, err := studyAccession(paths)
		if err != nil {
			return nil, err
		}
		if clinical, err = node.ClinicalFromCSV(clinicalPath, acc); err != nil {
			return nil, err
		}
	}
	_, rep, err := studyPrediction(ctx, pc, paths, clinical)
	if err != nil {
		return nil, err
	}
	return rep, writeJSON(filepath.Join(outDir, "prediction.json"), rep)
}

// studyAccession is the AccessionNumber of the first readable DICOM file.
func studyAccession(paths []string) (string, error) {
	for _, p := range paths {
		ds, err := dicom.ParseFile(p, nil, dicom.SkipPixelData())
		if err != nil {
			continue
		}
		e, err := ds.FindElementByTag(dtag.AccessionNumber)
		if err != nil {
			return "", fmt.Errorf("%s has no AccessionNumber to find its clinical row", p)
		}
		if v, ok := e.Value.GetValue().([]string); ok && len(v) > 0 && strings.TrimSpace(v[0]) != "" {
			return strings.TrimSpace(v[0]), nil
		}
		return "", fmt.Errorf("%s has an empty AccessionNumber", p)
	}
	return "", fmt.Errorf("no readable DICOM file")
}
