package report

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// srItem is a flattened SR content item.
type srItem struct {
	depth       int
	rel, vt     string
	name, value string
	ds          string  // NUM: NumericValue
	fp          float64 // NUM: FloatingPointValue
	els         []*dicom.Element
}

// walkSR flattens the content tree below els (depth-first, document order).
func walkSR(t *testing.T, els []*dicom.Element, depth int, out *[]srItem) {
	for _, it := range items(els, 0x0040, 0xA730) {
		s := srItem{depth: depth, rel: str1(it, 0x0040, 0xA010), vt: str1(it, 0x0040, 0xA040), name: conceptMeaning(it), els: it}
		switch s.vt {
		case "TEXT":
			s.value = str1(it, 0x0040, 0xA160)
		case "UIDREF":
			s.value = str1(it, 0x0040, 0xA124)
		case "CODE":
			s.value = codeOf(it, 0x0040, 0xA168)
		case "NUM":
			mv := items(it, 0x0040, 0xA300)[0]
			s.ds = str1(mv, 0x0040, 0xA30A)
			s.fp = floats(t, mv, 0x0040, 0xA161)[0]
			s.value = s.ds + " " + codeOf(mv, 0x0040, 0x08EA)
		case "IMAGE":
			ref := items(it, 0x0008, 0x1199)[0]
			s.value = str1(ref, 0x0008, 0x1150) + " " + str1(ref, 0x0008, 0x1155)
			if seg := ints(ref, 0x0062, 0x000B); seg != nil {
				s.value += fmt.Sprintf(" segments %v", seg)
			}
		}
		*out = append(*out, s)
		walkSR(t, it, depth+1, out)
	}
}

// TestSRProbabilitiesRoundTrip checks that the predicted probabilities read back from the SR
// equal the input: exactly from FloatingPointValue, and to 5e-15 from the 16-character DS.
func TestSRProbabilitiesRoundTrip(t *testing.T) {
	tests := []struct{ p40, p20 float64 }{
		{0.7312345678901234, 0.123456789012345e-3},
		{0.5, 1},
		{0, 0.9999999999999999},
		{1e-12, 0.33333333333333331},
		{0.0123456789012345678, 0.987654321098765432},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.p40, tc.p20), func(t *testing.T) {
			r := testResult(t, 32, 24, 6)
			r.Predictions[0].Probability, r.Predictions[1].Probability = tc.p40, tc.p20
			objs, err := Write(context.Background(), t.TempDir(), r)
			if err != nil {
				t.Fatal(err)
			}
			var flat []srItem
			walkSR(t, parse(t, objs.SR.Path), 0, &flat)
			got := map[string]srItem{}
			endpoint := ""
			for _, it := range flat {
				if it.name == "Tracking Identifier" {
					endpoint = strings.Fields(it.value)[0]
				}
				if it.name == "Predicted probability of response" {
					got[endpoint] = it
				}
			}
			for _, p := range r.Predictions {
				it, ok := got[p.Endpoint]
				if !ok {
					t.Fatalf("no probability for %s", p.Endpoint)
				}
				if it.fp != p.Probability {
					t.Errorf("%s FloatingPointValue %v, want %v", p.Endpoint, it.fp, p.Probability)
				}
				if len(it.ds) > 16 {
					t.Errorf("%s NumericValue %q longer than 16", p.Endpoint, it.ds)
				}
				ds, err := strconv.ParseFloat(it.ds, 64)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(ds-p.Probability) > 5e-15 {
					t.Errorf("%s NumericValue %s differs from %v by %g", p.Endpoint, it.ds, p.Probability, ds-p.Probability)
				}
			}
		})
	}
}

