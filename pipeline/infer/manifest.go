package infer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
	"go.yaml.in/yaml/v3"
)

// Model tasks.
const (
	TaskSegmentation = "segmentation"
	TaskFeatures     = "features"
)

// Manifest describes an ONNX model (models/<name>/model.yaml). Paths are relative to the manifest's directory.
type Manifest struct {
	Name        string     `yaml:"name"`
	Version     string     `yaml:"version"`
	Task        string     `yaml:"task"` // segmentation | features
	ONNX        string     `yaml:"onnx"`
	SHA256      string     `yaml:"sha256"`
	Licence     string     `yaml:"licence"`
	IntendedUse string     `yaml:"intended_use"`
	Input       InputSpec  `yaml:"input"`
	Output      OutputSpec `yaml:"output"`

	Dir string `yaml:"-"` // directory of model.yaml
}

// InputSpec is the model's single input tensor.
type InputSpec struct {
	Name string `yaml:"name"`
	// Layout is NCHW: N slices of the STIR grid, C channels, H rows, W columns (slice-wise 2D inference).
	Layout string `yaml:"layout"`
	// Channels names the sequence of each channel, in order: "stir", "t1".
	Channels []string `yaml:"channels"`
	// SpacingMM is the in-plane pixel size the model works at, (column, row) in mm.
	SpacingMM [2]float64 `yaml:"spacing_mm"`
	// Patch is the input size (H rows, W columns); slices are resampled to SpacingMM around the image centre
	// and cropped or zero-padded to this size.
	Patch [2]int `yaml:"patch"`
	// Normalisation per channel and volume: "zscore" ((x − mean)/sd over the volume) or "none".
	Normalisation string `yaml:"normalisation"`
}

// OutputSpec is the model's output tensor.
type OutputSpec struct {
	Name string `yaml:"name"`
	// Kind: "logits" (segmentation: one score map per class, argmax) or "feature_maps" (features).
	Kind string `yaml:"kind"`
	// Labels is the label value of each logits channel (segmentation), e.g. [0, 1, 2]: background, left, right.
	Labels []int `yaml:"labels"`
	// Channels is the number of feature maps (features).
	Channels int `yaml:"channels"`
	// Stride is the input-to-output downsampling factor (1 for segmentation logits).
	Stride int `yaml:"stride"`
}

// ReadManifest reads and checks a model.yaml (the ONNX file itself is checked by Validate).
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model manifest: %w", err)
	}
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("model manifest %s: %w", path, err)
	}
	m.Dir = filepath.Dir(path)
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("model manifest %s: %w", path, err)
	}
	return &m, nil
}

func (m *Manifest) check() error {
	switch {
	case m.Name == "":
		return fmt.Errorf("name is empty")
	case m.Task != TaskSegmentation && m.Task != TaskFeatures:
		return fmt.Errorf("task %q: want %s or %s", m.Task, TaskSegmentation, TaskFeatures)
	case m.ONNX == "":
		return fmt.Errorf("onnx (the model file) is empty")
	case len(m.SHA256) != 64:
		return fmt.Errorf("sha256 %q: want 64 hex digits", m.SHA256)
	case m.Input.Name == "" || m.Output.Name == "":
		return fmt.Errorf("input.name and output.name are required")
	case m.Input.Layout != "NCHW":
		return fmt.Errorf("input.layout %q: only NCHW (slice-wise 2D) is supported", m.Input.Layout)
	case len(m.Input.Channels) == 0:
		return fmt.Errorf("input.channels is empty")
	case !(m.Input.SpacingMM[0] > 0 && m.Input.SpacingMM[1] > 0):
		return fmt.Errorf("input.spacing_mm %v: want two positive values", m.Input.SpacingMM)
	case m.Input.Patch[0] <= 0 || m.Input.Patch[1] <= 0:
		return fmt.Errorf("input.patch %v: want two positive sizes", m.Input.Patch)
	case m.Input.Normalisation != "zscore" && m.Input.Normalisation != "none":
		return fmt.Errorf("input.normalisation %q: want zscore or none", m.Input.Normalisation)
	}
	for _, c := range m.Input.Channels {
		if c != "stir" && c != "t1" {
			return fmt.Errorf("input.channels: %q is not stir or t1", c)
		}
	}
	if m.Output.Stride <= 0 {
		return fmt.Errorf("output.stride %d: want ≥ 1", m.Output.Stride)
	}
	switch m.Task {
	case TaskSegmentation:
		if m.Output.Kind != "logits" || len(m.Output.Labels) < 2 {
			return fmt.Errorf("segmentation output: want kind logits and at least two labels")
		}
		for _, l := range m.Output.Labels {
			if l < 0 || l > 255 {
				return fmt.Errorf("output.labels: %d is not a label value 0–255", l)
			}
		}
	case TaskFeatures:
		if m.Output.Kind != "feature_maps" || m.Output.Channels <= 0 {
			return fmt.Errorf("features output: want kind feature_maps and channels ≥ 1")
		}
	}
	return nil
}

