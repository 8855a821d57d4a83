package dcmwrite

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Transfer syntax and implementation identifiers.
const (
	ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
	// ImplementationClassUID identifies sacrum as the writer (2.25 root: a UUID-derived OID, PS3.5 §B.2).
	ImplementationClassUID    = "2.25.299474120451203861539406563245786210651"
	ImplementationVersionName = "SACRUM_1"
)

// Tag is a DICOM attribute tag: group in the high 16 bits, element in the low 16 bits.
type Tag uint32

// T makes a tag from its group and element numbers.
func T(group, element uint16) Tag { return Tag(uint32(group)<<16 | uint32(element)) }

// Group returns the tag's group number.
func (t Tag) Group() uint16 { return uint16(t >> 16) }

// Element returns the tag's element number.
func (t Tag) Element() uint16 { return uint16(t) }

func (t Tag) String() string { return fmt.Sprintf("(%04X,%04X)", t.Group(), t.Element()) }

// Element is one data element. Value holds, by VR:
//   - text VRs (AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT): string (multiple values joined by `\`);
//   - US, SS, UL, SL, FL, FD, AT: []uint16, []int16, []uint32, []int32, []float32, []float64, []Tag;
//   - OB, UN: []byte; OW: []uint16 or []byte;
//   - SQ: []Dataset (one Dataset per item).
type Element struct {
	Tag   Tag
	VR    string
	Value any
}

// Dataset is a list of elements; the encoder writes them in ascending tag order.
type Dataset []Element

