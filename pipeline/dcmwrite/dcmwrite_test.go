package dcmwrite

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/frame"
	"github.com/suyashkumar/dicom/pkg/tag"
)

func TestFormatDS(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{-4, "-4"},
		{0.5, "0.5"},
		{0.90630778703665, "0.90630778703665"},
		{-0.42261826174069944, "-0.4226182617407"},
		{-266.78015151251, "-266.78015151251"},
		{123456789012345678, "1.23456789012e17"},
		{1e-20, "1e-20"},
		// Probabilities keep 14 significant digits (relative error ≤ 5e-15); SR NUM items rely on it.
		{0.7312345678901234, "0.73123456789012"},
		{1.0 / 3, "0.33333333333333"},
		{-2.5, "-2.5"},
		{123456789.123456789, "123456789.123457"},
		{-3.125e-21, "-3.125e-21"},
		{6.02214076e23, "6.02214076e23"},
		{1234567890123456, "1234567890123456"},
	}
	for _, c := range cases {
		got := FormatDS(c.in)
		if got != c.want {
			t.Errorf("FormatDS(%v) = %q, want %q", c.in, got, c.want)
		}
		if len(got) > 16 {
			t.Errorf("FormatDS(%v) = %q is longer than 16", c.in, got)
		}
		back, err := ParseDS(got)
		if err != nil || (c.in != 0 && math.Abs(back-c.in)/math.Abs(c.in) > 1e-10) {
			t.Errorf("ParseDS(%q) = %v, %v; want ≈ %v", got, back, err, c.in)
		}
	}
}

