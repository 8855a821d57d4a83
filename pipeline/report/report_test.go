package report

import (
	"context"
	goimage "image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/suyashkumar/dicom"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

func TestWriteRejectsBadInput(t *testing.T) {
	tests := []struct {
		name   string
		modify func(r *Result)
		want   string
	}{
		{"no study UID", func(r *Result) { r.Source.StudyInstanceUID = "" }, "StudyInstanceUID"},
		{"no label map", func(r *Result) { r.Labels = nil }, "no label map"},
		{"instances and slices differ", func(r *Result) { r.Source.STIR.Instances = r.Source.STIR.Instances[1:] }, "5 instances, label map has 6 slices"},
		{"empty label map", func(r *Result) { clear(r.Labels.Data) }, "label map is empty"},
		{"NaN probability", func(r *Result) { r.Predictions[0].Probability = math.NaN() }, "non-finite"},
		{"probability above 1", func(r *Result) { r.Predictions[1].Probability = 1.5 }, "outside [0, 1]"},
		{"infinite SHAP", func(r *Result) { r.Predictions[0].TopFeatures[0].SHAP = math.Inf(1) }, "non-finite value"},
		{"heat map on another grid", func(r *Result) {
			g := r.Labels.Grid
			g.Spacing[0] *= 2
			r.Heatmap = image.NewVolume(g)
		}, "grids differ"},
		{"unknown variant", func(r *Result) { r.Predictions[0].Variant = "" }, "model variant"},
		{"no predictions", func(r *Result) { r.Predictions = nil }, "no predictions"},
		{"bad UID root", func(r *Result) { r.UIDRoot = "1.02.3" }, "not a valid UID prefix"},
		{"UID root too long", func(r *Result) { r.UIDRoot = "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22" }, "too long"},
		{"no node UID", func(r *Result) { r.Node.UID = "" }, "node UID"},
		{"no time", func(r *Result) { r.Now = time.Time{} }, "Now"},
		{"no segmentation model name", func(r *Result) { r.Model.SegmentationName = "" }, "SegmentationName"},
		{"bad predecessor", func(r *Result) { r.Predecessor = &SOPRef{SOPInstanceUID: "1.2.3"} }, "predecessor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testResult(t, 16, 12, 6)
			tc.modify(r)
			dir := t.TempDir()
			_, err := Write(context.Background(), dir, r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			// Nothing of a failed run is left behind.
			if left, _ := os.ReadDir(dir); len(left) > 0 {
				t.Errorf("files left after a failed write: %v", left)
			}
		})
	}
}

// TestWriteFailureLeavesNothing makes the last step (the SR) fail and checks that the SEG and
// card written before it are removed.
func TestWriteFailureLeavesNothing(t *testing.T) {
	r := testResult(t, 16, 12, 6)
	dir := t.TempDir()
	blocker := filepath.Join(dir, "SR-"+r.uids().srSOP+".dcm", "x") // a non-empty directory at the SR's path
	if err := os.MkdirAll(blocker, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(context.Background(), dir, r); err == nil || !strings.Contains(err.Error(), "report: SR") {
		t.Fatalf("error %v, want an SR write error", err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 {
		t.Errorf("files left after a failed write: %v", left)
	}
}

func TestWriteCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, t.TempDir(), testResult(t, 16, 12, 6)); err != context.Canceled {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestUIDs(t *testing.T) {
	r := testResult(t, 16, 12, 6)
	a := r.uids()
	all := []string{a.srSOP, a.srSeries, a.segSOP, a.segSeries, a.cardSOP, a.cardSeries, a.dimension, a.tracking["ASAS40"], a.tracking["ASAS20"]}
	seen := map[string]bool{}
	for _, u := range all {
		if len(u) > 64 || !strings.HasPrefix(u, "2.25.") || strings.Trim(u, "0123456789.") != "" {
			t.Errorf("invalid UID %q", u)
		}
		if seen[u] {
			t.Errorf("duplicate UID %s", u)
		}
		seen[u] = true
	}
	if b := r.uids(); b.srSOP != a.srSOP {
		t.Error("UIDs are not deterministic")
	}
	r.Now = r.Now.Add(time.Millisecond)
	if b := r.uids(); b.srSOP == a.srSOP {
		t.Error("a later run reuses the SR UID")
	}
	r.UIDRoot = "1.2.826.0.1.3680043.9.9999"
	if u := r.uids().srSOP; !strings.HasPrefix(u, r.UIDRoot+".") || len(u) > 64 {
		t.Errorf("UID %q not under the root", u)
	}
}

func TestParseSRClass(t *testing.T) {
	for _, c := range []struct {
		in   string
		want SRClass
		ok   bool
	}{{"", Comprehensive3D, true}, {"Comprehensive3D", Comprehensive3D, true}, {"comprehensive", Comprehensive, true},
		{"enhanced", Enhanced, true}, {"basic", 0, false}} {
		got, err := ParseSRClass(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseSRClass(%q) = %v, %v", c.in, got, err)
		}
	}
}

func TestKeySlice(t *testing.T) {
	r := testResult(t, 16, 12, 5)
	clear(r.Labels.Data)
	n := 16 * 12
	r.Labels.Data[1*n+3] = 1
	for i := 0; i < 4; i++ {
		r.Labels.Data[3*n+i] = 2
	}
	r.Labels.Data[4*n+7] = 1
	if k := keySlice(r); k != 3 {
		t.Errorf("key slice %d, want 3", k)
	}
}

// TestCard checks the card's pixels: the Secondary Capture holds exactly the rendered image, and
// the image shows both ROI outlines, the heat map inside the ROI, and the disclaimer banner. It
// writes card.png into $SACRUM_CARD_DIR when set, for a visual check.
func TestCard(t *testing.T) {
	r := testResult(t, 128, 128, 12)
	objs, err := Write(context.Background(), t.TempDir(), r)
	if err != nil {
		t.Fatal(err)
	}
	img, err := RenderCard(r)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != cardWidth || b.Dy() != cardHeight {
		t.Fatalf("card is %v", b)
	}
	els := parse(t, objs.Card.Path)
	for _, c := range []struct {
		g, e uint16
		want string
	}{{0x0028, 0x0301, "YES"}, {0x0008, 0x0064, "WSD"}, {0x0028, 0x0004, "RGB"}, {0x0008, 0x0016, SecondaryCaptureStorage},
		{0x0020, 0x4000, Disclaimer}} {
		if got := str1(els, c.g, c.e); got != c.want {
			t.Errorf("(%04X,%04X) = %q, want %q", c.g, c.e, got, c.want)
		}
	}
	raw := find(els, 0x7FE0, 0x0010).Value.GetValue()
	pix := rawPixels(t, raw)
	if len(pix) != 3*cardWidth*cardHeight {
		t.Fatalf("pixel data %d bytes", len(pix))
	}
	counts := map[color.RGBA]int{}
	heat := 0
	for y := 0; y < cardHeight; y++ {
		for x := 0; x < cardWidth; x++ {
			c := img.RGBAAt(x, y)
			o := 3 * (y*cardWidth + x)
			if pix[o] != c.R || pix[o+1] != c.G || pix[o+2] != c.B {
				t.Fatalf("pixel (%d,%d) in the SC differs from the rendered card", x, y)
			}
			counts[c]++
			if x < 20+viewSize && y > 64 && y < 64+viewSize && int(c.R) > int(c.B)+60 && int(c.G) > int(c.B)+20 {
				heat++ // orange/yellow over gray: the heat map
			}
		}
	}
	for _, s := range segments() {
		if counts[s.colour] < 50 {
			t.Errorf("%s outline: %d pixels", s.label, counts[s.colour])
		}
	}
	if counts[colWarning] < 2000 {
		t.Errorf("disclaimer banner: %d pixels", counts[colWarning])
	}
	if heat < 200 {
		t.Errorf("heat map: %d pixels", heat)
	}
	if dir := os.Getenv("SACRUM_CARD_DIR"); dir != "" {
		if err := writePNG(filepath.Join(dir, "card.png"), img); err != nil {
			t.Fatal(err)
		}
	}
}

func rawPixels(t *testing.T, v any) []byte {
	t.Helper()
	pd, ok := v.(dicom.PixelDataInfo)
	if !ok || !pd.IntentionallyUnprocessed {
		t.Fatalf("pixel data not read raw: %T", v)
	}
	return pd.UnprocessedValueData
}

func writePNG(path string, img goimage.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// BenchmarkWrite measures writing the three objects for a 256×256×20 STIR study.
func BenchmarkWrite(b *testing.B) {
	r := testResult(b, 256, 256, 20)
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Write(context.Background(), dir, r); err != nil {
			b.Fatal(err)
		}
	}
}
