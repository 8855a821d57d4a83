package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
	dtag "github.com/suyashkumar/dicom/pkg/tag"

	dw "github.com/sacrum-dev/sacrum/pipeline/dcmwrite"
)

// SRSummary is what ReadSR gets back from a sacrum SR.
type SRSummary struct {
	SOPInstanceUID, StudyInstanceUID string
	Algorithm, Version               string   // algorithm name and version of the first group
	Predecessors                     []string // SOP Instance UIDs in the Predecessor Documents Sequence
	Predictions                      []Prediction
}

// ReadSR reads the predictions back from an SR written by Write (for `sacrum demo`, tests and
// tools). NUM values come from FloatingPointValue when present (exact), else from the DS.
func ReadSR(path string) (*SRSummary, error) {
	ds, err := dicom.ParseFile(path, nil, dicom.SkipPixelData())
	if err != nil {
		return nil, fmt.Errorf("report: read SR %s: %w", path, err)
	}
	s := &SRSummary{
		SOPInstanceUID:   firstString(ds.Elements, 0x0008, 0x0018),
		StudyInstanceUID: firstString(ds.Elements, 0x0020, 0x000D),
	}
	for _, study := range seqItems(ds.Elements, 0x0040, 0xA360) {
		for _, series := range seqItems(study, 0x0008, 0x1115) {
			for _, sop := range seqItems(series, 0x0008, 0x1199) {
				s.Predecessors = append(s.Predecessors, firstString(sop, 0x0008, 0x1155))
			}
		}
	}
	if conceptValue(ds.Elements) != codeReport.Value {
		return nil, fmt.Errorf("report: %s: root is not an Imaging Measurement Report", path)
	}
	for _, top := range seqItems(ds.Elements, 0x0040, 0xA730) {
		if conceptValue(top) != codeMeasurements.Value {
			continue
		}
		for _, g := range seqItems(top, 0x0040, 0xA730) {
			if conceptValue(g) != codeGroup.Value {
				continue
			}
			p, name, version, err := readGroup(g)
			if err != nil {
				return nil, fmt.Errorf("report: %s: %w", path, err)
			}
			if s.Algorithm == "" {
				s.Algorithm, s.Version = name, version
			}
			s.Predictions = append(s.Predictions, p)
		}
	}
	if len(s.Predictions) == 0 {
		return nil, fmt.Errorf("report: %s: no measurement groups", path)
	}
	return s, nil
}

// readGroup reads one endpoint's measurement group.
func readGroup(g []*dicom.Element) (p Prediction, algorithm, version string, err error) {
	found := map[string]bool{}
	for _, it := range seqItems(g, 0x0040, 0xA730) {
		cv := conceptValue(it)
		found[cv] = true
		switch cv {
		case codeFinding.Value:
			p.Endpoint = codeValue(seqItems(it, 0x0040, 0xA168))
		case codeAlgorithmName.Value:
			algorithm = firstString(it, 0x0040, 0xA160)
			for _, v := range seqItems(it, 0x0040, 0xA730) {
				if conceptValue(v) == codeAlgorithmVer.Value {
					version = firstString(v, 0x0040, 0xA160)
				}
			}
		case codeVariant.Value:
			p.Variant = "DLR-only"
			if codeValue(seqItems(it, 0x0040, 0xA168)) == codeDLRC.Value {
				p.Variant = "DLRC"
			}
		case codePredicted.Value:
			p.Responder = codeValue(seqItems(it, 0x0040, 0xA168)) == codeResponder.Value
		case codeProb.Value:
			p.Probability, err = numValue(it)
		case codeDLRScore.Value:
			p.DLRScore, err = numValue(it)
		case codeThreshold.Value:
			p.Threshold, err = numValue(it)
		case codeSHAP.Value:
			var c Contribution
			if c.SHAP, err = numValue(it); err != nil {
				break
			}
			for _, ch := range seqItems(it, 0x0040, 0xA730) {
				switch conceptValue(ch) {
				case codeFeatureName.Value:
					c.Name = firstString(ch, 0x0040, 0xA160)
				case codeFeatureValue.Value:
					c.Value, err = numValue(ch)
				}
			}
			p.TopFeatures = append(p.TopFeatures, c)
		}
		if err != nil {
			return p, "", "", fmt.Errorf("%s: %w", cv, err)
		}
	}
	for _, c := range []dw.Code{codeFinding, codeProb, codeDLRScore, codeThreshold, codePredicted, codeVariant} {
		if !found[c.Value] {
			return p, "", "", fmt.Errorf("measurement group lacks %q", c.Meaning)
		}
	}
	return p, algorithm, version, nil
}

// seqItems returns the items of sequence (g,e), or nil when it is absent or not a sequence.
func seqItems(els []*dicom.Element, g, e uint16) [][]*dicom.Element {
	el := findElement(els, g, e)
	if el == nil {
		return nil
	}
	seq, ok := el.Value.GetValue().([]*dicom.SequenceItemValue)
	if !ok {
		return nil
	}
	out := make([][]*dicom.Element, 0, len(seq))
	for _, it := range seq {
		if els, ok := it.GetValue().([]*dicom.Element); ok {
			out = append(out, els)
		}
	}
	return out
}

func findElement(els []*dicom.Element, g, e uint16) *dicom.Element {
	for _, el := range els {
		if el.Tag == (dtag.Tag{Group: g, Element: e}) {
			return el
		}
	}
	return nil
}

// firstString is the first string value of (g,e) without padding, or "".
func firstString(els []*dicom.Element, g, e uint16) string {
	el := findElement(els, g, e)
	if el == nil {
		return ""
	}
	v, ok := el.Value.GetValue().([]string)
	if !ok || len(v) == 0 {
		return ""
	}
	return strings.TrimRight(v[0], " \x00")
}

// codeValue is the code value (or long code value) of a code sequence's first item.
func codeValue(items [][]*dicom.Element) string {
	if len(items) == 0 {
		return ""
	}
	if v := firstString(items[0], 0x0008, 0x0100); v != "" {
		return v
	}
	return firstString(items[0], 0x0008, 0x0119)
}

// conceptValue is the code value of a content item's concept name.
func conceptValue(item []*dicom.Element) string { return codeValue(seqItems(item, 0x0040, 0xA043)) }

// numValue is a NUM item's value: FloatingPointValue if present, else NumericValue.
func numValue(item []*dicom.Element) (float64, error) {
	mv := seqItems(item, 0x0040, 0xA300)
	if len(mv) == 0 {
		return 0, errors.New("NUM without a measured value")
	}
	if el := findElement(mv[0], 0x0040, 0xA161); el != nil {
		if f, ok := el.Value.GetValue().([]float64); ok && len(f) > 0 {
			return f[0], nil
		}
	}
	s := strings.TrimSpace(firstString(mv[0], 0x0040, 0xA30A))
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("NumericValue %q: %w", s, err)
	}
	return x, nil
}