// TestEncodeRoundTrip writes a file with every value kind and reads it back with suyashkumar/dicom.
func TestEncodeRoundTrip(t *testing.T) {
	px := make([]uint16, 6*4)
	for i := range px {
		px[i] = uint16(i * 1000)
	}
	ds := Dataset{
		PixelData16(px), // out of order on purpose: the encoder sorts
		Str(T(0x0010, 0x0010), "PN", "SYNTHETIC^ODD"), // odd length → space padded
		Str(T(0x0008, 0x0016), "UI", MRImageStorage),  // odd length → NUL padded
		Str(T(0x0008, 0x0018), "UI", "1.2.3.4"),
		Str(T(0x0008, 0x0008), "CS", "ORIGINAL", "PRIMARY"),
		DS(T(0x0028, 0x0030), 0.9, 0.75),
		IS(T(0x0020, 0x0013), 7),
		US(T(0x0028, 0x0010), 4),
		US(T(0x0028, 0x0011), 6),
		US(T(0x0028, 0x0100), 16),
		US(T(0x0028, 0x0101), 16),
		US(T(0x0028, 0x0102), 15),
		US(T(0x0028, 0x0103), 0),
		US(T(0x0028, 0x0002), 1),
		Str(T(0x0028, 0x0004), "CS", "MONOCHROME2"),
		FD(T(0x0018, 0x9087), 1000.5),
		SQ(T(0x0008, 0x1115), Dataset{Str(T(0x0020, 0x000E), "UI", "1.2.3")}, Dataset{Str(T(0x0020, 0x000E), "UI", "1.2.4")}),
	}
	b, err := AppendFile(nil, FileMeta{SOPClassUID: MRImageStorage, SOPInstanceUID: "1.2.3.4"}, ds)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%2 != 0 || string(b[128:132]) != "DICM" {
		t.Fatalf("not a Part 10 file (len %d, magic %q)", len(b), b[128:132])
	}
	parsed, err := dicom.Parse(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	str := func(tg tag.Tag) []string {
		e, err := parsed.FindElementByTag(tg)
		if err != nil {
			t.Fatalf("%v: %v", tg, err)
		}
		return dicom.MustGetStrings(e.Value)
	}
	checks := []struct {
		tg   tag.Tag
		want string
	}{
		{tag.PatientName, "SYNTHETIC^ODD"},
		{tag.SOPClassUID, MRImageStorage},
		{tag.ImageType, `ORIGINAL\PRIMARY`},
		{tag.PixelSpacing, `0.9\0.75`},
		{tag.InstanceNumber, "7"},
		{tag.TransferSyntaxUID, ExplicitVRLittleEndian},
		{tag.MediaStorageSOPInstanceUID, "1.2.3.4"},
	}
	for _, c := range checks {
		got := strings.TrimRight(strings.Join(str(c.tg), `\`), " \x00")
		if got != c.want {
			t.Errorf("%v = %q, want %q", c.tg, got, c.want)
		}
	}
	pe, err := parsed.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := dicom.MustGetPixelDataInfo(pe.Value).Frames[0].GetNativeFrame()
	if err != nil {
		t.Fatal(err)
	}
	for i := range px {
		if got, err := fr.GetPixel(i%6, i/6); err != nil || len(got) != 1 || got[0] != int(px[i]) {
			t.Fatalf("pixel %d = %v (%v), want %d", i, got, err, px[i])
		}
	}
	se, err := parsed.FindElementByTag(tag.ReferencedSeriesSequence)
	if err != nil {
		t.Fatal(err)
	}
	if items := se.Value.GetValue().([]*dicom.SequenceItemValue); len(items) != 2 {
		t.Errorf("sequence has %d items, want 2", len(items))
	}
}

// TestMetaGroupLength checks (0002,0000) against the bytes that follow it up to the dataset.
func TestMetaGroupLength(t *testing.T) {
	b, err := AppendFile(nil, FileMeta{SOPClassUID: "1.2", SOPInstanceUID: "1.2.3"}, Dataset{Str(T(0x0010, 0x0020), "LO", "X")})
	if err != nil {
		t.Fatal(err)
	}
	gl := int(b[140]) | int(b[141])<<8 | int(b[142])<<16 | int(b[143])<<24
	// The dataset starts right after the group: its first tag is (0010,0020).
	start := 144 + gl
	if b[start] != 0x10 || b[start+1] != 0 || b[start+2] != 0x20 || b[start+3] != 0 {
		t.Errorf("group length %d does not end at the first dataset element (bytes % x)", gl, b[start:start+4])
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		name string
		ds   Dataset
		want string
	}{
		{"duplicate", Dataset{IS(T(0x0020, 0x0013), 1), IS(T(0x0020, 0x0013), 2)}, "appears twice"},
		{"bad VR", Dataset{{T(0x0010, 0x0010), "P", "x"}}, "bad VR"},
		{"unsupported", Dataset{{T(0x0010, 0x0010), "PN", 42}}, "unsupported value type"},
		{"too long", Dataset{Str(T(0x0010, 0x4000), "LT", strings.Repeat("x", 70000))}, "16-bit length"},
		{"items need SQ", Dataset{{T(0x0008, 0x1115), "UN", []Dataset{{}}}}, "need VR SQ"},
		{"meta in dataset", Dataset{Str(T(0x0002, 0x0010), "UI", "1.2")}, "file meta"},
	}
	for _, c := range cases {
		_, err := AppendFile(nil, FileMeta{SOPClassUID: "1.2", SOPInstanceUID: "1.2.3"}, c.ds)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := AppendFile(nil, FileMeta{}, nil); err == nil {
		t.Errorf("missing SOP UIDs: no error")
	}
}

func frameDataset(px []uint16, rows, cols int) Dataset {
	return Dataset{
		Str(T(0x0008, 0x0016), "UI", MRImageStorage),
		Str(T(0x0008, 0x0018), "UI", "1.2.3.4"),
		US(T(0x0028, 0x0010), uint16(rows)), US(T(0x0028, 0x0011), uint16(cols)),
		US(T(0x0028, 0x0100), 16), US(T(0x0028, 0x0101), 12), US(T(0x0028, 0x0102), 11), US(T(0x0028, 0x0103), 0),
		US(T(0x0028, 0x0002), 1), Str(T(0x0028, 0x0004), "CS", "MONOCHROME2"),
		PixelData16(px),
	}
}

// BenchmarkAppendFile and BenchmarkSuyashkumarWrite compare this encoder with dicom.Write for one
// 256×256 16-bit MR frame (the reason doc.go gives for writing our own).
func BenchmarkAppendFile(b *testing.B) {
	px := make([]uint16, 256*256)
	ds := frameDataset(px, 256, 256)
	var buf []byte
	b.SetBytes(int64(2 * len(px)))
	for b.Loop() {
		var err error
		buf, err = AppendFile(buf[:0], FileMeta{SOPClassUID: MRImageStorage, SOPInstanceUID: "1.2.3.4"}, ds)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSuyashkumarWrite(b *testing.B) {
	const rows, cols = 256, 256
	nf := frame.NewNativeFrame[uint16](16, rows, cols, rows*cols, 1)
	mk := func(tg tag.Tag, v any) *dicom.Element {
		e, err := dicom.NewElement(tg, v)
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	ds := dicom.Dataset{Elements: []*dicom.Element{
		mk(tag.MediaStorageSOPClassUID, []string{MRImageStorage}),
		mk(tag.MediaStorageSOPInstanceUID, []string{"1.2.3.4"}),
		mk(tag.TransferSyntaxUID, []string{ExplicitVRLittleEndian}),
		mk(tag.SOPClassUID, []string{MRImageStorage}),
		mk(tag.SOPInstanceUID, []string{"1.2.3.4"}),
		mk(tag.Rows, []int{rows}), mk(tag.Columns, []int{cols}),
		mk(tag.BitsAllocated, []int{16}), mk(tag.BitsStored, []int{12}), mk(tag.HighBit, []int{11}),
		mk(tag.PixelRepresentation, []int{0}), mk(tag.SamplesPerPixel, []int{1}),
		mk(tag.PhotometricInterpretation, []string{"MONOCHROME2"}),
		mk(tag.PixelData, dicom.PixelDataInfo{IsEncapsulated: false, Frames: []*frame.Frame{{Encapsulated: false, NativeData: nf}}}),
	}}
	b.SetBytes(2 * rows * cols)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := dicom.Write(&buf, ds, dicom.SkipVRVerification(), dicom.SkipValueTypeVerification()); err != nil {
			b.Fatal(err)
		}
	}
}
