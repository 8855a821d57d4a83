package dcmread

import (
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Find returns the element with tag t in els, or nil.
func Find(els []*dicom.Element, t tag.Tag) *dicom.Element {
	for _, e := range els {
		if e.Tag == t {
			return e
		}
	}
	return nil
}

// Items returns the items of sequence t in els, or nil when it is absent or not a sequence.
func Items(els []*dicom.Element, t tag.Tag) [][]*dicom.Element {
	e := Find(els, t)
	if e == nil || e.Value == nil {
		return nil
	}
	seq, ok := e.Value.GetValue().([]*dicom.SequenceItemValue)
	if !ok {
		return nil
	}
	out := make([][]*dicom.Element, 0, len(seq))
	for _, it := range seq {
		if items, ok := it.GetValue().([]*dicom.Element); ok {
			out = append(out, items)
		}
	}
	return out
}

// Strings returns the non-empty string values of t, each split at backslashes and without padding.
func Strings(els []*dicom.Element, t tag.Tag) []string {
	e := Find(els, t)
	if e == nil || e.Value == nil {
		return nil
	}
	v, ok := e.Value.GetValue().([]string)
	if !ok {
		return nil
	}
	var out []string
	for _, s := range v {
		for _, part := range strings.Split(s, `\`) {
			if p := strings.Trim(part, " \x00"); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// String returns the string values of t joined by backslashes, or "".
func String(els []*dicom.Element, t tag.Tag) string {
	return strings.Join(Strings(els, t), `\`)
}

// First returns the first string value of t as the library stored it, without trailing padding, or
// "". It is not split at backslashes: use it for single-valued and text (ST, LT, UT) elements.
func First(els []*dicom.Element, t tag.Tag) string {
	e := Find(els, t)
	if e == nil || e.Value == nil {
		return ""
	}
	v, ok := e.Value.GetValue().([]string)
	if !ok || len(v) == 0 {
		return ""
	}
	return strings.TrimRight(v[0], " \x00")
}

// Floats returns the numeric values of t, stored as numbers or as decimal strings; nil when it is
// absent, not numeric, or a string value does not parse.
func Floats(els []*dicom.Element, t tag.Tag) []float64 {
	e := Find(els, t)
	if e == nil || e.Value == nil {
		return nil
	}
	switch v := e.Value.GetValue().(type) {
	case []float64:
		return v
	case []int:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case []string:
		var out []float64
		for _, s := range Strings(els, t) {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil
			}
			out = append(out, x)
		}
		return out
	}
	return nil
}

// Float returns the first numeric value of t, or def.
func Float(els []*dicom.Element, t tag.Tag, def float64) float64 {
	if v := Floats(els, t); len(v) > 0 {
		return v[0]
	}
	return def
}
