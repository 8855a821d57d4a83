package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/infer"
	"github.com/sacrum-dev/sacrum/pipeline/learn"
	"github.com/sacrum-dev/sacrum/pipeline/radiomics"
	"github.com/sacrum-dev/sacrum/pipeline/study"
)

// TestMatchExtraction: the node computes features with the bundle's radiomics parameters unless a file is
// configured, which must then be the same; a deep model the bundle needs must be configured.
func TestMatchExtraction(t *testing.T) {
	params, err := os.ReadFile("../../pipeline/radiomics/params/pyradiomics-default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(params)
	ex := learn.Extraction{RadiomicsParams: string(params), RadiomicsParamsSHA256: hex.EncodeToString(sum[:])}
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte(strings.Replace(string(params), "binWidth: 25", "binWidth: 10", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		ex         learn.Extraction
		configured string
		bin        float64 // expected bin width after matching
		err        string
	}{
		{"bundle params used", ex, "", 25, ""},
		{"same file configured", ex, "../../pipeline/radiomics/params/pyradiomics-default.yaml", 3, ""},
		{"other file configured", ex, other, 0, "other radiomics parameters"},
		{"deep model missing", learn.Extraction{DeepModel: "other"}, "", 3, `deep feature model "other"`},
		{"deep model matches", learn.Extraction{DeepModel: "encoder", DeepModelSHA256: "ABC123"}, "", 3, ""},
		{"deep model retrained", learn.Extraction{DeepModel: "encoder", DeepModelVersion: "1.0.0", DeepModelSHA256: "def456"}, "", 3, "trained on the features of encoder 1.0.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := radiomics.DefaultSettings()
			s.BinWidth = 3 // a marker: untouched unless the bundle's parameters replace it
			enc := &infer.Model{Manifest: &infer.Manifest{Name: "encoder", Version: "1.1.0", SHA256: "abc123"}}
			an := study.New(&infer.Pipeline{Encoders: []*infer.Model{enc}}, study.Config{Radiomics: s})
			err := matchExtraction(an, c.ex, c.configured)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if an.Config.Radiomics.BinWidth != c.bin {
				t.Errorf("bin width %v, want %v", an.Config.Radiomics.BinWidth, c.bin)
			}
		})
	}
}