// Path is the ONNX file's path.
func (m *Manifest) Path() string {
	if filepath.IsAbs(m.ONNX) {
		return m.ONNX
	}
	return filepath.Join(m.Dir, m.ONNX)
}

// outChannels is the number of output channels the manifest promises.
func (m *Manifest) outChannels() int {
	if m.Task == TaskSegmentation {
		return len(m.Output.Labels)
	}
	return m.Output.Channels
}

// Validate checks everything a model needs before the node starts: the ONNX Runtime is open, the file is
// present with the manifest's sha256, and its input and output tensors have the names and shapes the
// manifest declares (dynamic dimensions, reported as -1, accept any size).
func Validate(rt *Runtime, m *Manifest) error {
	if rt == nil {
		return fmt.Errorf("model %s: %w", m.Name, ErrNotOpen)
	}
	p := m.Path()
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("model %s: ONNX file: %w", m.Name, err)
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("model %s: reading %s: %w", m.Name, p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, m.SHA256) {
		return fmt.Errorf("model %s: %s has sha256 %s, the manifest says %s (wrong or modified file)", m.Name, p, got, m.SHA256)
	}
	ins, outs, err := ort.GetInputOutputInfo(p)
	if err != nil {
		return fmt.Errorf("model %s: ONNX Runtime cannot read %s: %w", m.Name, p, err)
	}
	in := findInfo(ins, m.Input.Name)
	if in == nil {
		return fmt.Errorf("model %s: no input tensor %q (inputs: %s)", m.Name, m.Input.Name, infoNames(ins))
	}
	want := []int64{-1, int64(len(m.Input.Channels)), int64(m.Input.Patch[0]), int64(m.Input.Patch[1])}
	if err := checkShape(in, want); err != nil {
		return fmt.Errorf("model %s: input %w", m.Name, err)
	}
	out := findInfo(outs, m.Output.Name)
	if out == nil {
		return fmt.Errorf("model %s: no output tensor %q (outputs: %s)", m.Name, m.Output.Name, infoNames(outs))
	}
	s := int64(m.Output.Stride)
	want = []int64{-1, int64(m.outChannels()), int64(m.Input.Patch[0]) / s, int64(m.Input.Patch[1]) / s}
	if err := checkShape(out, want); err != nil {
		return fmt.Errorf("model %s: output %w", m.Name, err)
	}
	return nil
}

func findInfo(infos []ort.InputOutputInfo, name string) *ort.InputOutputInfo {
	i := slices.IndexFunc(infos, func(x ort.InputOutputInfo) bool { return x.Name == name })
	if i < 0 {
		return nil
	}
	return &infos[i]
}

func infoNames(infos []ort.InputOutputInfo) string {
	var n []string
	for _, x := range infos {
		n = append(n, fmt.Sprintf("%q %v", x.Name, x.Dimensions))
	}
	return strings.Join(n, ", ")
}

// checkShape compares a tensor's declared dimensions with want; -1 on either side accepts any size.
func checkShape(info *ort.InputOutputInfo, want []int64) error {
	if info.OrtValueType != ort.ONNXTypeTensor || info.DataType != ort.TensorElementDataTypeFloat {
		return fmt.Errorf("%q: want a float32 tensor, got %v of %v", info.Name, info.OrtValueType, info.DataType)
	}
	got := info.Dimensions
	if len(got) != len(want) {
		return fmt.Errorf("%q has shape %v, the manifest implies %v (N×C×H×W)", info.Name, got, want)
	}
	for i := range want {
		if got[i] >= 0 && want[i] >= 0 && got[i] != want[i] {
			return fmt.Errorf("%q has shape %v, the manifest implies %v (N×C×H×W)", info.Name, got, want)
		}
	}
	return nil
}