// TestReadSR reads the predictions back through ReadSR: every value equals the input exactly.
func TestReadSR(t *testing.T) {
	r := testResult(t, 32, 24, 6)
	r.Predecessor = &SOPRef{ComprehensiveSR3DStorage, "1.2.826.0.1.3680043.9.9999.7.1", "1.2.826.0.1.3680043.9.9999.7"}
	r.Options.SRClass = Enhanced
	objs, err := Write(context.Background(), t.TempDir(), r)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSR(objs.SR.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Predictions, r.Predictions) {
		t.Errorf("predictions read back:\n%+v\nwant\n%+v", s.Predictions, r.Predictions)
	}
	if s.Algorithm != r.Model.Name || s.Version != r.Model.Version || s.SOPInstanceUID != objs.SR.SOPInstanceUID ||
		s.StudyInstanceUID != r.Source.StudyInstanceUID || len(s.Predecessors) != 1 || s.Predecessors[0] != r.Predecessor.SOPInstanceUID {
		t.Errorf("summary %+v", s)
	}

	// Not an SR of ours, or not DICOM: an error, never a panic.
	if _, err := ReadSR(objs.SEG.Path); err == nil {
		t.Error("ReadSR accepted a SEG")
	}
	data, err := os.ReadFile(objs.SR.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 100, 200, len(data) / 2} {
		p := filepath.Join(t.TempDir(), "cut.dcm")
		if err := os.WriteFile(p, data[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSR(p); err == nil {
			t.Errorf("ReadSR accepted the first %d bytes", n)
		}
	}
}

// TestSRContent checks the document-level attributes: flags, evidence, predecessor, the private
// coding scheme, and the identification of sacrum's own objects.
func TestSRContent(t *testing.T) {
	r := testResult(t, 32, 24, 6)
	r.Predecessor = &SOPRef{ComprehensiveSR3DStorage, "1.2.826.0.1.3680043.9.9999.7.1", "1.2.826.0.1.3680043.9.9999.7"}
	objs, err := Write(context.Background(), t.TempDir(), r)
	if err != nil {
		t.Fatal(err)
	}
	els := parse(t, objs.SR.Path)
	for _, c := range []struct {
		g, e uint16
		want string
	}{
		{0x0040, 0xA491, "COMPLETE"}, {0x0040, 0xA493, "UNVERIFIED"}, {0x0008, 0x0060, "SR"},
		{0x0008, 0x0070, Manufacturer}, {0x0018, 0x1000, r.Node.UID},
		{0x0020, 0x000D, r.Source.StudyInstanceUID}, {0x0010, 0x0020, r.Source.PatientID},
	} {
		if got := str1(els, c.g, c.e); got != c.want {
			t.Errorf("(%04X,%04X) = %q, want %q", c.g, c.e, got, c.want)
		}
	}
	if !IsOwnObject(str1(els, 0x0008, 0x0070), str1(els, 0x0018, 0x1000), r.Node.UID) {
		t.Error("IsOwnObject does not recognise the SR")
	}
	if IsOwnObject(str1(els, 0x0008, 0x0070), str1(els, 0x0018, 0x1000), "1.2.3") {
		t.Error("IsOwnObject recognises another node's SR")
	}
	if str1(els, 0x0020, 0x000E) == r.Source.STIR.SeriesInstanceUID {
		t.Error("SR is not in a new series")
	}

	// Evidence: every STIR and T1 instance and the SEG, in one study.
	ev := items(els, 0x0040, 0xA375)
	if len(ev) != 1 || str1(ev[0], 0x0020, 0x000D) != r.Source.StudyInstanceUID {
		t.Fatalf("evidence does not name the study")
	}
	refs := map[string]bool{}
	for _, s := range items(ev[0], 0x0008, 0x1115) {
		for _, sop := range items(s, 0x0008, 0x1199) {
			refs[str1(s, 0x0020, 0x000E)+"/"+str1(sop, 0x0008, 0x1155)] = true
		}
	}
	want := []string{objs.SEG.SeriesInstanceUID + "/" + objs.SEG.SOPInstanceUID}
	for _, s := range []SeriesRef{r.Source.STIR, r.Source.T1} {
		for _, in := range s.Instances {
			want = append(want, s.SeriesInstanceUID+"/"+in.SOPInstanceUID)
		}
	}
	for _, w := range want {
		if !refs[w] {
			t.Errorf("evidence lacks %s", w)
		}
	}
	if len(refs) != len(want) {
		t.Errorf("evidence has %d instances, want %d", len(refs), len(want))
	}

	pred := items(els, 0x0040, 0xA360)
	if len(pred) != 1 {
		t.Fatal("no PredecessorDocumentsSequence")
	}
	ps := items(pred[0], 0x0008, 0x1115)[0]
	if str1(ps, 0x0020, 0x000E) != r.Predecessor.SeriesInstanceUID || str1(items(ps, 0x0008, 0x1199)[0], 0x0008, 0x1155) != r.Predecessor.SOPInstanceUID {
		t.Error("predecessor reference differs from the input")
	}
	cs := items(els, 0x0008, 0x0110)
	if len(cs) != 1 || str1(cs[0], 0x0008, 0x0102) != "99SACRUM" {
		t.Error("99SACRUM is not declared in the Coding Scheme Identification Sequence")
	}
	if got := codeOf(items(els, 0x0018, 0xA001)[0], 0x0040, 0xA170); got != "109102,DCM,Processing Equipment" {
		t.Errorf("contributing equipment purpose %s", got)
	}

	// Content: SEG reference, disclaimer, variant per endpoint, SHAP features in order.
	var flat []srItem
	walkSR(t, els, 0, &flat)
	var shap []string
	var variants, segRefs, disclaimers int
	for _, it := range flat {
		switch it.name {
		case "Feature name":
			shap = append(shap, it.value)
		case "Model variant":
			variants++
		case "Referenced Segment":
			if it.value == SegmentationStorage+" "+objs.SEG.SOPInstanceUID+" segments [1 2]" {
				segRefs++
			}
		case "Intended use":
			if it.value == Disclaimer {
				disclaimers++
			}
		}
	}
	var wantShap []string
	for _, p := range r.Predictions {
		for _, f := range p.TopFeatures {
			wantShap = append(wantShap, f.Name)
		}
	}
	if strings.Join(shap, "|") != strings.Join(wantShap, "|") {
		t.Errorf("SHAP features %v, want %v", shap, wantShap)
	}
	if variants != 2 || segRefs != 2 || disclaimers != 1 {
		t.Errorf("variants %d, SEG references %d, disclaimers %d; want 2, 2, 1", variants, segRefs, disclaimers)
	}
}

// outline prints a dataset's structure and values, one element per line, nested items
// indented; bulk data as its length and SHA-256 prefix.
func outline(b *strings.Builder, els []*dicom.Element, indent string) {
	for _, e := range els {
		fmt.Fprintf(b, "%s(%04X,%04X) %s", indent, e.Tag.Group, e.Tag.Element, e.RawValueRepresentation)
		switch v := e.Value.GetValue().(type) {
		case []*dicom.SequenceItemValue:
			fmt.Fprintf(b, " %d items\n", len(v))
			for i, it := range v {
				fmt.Fprintf(b, "%s  item %d\n", indent, i+1)
				outline(b, it.GetValue().([]*dicom.Element), indent+"    ")
			}
			continue
		case []string:
			fmt.Fprintf(b, " %q", strings.Join(v, `\`))
		case []int:
			fmt.Fprintf(b, " %v", v)
		case []float64:
			fmt.Fprintf(b, " %v", v)
		case []byte:
			fmt.Fprintf(b, " %d bytes sha256 %x", len(v), sha256.Sum256(v))
		case dicom.PixelDataInfo:
			fmt.Fprintf(b, " %d bytes sha256 %x", len(v.UnprocessedValueData), sha256.Sum256(v.UnprocessedValueData))
		}
		b.WriteString("\n")
	}
}

// TestGolden compares the structure and values of the three objects with testdata/golden
// (regenerate with `go test ./pipeline/report -run Golden -update` and review the diff).
func TestGolden(t *testing.T) {
	r := testResult(t, 32, 24, 6)
	objs, err := Write(context.Background(), t.TempDir(), r)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, path string }{{"sr", objs.SR.Path}, {"seg", objs.SEG.Path}, {"card", objs.Card.Path}} {
		var b strings.Builder
		outline(&b, parse(t, c.path), "")
		golden := filepath.Join("testdata", "golden", c.name+".txt")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if got := b.String(); got != string(want) {
			gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
			for i := 0; i < len(gl) && i < len(wl); i++ {
				if gl[i] != wl[i] {
					t.Errorf("%s differs from %s at line %d:\n got: %s\nwant: %s", c.name, golden, i+1, gl[i], wl[i])
					break
				}
			}
			if len(gl) != len(wl) {
				t.Errorf("%s: %d lines, golden %d", c.name, len(gl), len(wl))
			}
		}
	}
}
