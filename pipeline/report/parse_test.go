package report

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"

	"github.com/sacrum-dev/sacrum/pipeline/dcmread"
)

// Helpers that read the written objects back with suyashkumar/dicom.

func parse(t testing.TB, path string) []*dicom.Element {
	t.Helper()
	ds, err := dicom.ParseFile(path, nil, dicom.SkipProcessingPixelDataValue())
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return ds.Elements
}

func find(els []*dicom.Element, g, e uint16) *dicom.Element { return dcmread.Find(els, at(g, e)) }

func items(els []*dicom.Element, g, e uint16) [][]*dicom.Element { return dcmread.Items(els, at(g, e)) }

func str1(els []*dicom.Element, g, e uint16) string { return dcmread.First(els, at(g, e)) }

func ints(els []*dicom.Element, g, e uint16) []int {
	el := find(els, g, e)
	if el == nil {
		return nil
	}
	v, _ := el.Value.GetValue().([]int)
	return v
}

func floats(t testing.TB, els []*dicom.Element, g, e uint16) []float64 {
	t.Helper()
	el := find(els, g, e)
	if el == nil {
		t.Fatalf("(%04X,%04X) missing", g, e)
	}
	if f, ok := el.Value.GetValue().([]float64); ok {
		return f
	}
	var out []float64
	for _, s := range el.Value.GetValue().([]string) {
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			t.Fatalf("(%04X,%04X) %q: %v", g, e, s, err)
		}
		out = append(out, x)
	}
	return out
}

// conceptMeaning is the CodeMeaning of an item's concept name.
func conceptMeaning(item []*dicom.Element) string {
	cn := items(item, 0x0040, 0xA043)
	if len(cn) == 0 {
		return ""
	}
	return str1(cn[0], 0x0008, 0x0104)
}

// codeOf formats the first item of a code sequence as "value,scheme,meaning".
func codeOf(els []*dicom.Element, g, e uint16) string {
	it := items(els, g, e)
	if len(it) == 0 {
		return ""
	}
	v := str1(it[0], 0x0008, 0x0100)
	if v == "" {
		v = str1(it[0], 0x0008, 0x0119)
	}
	return fmt.Sprintf("%s,%s,%s", v, str1(it[0], 0x0008, 0x0102), str1(it[0], 0x0008, 0x0104))
}

// needTool fails (never skips) when a command-line tool is missing.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: `make setup` installs it (dicom3tools / dcmtk)", name)
	}
	return p
}
