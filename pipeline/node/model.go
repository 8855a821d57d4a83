package node

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sacrum-dev/sacrum/pipeline/learn"
	"github.com/sacrum-dev/sacrum/pipeline/report"
)

// Model is a trained model bundle (learn.Bundle) with the name and version the result objects carry.
type Model struct {
	Bundle  *learn.Bundle
	Name    string // the bundle directory's name, e.g. dlrc-synthetic
	Version string // "<created date> <first 12 hex digits of the sha256 of bundle.json>"
}

// LoadModel reads DIR/bundle.json.
func LoadModel(dir string) (*Model, error) {
	b, err := learn.LoadBundle(dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, learn.BundleFile))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	abs, _ := filepath.Abs(dir)
	return NewModel(b, filepath.Base(abs), hex.EncodeToString(sum[:])[:12])
}

// NewModel wraps a bundle; hash identifies its content in the version.
func NewModel(b *learn.Bundle, name, hash string) (*Model, error) {
	if b == nil {
		return nil, fmt.Errorf("model bundle: none")
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("model bundle %s: %w", name, err)
	}
	v := hash
	if d, _, ok := strings.Cut(b.Created, "T"); ok && d != "" {
		v = d + " " + hash
	}
	return &Model{Bundle: b, Name: name, Version: strings.TrimSpace(v)}, nil
}

// Prediction is one endpoint's output with the clinical inputs that were missing (DLR-only).
type Prediction struct {
	report.Prediction
	MissingClinical []string
}

// Predict applies every endpoint (ASAS40 first) and keeps the top contributions. Endpoints are reported
// in upper case (the SR's finding codes).
func (m *Model) Predict(features, clinical map[string]float64, top int) ([]Prediction, error) {
	res, err := m.Bundle.Predict(features, clinical)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	var out []Prediction
	for _, name := range m.Bundle.EndpointNames() {
		r := res[name]
		p := Prediction{Prediction: report.Prediction{Endpoint: strings.ToUpper(name), Probability: r.Probability,
			DLRScore: r.DLRScore, Threshold: r.Threshold, Responder: r.Responder, Variant: r.Variant},
			MissingClinical: r.MissingClinical}
		for i, c := range r.Contributions {
			if i == top {
				break
			}
			p.TopFeatures = append(p.TopFeatures, report.Contribution{Name: c.Name, Value: c.Value, SHAP: c.SHAP})
		}
		out = append(out, p)
	}
	return out, nil
}