// Str makes a text element; several values are joined with the DICOM value separator.
func Str(t Tag, vr string, values ...string) Element {
	return Element{Tag: t, VR: vr, Value: strings.Join(values, `\`)}
}

// DS makes a Decimal String element; each value is formatted in at most 16 characters.
func DS(t Tag, values ...float64) Element {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = FormatDS(v)
	}
	return Str(t, "DS", s...)
}

// IS makes an Integer String element.
func IS(t Tag, values ...int) Element {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = strconv.Itoa(v)
	}
	return Str(t, "IS", s...)
}

// US makes an unsigned short element.
func US(t Tag, values ...uint16) Element { return Element{Tag: t, VR: "US", Value: values} }

// UL makes an unsigned long element.
func UL(t Tag, values ...uint32) Element { return Element{Tag: t, VR: "UL", Value: values} }

// FD makes a 64-bit float element.
func FD(t Tag, values ...float64) Element { return Element{Tag: t, VR: "FD", Value: values} }

// AT makes an attribute-tag element.
func AT(t Tag, values ...Tag) Element { return Element{Tag: t, VR: "AT", Value: values} }

// SQ makes a sequence element with one item per dataset.
func SQ(t Tag, items ...Dataset) Element { return Element{Tag: t, VR: "SQ", Value: items} }

// PixelData16 makes a native 16-bit Pixel Data element (7FE0,0010) OW from samples in frame order.
func PixelData16(px []uint16) Element { return Element{Tag: T(0x7FE0, 0x0010), VR: "OW", Value: px} }

// PixelDataBytes makes a Pixel Data element (7FE0,0010) OB from already packed bytes (e.g. 1-bit frames).
func PixelDataBytes(b []byte) Element { return Element{Tag: T(0x7FE0, 0x0010), VR: "OB", Value: b} }

// FormatDS formats v as a Decimal String of at most 16 characters (PS3.5 Table 6.2-1),
// keeping as many significant digits as fit.
func FormatDS(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	for prec := 16; prec > 0; prec-- {
		s := strconv.FormatFloat(v, 'g', prec, 64)
		if strings.Contains(s, "e") {
			s = strings.Replace(s, "e+", "e", 1)
		}
		if len(s) <= 16 {
			if strings.ContainsAny(s, ".e") && !strings.Contains(s, "e") {
				s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
			}
			return s
		}
	}
	return "0"
}

// Truncate shortens s to at most n bytes on a UTF-8 rune boundary (a value cut to its VR's maximum length).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ParseDS parses one Decimal String value as written by FormatDS.
func ParseDS(s string) (float64, error) {
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

// longLength reports whether the VR uses the 4-byte length form in explicit VR (PS3.5 Table 7.1-1).
func longLength(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV":
		return true
	}
	return false
}

// Encode appends the explicit VR little endian encoding of ds (no preamble, no meta group) to buf.
func Encode(buf []byte, ds Dataset) ([]byte, error) {
	elems := make(Dataset, len(ds))
	copy(elems, ds)
	sort.SliceStable(elems, func(a, b int) bool { return elems[a].Tag < elems[b].Tag })
	for i, e := range elems {
		if i > 0 && elems[i-1].Tag == e.Tag {
			return buf, fmt.Errorf("dcmwrite: %v appears twice", e.Tag)
		}
		var err error
		if buf, err = appendElement(buf, e); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func appendHeader(buf []byte, t Tag, vr string, n int) ([]byte, error) {
	buf = binary.LittleEndian.AppendUint16(buf, t.Group())
	buf = binary.LittleEndian.AppendUint16(buf, t.Element())
	buf = append(buf, vr[0], vr[1])
	if longLength(vr) {
		if uint64(n) >= 0xFFFFFFFF {
			return buf, fmt.Errorf("dcmwrite: %v: value of %d bytes is too long", t, n)
		}
		buf = append(buf, 0, 0)
		return binary.LittleEndian.AppendUint32(buf, uint32(n)), nil
	}
	if n > 0xFFFF {
		return buf, fmt.Errorf("dcmwrite: %v %s: value of %d bytes exceeds the 16-bit length", t, vr, n)
	}
	return binary.LittleEndian.AppendUint16(buf, uint16(n)), nil
}

func appendElement(buf []byte, e Element) ([]byte, error) {
	if len(e.VR) != 2 {
		return buf, fmt.Errorf("dcmwrite: %v: bad VR %q", e.Tag, e.VR)
	}
	var err error
	switch v := e.Value.(type) {
	case string:
		pad := byte(' ')
		if e.VR == "UI" {
			pad = 0
		}
		n := len(v) + len(v)%2
		if buf, err = appendHeader(buf, e.Tag, e.VR, n); err != nil {
			return buf, err
		}
		buf = append(buf, v...)
		if len(v)%2 == 1 {
			buf = append(buf, pad)
		}
	case []byte:
		n := len(v) + len(v)%2
		if buf, err = appendHeader(buf, e.Tag, e.VR, n); err != nil {
			return buf, err
		}
		buf = append(buf, v...)
		if len(v)%2 == 1 {
			buf = append(buf, 0)
		}
	case []uint16:
		if buf, err = appendHeader(buf, e.Tag, e.VR, 2*len(v)); err != nil {
			return buf, err
		}
		buf = appendUint16s(buf, v)
	case []int16:
		if buf, err = appendHeader(buf, e.Tag, e.VR, 2*len(v)); err != nil {
			return buf, err
		}
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint16(buf, uint16(x))
		}
	case []uint32:
		if buf, err = appendHeader(buf, e.Tag, e.VR, 4*len(v)); err != nil {
			return buf, err
		}
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, x)
		}
	case []int32:
		if buf, err = appendHeader(buf, e.Tag, e.VR, 4*len(v)); err != nil {
			return buf, err
		}
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(x))
		}
	case []float32:
		if buf, err = appendHeader(buf, e.Tag, e.VR, 4*len(v)); err != nil {
			return buf, err
		}
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
	case []float64:
		if buf, err = appendHeader(buf, e.Tag, e.VR, 8*len(v)); err != nil {
			return buf, err
		}
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		}
	case []Tag:
		if buf, err = appendHeader(buf, e.Tag, e.VR, 4*len(v)); err != nil {
			return buf, err
		}
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint16(buf, x.Group())
			buf = binary.LittleEndian.AppendUint16(buf, x.Element())
		}
	case []Dataset:
		if e.VR != "SQ" {
			return buf, fmt.Errorf("dcmwrite: %v: items need VR SQ, not %s", e.Tag, e.VR)
		}
		// Encode the items first so that the sequence gets a defined length.
		var body []byte
		for i, item := range v {
			enc, err := Encode(nil, item)
			if err != nil {
				return buf, fmt.Errorf("%v item %d: %w", e.Tag, i+1, err)
			}
			body = binary.LittleEndian.AppendUint16(body, 0xFFFE)
			body = binary.LittleEndian.AppendUint16(body, 0xE000)
			body = binary.LittleEndian.AppendUint32(body, uint32(len(enc)))
			body = append(body, enc...)
		}
		if buf, err = appendHeader(buf, e.Tag, "SQ", len(body)); err != nil {
			return buf, err
		}
		buf = append(buf, body...)
	default:
		return buf, fmt.Errorf("dcmwrite: %v: unsupported value type %T", e.Tag, e.Value)
	}
	return buf, nil
}

// appendUint16s converts samples in bulk: one allocation, no per-sample calls through interfaces.
func appendUint16s(buf []byte, v []uint16) []byte {
	off := len(buf)
	buf = append(buf, make([]byte, 2*len(v))...)
	out := buf[off:]
	for i, x := range v {
		out[2*i] = byte(x)
		out[2*i+1] = byte(x >> 8)
	}
	return buf
}

// FileMeta is the File Meta Information (group 0002) of a Part 10 file.
type FileMeta struct {
	SOPClassUID    string
	SOPInstanceUID string
	// TransferSyntaxUID must be explicit VR little endian (the only syntax this package encodes); empty means that.
	TransferSyntaxUID string
}

// AppendFile appends a complete Part 10 file (128-byte preamble, "DICM", meta group with its group length,
// dataset) to buf.
func AppendFile(buf []byte, meta FileMeta, ds Dataset) ([]byte, error) {
	if meta.SOPClassUID == "" || meta.SOPInstanceUID == "" {
		return buf, fmt.Errorf("dcmwrite: file meta needs the SOP class and instance UIDs")
	}
	ts := meta.TransferSyntaxUID
	if ts == "" {
		ts = ExplicitVRLittleEndian
	}
	if ts != ExplicitVRLittleEndian {
		return buf, fmt.Errorf("dcmwrite: transfer syntax %s not supported (explicit VR little endian only)", ts)
	}
	for _, e := range ds {
		if e.Tag.Group() == 0x0002 {
			return buf, fmt.Errorf("dcmwrite: %v: group 0002 belongs to the file meta, not the dataset", e.Tag)
		}
	}
	group, err := Encode(nil, Dataset{
		{T(0x0002, 0x0001), "OB", []byte{0, 1}},
		Str(T(0x0002, 0x0002), "UI", meta.SOPClassUID),
		Str(T(0x0002, 0x0003), "UI", meta.SOPInstanceUID),
		Str(T(0x0002, 0x0010), "UI", ts),
		Str(T(0x0002, 0x0012), "UI", ImplementationClassUID),
		Str(T(0x0002, 0x0013), "SH", ImplementationVersionName),
	})
	if err != nil {
		return buf, err
	}
	buf = append(buf, make([]byte, 128)...)
	buf = append(buf, "DICM"...)
	buf, _ = appendElement(buf, UL(T(0x0002, 0x0000), uint32(len(group))))
	buf = append(buf, group...)
	return Encode(buf, ds)
}

// WriteFile writes a Part 10 file to path atomically and durably: through a temporary file in the
// same directory, fsynced and then renamed into place, so that a reader never sees a half-written
// object and a crash after WriteFile returns does not lose it (the directory entry itself is made
// durable by whoever fsyncs the directory).
func WriteFile(path string, meta FileMeta, ds Dataset) error {
	b, err := AppendFile(nil, meta, ds)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.dcm")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return nil
}
