package dimse

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestFileMetaRoundTrip(t *testing.T) {
	m := FileMeta{MediaStorageSOPClassUID: MRImageStorage, MediaStorageSOPInstanceUID: "1.2.3.45", TransferSyntaxUID: ExplicitVRLittleEndian,
		ImplementationClassUID: "1.2.3", ImplementationVersionName: "V1", SourceAETitle: "PACS"}
	var b bytes.Buffer
	if err := WriteFileMeta(&b, m); err != nil {
		t.Fatal(err)
	}
	b.WriteString("DATASET")
	raw := b.Bytes()
	if string(raw[128:132]) != "DICM" || !bytes.Equal(raw[:128], make([]byte, 128)) {
		t.Fatal("preamble or DICM prefix wrong")
	}
	// (0002,0000) UL group length counts the bytes after it up to the dataset.
	if gl := int(raw[140]) | int(raw[141])<<8; 144+gl != len(raw)-len("DATASET") {
		t.Errorf("group length %d, want %d", gl, len(raw)-len("DATASET")-144)
	}
	r := bufio.NewReader(bytes.NewReader(raw))
	got, off, err := ReadFileMeta(r)
	if err != nil {
		t.Fatal(err)
	}
	if got != m || off != int64(len(raw)-len("DATASET")) {
		t.Errorf("ReadFileMeta = %+v at %d", got, off)
	}
	rest, _ := r.ReadString(0)
	if rest != "DATASET" {
		t.Errorf("reader left at %q", rest)
	}
}

func TestReadFileMetaErrors(t *testing.T) {
	var good bytes.Buffer
	WriteFileMeta(&good, FileMeta{MediaStorageSOPClassUID: "1.2", MediaStorageSOPInstanceUID: "1.3", TransferSyntaxUID: ExplicitVRLittleEndian, ImplementationClassUID: "1.4"})
	noTS := bytes.Buffer{}
	WriteFileMeta(&noTS, FileMeta{MediaStorageSOPClassUID: "1.2", MediaStorageSOPInstanceUID: "1.3", ImplementationClassUID: "1.4"})
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"short", []byte("hello"), "not a DICOM Part 10 file"},
		{"no DICM", make([]byte, 200), "no DICM prefix"},
		{"truncated meta", good.Bytes()[:160], "file meta element"},
		{"empty transfer syntax", noTS.Bytes(), "TransferSyntaxUID"},
	}
	for _, tt := range tests {
		_, _, err := ReadFileMeta(bufio.NewReader(bytes.NewReader(tt.data)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestDatasetSOPUIDs(t *testing.T) {
	explicit := concat(explicitElem(0x0008, 0x0005, "CS", []byte("ISO_IR 100")), explicitElem(0x0008, 0x0016, "UI", []byte("1.2.840.10008.5.1.4.1.1.4\x00")),
		explicitElem(0x0008, 0x0018, "UI", []byte("1.2.3\x00")), explicitElem(0x0010, 0x0010, "PN", []byte("A^B ")))
	var implicit bytes.Buffer
	transcodeLE(&implicit, bytes.NewReader(explicit), true)
	tests := []struct {
		name      string
		data      []byte
		ts        string
		cls, inst string
		ok        bool
	}{
		{"explicit", explicit, ExplicitVRLittleEndian, MRImageStorage, "1.2.3", true},
		{"implicit", implicit.Bytes(), ImplicitVRLittleEndian, MRImageStorage, "1.2.3", true},
		{"cut before the instance UID", explicit[:40], ExplicitVRLittleEndian, "", "", false},
		{"deflated is not scanned", explicit, DeflatedExplicitVRLittleEndian, "", "", false},
		{"absent", explicitElem(0x0010, 0x0010, "PN", []byte("A^B ")), ExplicitVRLittleEndian, "", "", false},
	}
	for _, tt := range tests {
		cls, inst, ok := datasetSOPUIDs(tt.data, tt.ts)
		if cls != tt.cls || inst != tt.inst || ok != tt.ok {
			t.Errorf("%s: %q %q %v, want %q %q %v", tt.name, cls, inst, ok, tt.cls, tt.inst, tt.ok)
		}
	}
}

func TestIsUID(t *testing.T) {
	for s, want := range map[string]bool{"1.2.840.10008.1.2": true, "2.25.0": true, "1.02": false, "1..2": false, "1.2.": false, "": false,
		"1.2.a": false, "../etc": false, strings.Repeat("1.", 32) + "1": false} {
		if isUID(s) != want {
			t.Errorf("isUID(%q) = %v", s, !want)
		}
	}
}
