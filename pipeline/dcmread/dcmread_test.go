package dcmread

import (
	"reflect"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

func el(t *testing.T, tg tag.Tag, v any) *dicom.Element {
	t.Helper()
	e, err := dicom.NewElement(tg, v)
	if err != nil {
		t.Fatalf("element %v: %v", tg, err)
	}
	return e
}

func TestValues(t *testing.T) {
	item := []*dicom.Element{el(t, tag.CodeValue, []string{"T-15670 "})}
	els := []*dicom.Element{
		el(t, tag.ImageType, []string{`ORIGINAL\PRIMARY `, "M\x00"}),
		el(t, tag.PixelSpacing, []string{`0.5\0.75`}),
		el(t, tag.SliceThickness, []string{"x3"}),
		el(t, tag.Rows, []int{256}),
		el(t, tag.ImageComments, []string{`a\b  `}),
		el(t, tag.AnatomicRegionSequence, [][]*dicom.Element{item}),
	}
	cases := []struct {
		name string
		got  any
		want any
	}{
		{"Strings split and trimmed", Strings(els, tag.ImageType), []string{"ORIGINAL", "PRIMARY", "M"}},
		{"String joined", String(els, tag.ImageType), `ORIGINAL\PRIMARY\M`},
		{"Strings absent", Strings(els, tag.Modality), []string(nil)},
		{"First not split", First(els, tag.ImageComments), `a\b`},
		{"First absent", First(els, tag.Modality), ""},
		{"Floats from decimal strings", Floats(els, tag.PixelSpacing), []float64{0.5, 0.75}},
		{"Floats from integers", Floats(els, tag.Rows), []float64{256}},
		{"Floats unparsable", Floats(els, tag.SliceThickness), []float64(nil)},
		{"Float default", Float(els, tag.Columns, -1), -1.0},
		{"Float first", Float(els, tag.PixelSpacing, -1), 0.5},
		{"Items", First(Items(els, tag.AnatomicRegionSequence)[0], tag.CodeValue), "T-15670"},
		{"Items of a non-sequence", Items(els, tag.Rows), [][]*dicom.Element(nil)},
		{"Find absent", Find(els, tag.Columns), (*dicom.Element)(nil)},
	}
	for _, c := range cases {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
}
