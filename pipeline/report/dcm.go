package report

// A small explicit-VR little-endian Part 10 encoder. It is hand-written rather than built on
// suyashkumar/dicom's writer because the result objects need exact control that the library does
// not give: the VR of every element is stated (no dictionary look-up, so private SR content and
// nested SR trees encode the same way everywhere), sequences get defined lengths, and SEG pixel
// data is 1-bit packed least-significant bit first across frame boundaries (PS3.5 §8.1.1), which
// suyashkumar/dicom v1.1.0 reads most-significant bit first.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// tag builds a DICOM tag number from group and element.
func tag(group, element uint16) uint32 { return uint32(group)<<16 | uint32(element) }

// elem is one data element: a value already encoded for its VR, or sequence items.
type elem struct {
	tag   uint32
	vr    string
	value []byte
	items []dataset // VR SQ only
}

// dataset is a list of elements; it is sorted by tag when encoded.
type dataset []elem

// add appends elements and returns the dataset.
func (d *dataset) add(e ...elem) { *d = append(*d, e...) }

// longVRs have a 4-byte length in explicit VR encoding (PS3.5 Table 7.1-1).
var longVRs = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true,
	"SQ": true, "UC": true, "UN": true, "UR": true, "UT": true}

// str encodes string values joined with backslashes, padded to even length (UI with NUL).
func str(t uint32, vr string, values ...string) elem {
	v := []byte(strings.Join(values, `\`))
	if len(v)%2 == 1 {
		if vr == "UI" {
			v = append(v, 0)
		} else {
			v = append(v, ' ')
		}
	}
	return elem{tag: t, vr: vr, value: v}
}

// us encodes unsigned shorts.
func us(t uint32, values ...uint16) elem {
	v := make([]byte, 2*len(values))
	for i, x := range values {
		binary.LittleEndian.PutUint16(v[2*i:], x)
	}
	return elem{tag: t, vr: "US", value: v}
}

// ul encodes unsigned longs.
func ul(t uint32, values ...uint32) elem {
	v := make([]byte, 4*len(values))
	for i, x := range values {
		binary.LittleEndian.PutUint32(v[4*i:], x)
	}
	return elem{tag: t, vr: "UL", value: v}
}

// fd encodes doubles.
func fd(t uint32, values ...float64) elem {
	v := make([]byte, 8*len(values))
	for i, x := range values {
		binary.LittleEndian.PutUint64(v[8*i:], math.Float64bits(x))
	}
	return elem{tag: t, vr: "FD", value: v}
}

// at encodes attribute tags.
func at(t uint32, values ...uint32) elem {
	v := make([]byte, 4*len(values))
	for i, x := range values {
		binary.LittleEndian.PutUint16(v[4*i:], uint16(x>>16))
		binary.LittleEndian.PutUint16(v[4*i+2:], uint16(x))
	}
	return elem{tag: t, vr: "AT", value: v}
}

// ob encodes bytes, padded to even length with a zero byte.
func ob(t uint32, b []byte) elem {
	if len(b)%2 == 1 {
		b = append(b[:len(b):len(b)], 0)
	}
	return elem{tag: t, vr: "OB", value: b}
}

// sq builds a sequence; no items gives an empty (zero-length) sequence.
func sq(t uint32, items ...dataset) elem { return elem{tag: t, vr: "SQ", items: items} }

// encode writes d in explicit VR little endian, elements sorted by tag.
func (d dataset) encode(w *bytes.Buffer) error {
	sorted := make(dataset, len(d))
	copy(sorted, d)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].tag < sorted[j].tag })
	for i, e := range sorted {
		if i > 0 && sorted[i-1].tag == e.tag {
			return fmt.Errorf("dicom: duplicate element (%04X,%04X)", e.tag>>16, e.tag&0xffff)
		}
		value := e.value
		if e.vr == "SQ" {
			var b bytes.Buffer
			for _, item := range e.items {
				var ib bytes.Buffer
				if err := item.encode(&ib); err != nil {
					return fmt.Errorf("dicom: item of (%04X,%04X): %w", e.tag>>16, e.tag&0xffff, err)
				}
				writeTag(&b, 0xFFFEE000)
				_ = binary.Write(&b, binary.LittleEndian, uint32(ib.Len()))
				b.Write(ib.Bytes())
			}
			value = b.Bytes()
		}
		writeTag(w, e.tag)
		w.WriteString(e.vr)
		if longVRs[e.vr] {
			w.Write([]byte{0, 0})
			if uint64(len(value)) >= 0xFFFFFFFF {
				return fmt.Errorf("dicom: (%04X,%04X): value too long", e.tag>>16, e.tag&0xffff)
			}
			_ = binary.Write(w, binary.LittleEndian, uint32(len(value)))
		} else {
			if len(value) > 0xFFFE {
				return fmt.Errorf("dicom: (%04X,%04X) %s: value of %d bytes too long", e.tag>>16, e.tag&0xffff, e.vr, len(value))
			}
			_ = binary.Write(w, binary.LittleEndian, uint16(len(value)))
		}
		w.Write(value)
	}
	return nil
}

func writeTag(w *bytes.Buffer, t uint32) {
	_ = binary.Write(w, binary.LittleEndian, uint16(t>>16))
	_ = binary.Write(w, binary.LittleEndian, uint16(t))
}

const (
	explicitVRLittleEndian = "1.2.840.10008.1.2.1"
	// implementationClassUID is sacrum's Part 10 implementation UID: 2.25 and the first 128
	// bits of SHA-256("sacrum") as a decimal integer (fixed, so it never changes between builds).
	implementationClassUID  = "2.25.78343961643398668489847474847176863258"
	implementationVersion   = "SACRUM_1"
	fileMetaInformationByte = 0x01
)

// writePart10 writes d as a DICOM Part 10 file (explicit VR little endian) at path, creating it
// atomically (temporary file, fsync, rename) so that a reader never sees half a file.
func writePart10(path, sopClassUID, sopInstanceUID string, d dataset) error {
	var meta dataset
	meta.add(
		ob(tag(0x0002, 0x0001), []byte{0x00, fileMetaInformationByte}),
		str(tag(0x0002, 0x0002), "UI", sopClassUID),
		str(tag(0x0002, 0x0003), "UI", sopInstanceUID),
		str(tag(0x0002, 0x0010), "UI", explicitVRLittleEndian),
		str(tag(0x0002, 0x0012), "UI", implementationClassUID),
		str(tag(0x0002, 0x0013), "SH", implementationVersion),
	)
	var mb bytes.Buffer
	if err := meta.encode(&mb); err != nil {
		return fmt.Errorf("file meta: %w", err)
	}
	var body bytes.Buffer
	if err := d.encode(&body); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.dcm")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	w := bufio.NewWriter(tmp)
	w.Write(make([]byte, 128))
	w.WriteString("DICM")
	var gl bytes.Buffer
	if err := (dataset{ul(tag(0x0002, 0x0000), uint32(mb.Len()))}).encode(&gl); err != nil {
		return err
	}
	w.Write(gl.Bytes())
	w.Write(mb.Bytes())
	w.Write(body.Bytes())
	if err := w.Flush(); err != nil {
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
