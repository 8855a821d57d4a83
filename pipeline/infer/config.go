package infer

import (
	"fmt"
	"os"
	"path/filepath"
)

// Config is the imaging-model part of config.yaml's pipeline section.
type Config struct {
	// ONNXRuntimeLibrary is the libonnxruntime shared library; empty searches as FindLibrary says.
	ONNXRuntimeLibrary string `yaml:"onnxruntime_library"`
	// SegmentationModel is the manifest (model.yaml) of the segmentation model.
	SegmentationModel string `yaml:"segmentation_model"`
	// FeatureModels are the manifests of the deep-feature encoders.
	FeatureModels []string `yaml:"feature_models"`
	// Threads is ONNX Runtime's intra-op thread count per session (0: one per core).
	Threads int `yaml:"threads"`
}

// DefaultConfig uses the shipped demonstration models.
func DefaultConfig() Config {
	return Config{
		SegmentationModel: "models/seg-sij-unet/model.yaml",
		FeatureModels:     []string{"models/deep-encoder/model.yaml"},
	}
}

// FindFile resolves a relative path of a shipped file (a model manifest, the default ONNX Runtime library):
// as given if it exists (relative to the working directory), else under the nearest parent directory of
// the working directory that has it (a checkout), else next to the executable or under its parent directory.
func FindFile(rel string) (string, error) {
	if filepath.IsAbs(rel) || fileExists(rel) {
		if !fileExists(rel) {
			return "", fmt.Errorf("%s: not found", rel)
		}
		return rel, nil
	}
	var tried []string
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			p := filepath.Join(dir, rel)
			tried = append(tried, p)
			if fileExists(p) {
				return p, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		for _, dir := range []string{filepath.Dir(exe), filepath.Dir(filepath.Dir(exe))} {
			p := filepath.Join(dir, rel)
			tried = append(tried, p)
			if fileExists(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s: not found (looked in %v)", rel, tried)
}

// Open opens ONNX Runtime and loads and validates every configured model: what `sacrum serve` calls at
// start-up (refusing to start on error) and `sacrum predict` before it reads the study.
func (c Config) Open() (*Pipeline, error) {
	rt, err := OpenDefault(c.ONNXRuntimeLibrary)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{}
	load := func(rel string) (*Model, error) {
		path, err := FindFile(rel)
		if err != nil {
			return nil, fmt.Errorf("model manifest %w", err)
		}
		return LoadFile(rt, path, Options{Threads: c.Threads})
	}
	if c.SegmentationModel != "" {
		if p.Segmentation, err = load(c.SegmentationModel); err != nil {
			return nil, err
		}
		if t := p.Segmentation.Manifest.Task; t != TaskSegmentation {
			p.Close()
			return nil, fmt.Errorf("segmentation_model %s is a %s model", c.SegmentationModel, t)
		}
	}
	for _, f := range c.FeatureModels {
		m, err := load(f)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.Encoders = append(p.Encoders, m)
		if t := m.Manifest.Task; t != TaskFeatures {
			p.Close()
			return nil, fmt.Errorf("feature model %s is a %s model", f, t)
		}
	}
	return p, nil
}
