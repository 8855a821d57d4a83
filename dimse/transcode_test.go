package dimse

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// explicitElem encodes one explicit VR little endian element.
func explicitElem(group, elem uint16, vr string, value []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, group)
	b = binary.LittleEndian.AppendUint16(b, elem)
	b = append(b, vr...)
	if longVR(vr) {
		b = append(b, 0, 0)
		return append(binary.LittleEndian.AppendUint32(b, uint32(len(value))), value...)
	}
	return append(binary.LittleEndian.AppendUint16(b, uint16(len(value))), value...)
}

func rawHeader(group, elem uint16, n uint32) []byte {
	b := binary.LittleEndian.AppendUint16(nil, group)
	b = binary.LittleEndian.AppendUint16(b, elem)
	return binary.LittleEndian.AppendUint32(b, n)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// sampleExplicitDataset has a defined-length sequence with a defined-length item, an
// undefined-length sequence with nested sequences, a private element and 16-bit pixel data.
func sampleExplicitDataset() []byte {
	item1 := concat(explicitElem(0x0008, 0x1150, "UI", []byte("1.2.840.10008.5.1.4.1.1.4\x00")),
		explicitElem(0x0008, 0x1155, "UI", []byte("1.2.3.4.5\x00")))
	refSeqBody := concat(rawHeader(0xFFFE, 0xE000, uint32(len(item1))), item1)
	inner := concat(rawHeader(0xFFFE, 0xE000, undefinedLength), explicitElem(0x0008, 0x0100, "SH", []byte("T-15680 ")),
		explicitElem(0x0008, 0x0102, "SH", []byte("SRT ")), rawHeader(0xFFFE, 0xE00D, 0))
	codeSeq := concat(explicitElem(0x0040, 0xA043, "SQ", nil)[:8], binary.LittleEndian.AppendUint32(nil, undefinedLength), inner, rawHeader(0xFFFE, 0xE0DD, 0))
	outerItem := concat(rawHeader(0xFFFE, 0xE000, undefinedLength), explicitElem(0x0040, 0xA010, "CS", []byte("CONTAINS")), codeSeq, rawHeader(0xFFFE, 0xE00D, 0))
	contentSeq := concat(explicitElem(0x0040, 0xA730, "SQ", nil)[:8], binary.LittleEndian.AppendUint32(nil, undefinedLength), outerItem, rawHeader(0xFFFE, 0xE0DD, 0))
	pixels := make([]byte, 2*4*4)
	for i := range pixels {
		pixels[i] = byte(i * 7)
	}
	return concat(
		explicitElem(0x0008, 0x0000, "UL", []byte{0, 0, 0, 0}), // a retired group length: dropped
		explicitElem(0x0008, 0x0005, "CS", []byte("ISO_IR 100")),
		explicitElem(0x0008, 0x0016, "UI", []byte("1.2.840.10008.5.1.4.1.1.4\x00")),
		explicitElem(0x0008, 0x0018, "UI", []byte("1.2.3.4.6\x00")),
		explicitElem(0x0008, 0x1140, "SQ", refSeqBody),
		explicitElem(0x0010, 0x0010, "PN", []byte("TEST^ONE")),
		explicitElem(0x0028, 0x0010, "US", []byte{4, 0}),
		explicitElem(0x0028, 0x0011, "US", []byte{4, 0}),
		explicitElem(0x0028, 0x0100, "US", []byte{16, 0}),
		explicitElem(0x0029, 0x0010, "LO", []byte("SACRUM TEST ")),
		explicitElem(0x0029, 0x1001, "OB", []byte{1, 2, 3, 4}),
		contentSeq,
		explicitElem(0x7FE0, 0x0010, "OW", pixels),
	)
}

// TestTranscode converts explicit → implicit → explicit and checks with DCMTK's dcmdump that the
// three files hold the same dataset.
func TestTranscode(t *testing.T) {
	if _, err := exec.LookPath("dcmdump"); err != nil {
		t.Fatalf("dcmdump not found: `make setup` installs DCMTK")
	}
	dir := t.TempDir()
	explicit := sampleExplicitDataset()
	var implicit, back bytes.Buffer
	if err := transcodeLE(&implicit, bytes.NewReader(explicit), true); err != nil {
		t.Fatalf("explicit → implicit: %v", err)
	}
	if err := transcodeLE(&back, bytes.NewReader(implicit.Bytes()), false); err != nil {
		t.Fatalf("implicit → explicit: %v", err)
	}
	dump := func(name, ts string, ds []byte) string {
		var f bytes.Buffer
		WriteFileMeta(&f, FileMeta{MediaStorageSOPClassUID: MRImageStorage, MediaStorageSOPInstanceUID: "1.2.3.4.6", TransferSyntaxUID: ts, ImplementationClassUID: "1.2.3"})
		f.Write(ds)
		p := filepath.Join(dir, name)
		os.WriteFile(p, f.Bytes(), 0o644)
		out, err := exec.Command("dcmdump", "-q", "+L", "+E", p).CombinedOutput()
		if err != nil {
			t.Fatalf("dcmdump %s: %v\n%s", name, err, out)
		}
		_, ds2, _ := strings.Cut(string(out), "# Dicom-Data-Set\n")
		var keep []string
		for _, l := range strings.Split(ds2, "\n") {
			// Lengths of sequences and items legitimately change (defined → undefined);
			// compare tags, VRs and values.
			if strings.HasPrefix(l, "# Used TransferSyntax") || strings.Contains(l, "GroupLength") {
				continue
			}
			if i := strings.LastIndex(l, "#"); i > 0 && !strings.Contains(l, "(fffe,e0") {
				l = strings.TrimRight(l[:i], " ") + " " + l[strings.LastIndex(l, ",")+1:]
			}
			keep = append(keep, strings.TrimSpace(l))
		}
		return strings.Join(keep, "\n")
	}
	a := dump("explicit.dcm", ExplicitVRLittleEndian, explicit)
	b := dump("implicit.dcm", ImplicitVRLittleEndian, implicit.Bytes())
	c := dump("back.dcm", ExplicitVRLittleEndian, back.Bytes())
	for _, want := range []string{"(0008,1155) UI [1.2.3.4.5]", "(0008,0100) SH [T-15680]", "(0029,1001) OB 01\\02\\03\\04", "(7fe0,0010) OW"} {
		if !strings.Contains(a, want) {
			t.Fatalf("sample dump lacks %q:\n%s", want, a)
		}
	}
	norm := func(s string) string { // sequence and item delimiters appear where lengths were defined
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			// A private element's VR is unknown without its explicit encoding: ?? in implicit, UN after.
			if strings.HasPrefix(l, "(0029,1001) ") {
				l = "(0029,1001) xx" + l[len("(0029,1001) OB"):]
			}
			l = strings.Replace(l, "with explicit length", "with undefined length", 1)
			if !strings.Contains(l, "Delimitation") && !strings.HasPrefix(l, "(fffe,e000)") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if norm(a) != norm(b) {
		t.Errorf("explicit and implicit differ:\n%s\n---\n%s", a, b)
	}
	if norm(a) != norm(c) {
		t.Errorf("explicit and round trip differ:\n%s\n---\n%s", a, c)
	}
}

func TestTranscodeErrors(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		explicit bool
	}{
		{"truncated value", explicitElem(0x0010, 0x0010, "PN", []byte("ABCD"))[:10], true},
		{"encapsulated", concat(explicitElem(0x7FE0, 0x0010, "OB", nil)[:8], binary.LittleEndian.AppendUint32(nil, undefinedLength)), true},
		{"item outside sequence", rawHeader(0xFFFE, 0xE000, 0), true},
		{"item longer than its sequence", concat(explicitElem(0x0008, 0x1140, "SQ", nil)[:8], binary.LittleEndian.AppendUint32(nil, 8), rawHeader(0xFFFE, 0xE000, 16), make([]byte, 16)), true},
		{"unterminated implicit sequence", concat(rawHeader(0x0008, 0x1140, undefinedLength), rawHeader(0xFFFE, 0xE000, undefinedLength)), false},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := transcodeLE(&out, bytes.NewReader(tt.data), tt.explicit); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
