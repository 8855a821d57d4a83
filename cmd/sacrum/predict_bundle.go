package main

import (
	"context"
	"fmt"

	"github.com/sacrum-dev/sacrum/pipeline/node"
	"github.com/sacrum-dev/sacrum/pipeline/study"
)

// predictionReport is prediction.json of `sacrum predict`: the node's predictions for the study.
type predictionReport struct {
	ResearchUseOnly string            `json:"research_use_only"`
	Model           string            `json:"model"`
	Clinical        map[string]string `json:"clinical_inputs"`
	Predictions     []node.Prediction `json:"predictions"`
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
	return an, &predictionReport{ResearchUseOnly: researchOnly, Model: nc.Model.Name + " " + nc.Model.Version,
		Clinical: clinical, Predictions: preds}, nil
}
