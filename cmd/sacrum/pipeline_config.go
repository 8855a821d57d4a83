package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sacrum-dev/sacrum/pipeline/infer"
	"github.com/sacrum-dev/sacrum/pipeline/learn"
	"github.com/sacrum-dev/sacrum/pipeline/node"
	"github.com/sacrum-dev/sacrum/pipeline/radiomics"
	"github.com/sacrum-dev/sacrum/pipeline/report"
	"github.com/sacrum-dev/sacrum/pipeline/study"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
)

// PipelineConfig is config.yaml's pipeline section: the imaging models, series selection, radiomics
// settings, the model bundle, clinical inputs and the result objects.
type PipelineConfig struct {
	infer.Config    `yaml:",inline"`
	SeriesSelection volume.SelectionConfig `yaml:"series_selection"`
	// RadiomicsParams is a PyRadiomics-style parameter file; empty uses radiomics.DefaultSettings.
	RadiomicsParams string `yaml:"radiomics_params"`
	// Bundle is the model bundle directory (bundle.json of `sacrum train`).
	Bundle string `yaml:"bundle"`
	// ClinicalCSVDir is a folder of CSV files with an accession column, read when a study is analysed.
	ClinicalCSVDir string `yaml:"clinical_csv_dir"`
	// ClinicalWait is how long a complete study waits for missing clinical inputs before DLR-only is used.
	ClinicalWait Duration `yaml:"clinical_wait"`
	// SRClass is comprehensive3d (default), comprehensive or enhanced.
	SRClass string `yaml:"sr_class"`
	// UIDRoot is the organisation's UID root for result objects; empty uses 2.25 UUID-form UIDs.
	UIDRoot string `yaml:"uid_root"`
	// NodeUID identifies this node in result objects (Device Observer UID, DeviceSerialNumber); empty: a
	// UID generated once and kept in <data_dir>/node-uid.
	NodeUID string `yaml:"node_uid"`
	// TopFeatures is the number of SHAP contributions per endpoint in the SR and the card.
	TopFeatures int `yaml:"top_features"`
	// CardPNG also writes each result card as card.png in the job's results directory.
	CardPNG bool `yaml:"card_png"`
}

// DefaultBundle is the shipped demonstration model bundle.
const DefaultBundle = "models/dlrc-synthetic"

// DefaultPipelineConfig uses the shipped models and bundle.
func DefaultPipelineConfig() PipelineConfig {
	return PipelineConfig{
		Config:          infer.DefaultConfig(),
		SeriesSelection: volume.DefaultSelection(),
		Bundle:          DefaultBundle,
		ClinicalWait:    Duration(0),
		TopFeatures:     5,
	}
}

// loadPipelineConfig reads the pipeline section of a configuration file (other sections are ignored here).
func loadPipelineConfig(path string) (PipelineConfig, error) {
	var c struct {
		Pipeline PipelineConfig `yaml:"pipeline"`
	}
	c.Pipeline = DefaultPipelineConfig()
	if path == "" {
		return c.Pipeline, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c.Pipeline, fmt.Errorf("config: %w", err)
	}
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c.Pipeline, fmt.Errorf("config %s: %w", path, err)
	}
	return c.Pipeline, c.Pipeline.Validate()
}

// Validate checks values the YAML types cannot.
func (pc PipelineConfig) Validate() error {
	if err := pc.SeriesSelection.Validate(); err != nil {
		return fmt.Errorf("pipeline.%w", err)
	}
	if _, err := report.ParseSRClass(pc.SRClass); err != nil {
		return fmt.Errorf("pipeline.sr_class: %w", err)
	}
	if pc.ClinicalWait < 0 {
		return errors.New("pipeline.clinical_wait must not be negative")
	}
	return nil
}

// radiomicsSettings loads the configured radiomics settings and names them.
func (pc PipelineConfig) radiomicsSettings() (radiomics.Settings, string, error) {
	if pc.RadiomicsParams == "" {
		return radiomics.DefaultSettings(), "built-in defaults (radiomics.DefaultSettings)", nil
	}
	s, err := radiomics.ReadSettings(pc.RadiomicsParams)
	if err != nil {
		return s, "", fmt.Errorf("pipeline.radiomics_params: %w", err)
	}
	return s, pc.RadiomicsParams, nil
}

// openAnalyzer opens the models and returns the imaging analyzer; close the models when done.
func (pc PipelineConfig) openAnalyzer() (*study.Analyzer, error) {
	s, name, err := pc.radiomicsSettings()
	if err != nil {
		return nil, err
	}
	models, err := pc.Config.Open()
	if err != nil {
		return nil, err
	}
	return study.New(models, study.Config{Selection: pc.SeriesSelection, Radiomics: s, RadiomicsName: name}), nil
}

