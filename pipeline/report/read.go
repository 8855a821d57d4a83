package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
	dtag "github.com/suyashkumar/dicom/pkg/tag"

	"github.com/sacrum-dev/sacrum/pipeline/dcmread"
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
		SOPInstanceUID:   dcmread.First(ds.Elements, at(0x0008, 0x0018)),
		StudyInstanceUID: dcmread.First(ds.Elements, at(0x0020, 0x000D)),
	}
	for _, study := range dcmread.Items(ds.Elements, at(0x0040, 0xA360)) {
		for _, series := range dcmread.Items(study, at(0x0008, 0x1115)) {
			for _, sop := range dcmread.Items(series, at(0x0008, 0x1199)) {
				s.Predecessors = append(s.Predecessors, dcmread.First(sop, at(0x0008, 0x1155)))
			}
		}
	}
	if conceptValue(ds.Elements) != codeReport.Value {
		return nil, fmt.Errorf("report: %s: root is not an Imaging Measurement Report", path)
	}
	for _, top := range dcmread.Items(ds.Elements, at(0x0040, 0xA730)) {
		if conceptValue(top) != codeMeasurements.Value {
			continue
		}
		for _, g := range dcmread.Items(top, at(0x0040, 0xA730)) {
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
	for _, it := range dcmread.Items(g, at(0x0040, 0xA730)) {
		cv := conceptValue(it)
		found[cv] = true
		switch cv {
		case codeFinding.Value:
			p.Endpoint = codeValue(dcmread.Items(it, at(0x0040, 0xA168)))
		case codeAlgorithmName.Value:
			algorithm = dcmread.First(it, at(0x0040, 0xA160))
			for _, v := range dcmread.Items(it, at(0x0040, 0xA730)) {
				if conceptValue(v) == codeAlgorithmVer.Value {
					version = dcmread.First(v, at(0x0040, 0xA160))
				}
			}
		case codeVariant.Value:
			p.Variant = "DLR-only"
			if codeValue(dcmread.Items(it, at(0x0040, 0xA168))) == codeDLRC.Value {
				p.Variant = "DLRC"
			}
		case codePredicted.Value:
			p.Responder = codeValue(dcmread.Items(it, at(0x0040, 0xA168))) == codeResponder.Value
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
			for _, ch := range dcmread.Items(it, at(0x0040, 0xA730)) {
				switch conceptValue(ch) {
				case codeFeatureName.Value:
					c.Name = dcmread.First(ch, at(0x0040, 0xA160))
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

// at is the tag (g,e): the SR reader names tags by number, as PS3.3 and PS3.16 tables do.
func at(g, e uint16) dtag.Tag { return dtag.Tag{Group: g, Element: e} }

// codeValue is the code value (or long code value) of a code sequence's first item.
func codeValue(items [][]*dicom.Element) string {
	if len(items) == 0 {
		return ""
	}
	if v := dcmread.First(items[0], at(0x0008, 0x0100)); v != "" {
		return v
	}
	return dcmread.First(items[0], at(0x0008, 0x0119))
}

// conceptValue is the code value of a content item's concept name.
func conceptValue(item []*dicom.Element) string {
	return codeValue(dcmread.Items(item, at(0x0040, 0xA043)))
}

// numValue is a NUM item's value: FloatingPointValue if present, else NumericValue.
func numValue(item []*dicom.Element) (float64, error) {
	mv := dcmread.Items(item, at(0x0040, 0xA300))
	if len(mv) == 0 {
		return 0, errors.New("NUM without a measured value")
	}
	if el := dcmread.Find(mv[0], at(0x0040, 0xA161)); el != nil {
		if f, ok := el.Value.GetValue().([]float64); ok && len(f) > 0 {
			return f[0], nil
		}
	}
	s := strings.TrimSpace(dcmread.First(mv[0], at(0x0040, 0xA30A)))
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("NumericValue %q: %w", s, err)
	}
	return x, nil
}