// nodeConfig builds the node pipeline's configuration (the analyzer's models must be closed by the caller).
func (pc PipelineConfig) nodeConfig(dataDir, aeTitle string) (node.Config, error) {
	var nc node.Config
	if err := pc.Validate(); err != nil {
		return nc, err
	}
	bundle := pc.Bundle
	if bundle == "" {
		bundle = DefaultBundle
	}
	dir, err := infer.FindFile(filepath.Join(bundle, "bundle.json"))
	if err != nil {
		return nc, fmt.Errorf("pipeline.bundle: %w", err)
	}
	model, err := node.LoadModel(filepath.Dir(dir))
	if err != nil {
		return nc, fmt.Errorf("pipeline.bundle: %w", err)
	}
	uid := pc.NodeUID
	if uid == "" {
		if uid, err = nodeUID(dataDir); err != nil {
			return nc, err
		}
	}
	srClass, _ := report.ParseSRClass(pc.SRClass)
	an, err := pc.openAnalyzer()
	if err != nil {
		return nc, err
	}
	if err := matchExtraction(an, model.Bundle.Extraction, pc.RadiomicsParams); err != nil {
		an.Models.Close()
		return nc, fmt.Errorf("pipeline.bundle %s: %w", bundle, err)
	}
	return node.Config{
		Analyzer: an, Model: model,
		Node:           report.Node{UID: uid, Name: aeTitle, SoftwareVersion: sacrumVersion},
		Report:         report.Options{SRClass: srClass},
		UIDRoot:        pc.UIDRoot,
		ClinicalCSVDir: pc.ClinicalCSVDir,
		ClinicalWait:   time.Duration(pc.ClinicalWait),
		TopFeatures:    pc.TopFeatures,
		CardPNG:        pc.CardPNG,
	}, nil
}

// matchExtraction makes the node compute features as the bundle was trained: without pipeline.radiomics_params
// the bundle's own parameter file (recorded in bundle.json) is used; a configured file must have the same
// content, and a deep model the bundle names must be among the feature models.
func matchExtraction(an *study.Analyzer, ex learn.Extraction, configured string) error {
	if ex.RadiomicsParams != "" {
		if configured == "" {
			s, err := radiomics.ParseSettings([]byte(ex.RadiomicsParams))
			if err != nil {
				return fmt.Errorf("its radiomics parameters: %w", err)
			}
			an.Config.Radiomics, an.Config.RadiomicsName = s, "the bundle's radiomics parameters"
		} else if b, err := os.ReadFile(configured); err != nil {
			return err
		} else if sum := sha256.Sum256(b); ex.RadiomicsParamsSHA256 != "" && hex.EncodeToString(sum[:]) != ex.RadiomicsParamsSHA256 {
			return fmt.Errorf("it was trained with other radiomics parameters than pipeline.radiomics_params %s (leave the key empty to use the bundle's)", configured)
		}
	}
	if ex.DeepModel != "" {
		var m *infer.Manifest
		for _, e := range an.Models.Encoders {
			if e.Manifest.Name == ex.DeepModel {
				m = e.Manifest
			}
		}
		switch {
		case m == nil:
			return fmt.Errorf("it needs the deep feature model %q, which is not among pipeline.feature_models", ex.DeepModel)
		case ex.DeepModelSHA256 != "" && !strings.EqualFold(m.SHA256, ex.DeepModelSHA256):
			return fmt.Errorf("it was trained on the features of %s %s (sha256 %.12s…), the configured model is %s (sha256 %.12s…)",
				ex.DeepModel, ex.DeepModelVersion, ex.DeepModelSHA256, m.Version, m.SHA256)
		}
	}
	return nil
}

// sacrumVersion is sacrum's software version in result objects.
const sacrumVersion = "0.1.0"

// nodeUID returns the node's UID kept in <data_dir>/node-uid, creating it (2.25 form) on first use.
func nodeUID(dataDir string) (string, error) {
	p := filepath.Join(dataDir, "node-uid")
	if b, err := os.ReadFile(p); err == nil {
		if u := strings.TrimSpace(string(b)); u != "" {
			return u, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("node UID: %w", err)
	}
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 122))
	if err != nil {
		return "", err
	}
	u := "2.25." + n.String()
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", fmt.Errorf("node UID: %w", err)
	}
	if err := os.WriteFile(p, []byte(u+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("node UID: %w", err)
	}
	return u, nil
}

// analysisPipeline builds the node pipeline of queue.pipeline "analysis": the configured models, series
// selection, radiomics settings and bundle, with the node UID of the data directory. The store recognises
// our result objects by Manufacturer "sacrum" and DeviceSerialNumber = NodeUID().
func analysisPipeline(cfg Config, log *slog.Logger) (*node.Pipeline, error) {
	if w, jt := time.Duration(cfg.Pipeline.ClinicalWait), time.Duration(cfg.Queue.JobTimeout); jt > 0 && w >= jt {
		return nil, fmt.Errorf("pipeline.clinical_wait %s must be shorter than queue.job_timeout %s (a study waits inside its job)", w, jt)
	}
	nc, err := cfg.Pipeline.nodeConfig(cfg.Store.DataDir, cfg.Node.AETitle)
	if err != nil {
		return nil, err
	}
	nc.Logger = log
	p, err := node.New(nc)
	if err != nil {
		nc.Analyzer.Models.Close()
		return nil, err
	}
	log.Info("analysis pipeline", "bundle", nc.Model.Name+" "+nc.Model.Version, "radiomics", nc.Analyzer.Config.RadiomicsName,
		"clinical_csv_dir", nc.ClinicalCSVDir, "clinical_wait", nc.ClinicalWait, "node_uid", nc.Node.UID)
	return p, nil
}
