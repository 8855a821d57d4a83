package dimse

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/grailbio/go-dicom/dicomio"
)

// Transfer syntax UIDs (PS3.5 §10, Annex A).
const (
	ImplicitVRLittleEndian         = "1.2.840.10008.1.2"
	ExplicitVRLittleEndian         = "1.2.840.10008.1.2.1"
	DeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
	ExplicitVRBigEndian            = "1.2.840.10008.1.2.2"
)

// SOP class UIDs the node accepts by default (PS3.4 Annex B.5).
const (
	VerificationSOPClass           = "1.2.840.10008.1.1"
	MRImageStorage                 = "1.2.840.10008.5.1.4.1.1.4"
	EnhancedMRImageStorage         = "1.2.840.10008.5.1.4.1.1.4.1"
	SegmentationStorage            = "1.2.840.10008.5.1.4.1.1.66.4"
	BasicTextSRStorage             = "1.2.840.10008.5.1.4.1.1.88.11"
	EnhancedSRStorage              = "1.2.840.10008.5.1.4.1.1.88.22"
	ComprehensiveSRStorage         = "1.2.840.10008.5.1.4.1.1.88.33"
	Comprehensive3DSRStorage       = "1.2.840.10008.5.1.4.1.1.88.34"
	SecondaryCaptureImageStorage   = "1.2.840.10008.5.1.4.1.1.7"
	defaultImplementationClassUID  = "2.25.191115852292659761277751096829700997445"
	defaultImplementationVersion   = "SACRUM_1"
	fileMetaInformationVersionByte = 0x01
)

// DefaultSOPClasses are the abstract syntaxes accepted when the configuration names none.
var DefaultSOPClasses = []string{
	VerificationSOPClass, MRImageStorage, EnhancedMRImageStorage, SegmentationStorage,
	BasicTextSRStorage, EnhancedSRStorage, ComprehensiveSRStorage, Comprehensive3DSRStorage,
	SecondaryCaptureImageStorage,
}

// DefaultTransferSyntaxes are the transfer syntaxes accepted (in order of preference) when the
// configuration names none.
var DefaultTransferSyntaxes = []string{ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian}

// FileMeta is the File Meta Information (group 0002) of a Part 10 file (PS3.10 §7.1).
type FileMeta struct {
	MediaStorageSOPClassUID    string
	MediaStorageSOPInstanceUID string
	TransferSyntaxUID          string
	ImplementationClassUID     string
	ImplementationVersionName  string
	SourceAETitle              string
}

// WriteFileMeta writes the 128-byte preamble, "DICM" and the File Meta Information group in
// explicit VR little endian with its group length.
func WriteFileMeta(w io.Writer, m FileMeta) error {
	g := dicomio.NewBytesEncoder(binary.LittleEndian, dicomio.ExplicitVR)
	writeMetaElem(g, 0x0001, "OB", []byte{0, fileMetaInformationVersionByte})
	writeMetaElem(g, 0x0002, "UI", padUID(m.MediaStorageSOPClassUID))
	writeMetaElem(g, 0x0003, "UI", padUID(m.MediaStorageSOPInstanceUID))
	writeMetaElem(g, 0x0010, "UI", padUID(m.TransferSyntaxUID))
	writeMetaElem(g, 0x0012, "UI", padUID(m.ImplementationClassUID))
	if m.ImplementationVersionName != "" {
		writeMetaElem(g, 0x0013, "SH", padText(m.ImplementationVersionName))
	}
	if m.SourceAETitle != "" {
		writeMetaElem(g, 0x0016, "AE", padText(m.SourceAETitle))
	}
	body := g.Bytes()
	out := dicomio.NewBytesEncoder(binary.LittleEndian, dicomio.ExplicitVR)
	out.WriteZeros(128)
	out.WriteString("DICM")
	gl := make([]byte, 4)
	binary.LittleEndian.PutUint32(gl, uint32(len(body)))
	writeMetaElem(out, 0x0000, "UL", gl)
	out.WriteBytes(body)
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("dimse: write file meta: %w", err)
	}
	return nil
}

func writeMetaElem(e *dicomio.Encoder, elem uint16, vr string, v []byte) {
	e.WriteUInt16(0x0002)
	e.WriteUInt16(elem)
	e.WriteString(vr)
	if vr == "OB" {
		e.WriteZeros(2)
		e.WriteUInt32(uint32(len(v)))
	} else {
		e.WriteUInt16(uint16(len(v)))
	}
	e.WriteBytes(v)
}

func padUID(s string) []byte {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func padText(s string) []byte {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, ' ')
	}
	return b
}

// ReadFileMeta reads the preamble and File Meta Information of a Part 10 file from r and leaves r
// positioned at the first byte of the dataset. It returns the meta and the dataset's offset.
func ReadFileMeta(r *bufio.Reader) (FileMeta, int64, error) {
	var m FileMeta
	head := make([]byte, 132)
	if _, err := io.ReadFull(r, head); err != nil {
		return m, 0, fmt.Errorf("not a DICOM Part 10 file: %w", err)
	}
	if string(head[128:]) != "DICM" {
		return m, 0, errors.New("not a DICOM Part 10 file: no DICM prefix at offset 128")
	}
	off := int64(132)
	var groupEnd int64 = -1
	for {
		if groupEnd >= 0 && off >= groupEnd {
			break
		}
		if groupEnd < 0 {
			peek, err := r.Peek(2)
			if err != nil || binary.LittleEndian.Uint16(peek) != 0x0002 {
				break
			}
		}
		var h [8]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return m, 0, fmt.Errorf("file meta element at offset %d: %w", off, err)
		}
		group := binary.LittleEndian.Uint16(h[0:])
		elem := binary.LittleEndian.Uint16(h[2:])
		if group != 0x0002 {
			return m, 0, fmt.Errorf("file meta element at offset %d: group %04X inside group 0002", off, group)
		}
		vr := string(h[4:6])
		n := int64(binary.LittleEndian.Uint16(h[6:]))
		hl := int64(8)
		switch vr {
		case "OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR", "OD", "OL", "OV":
			var l [4]byte
			if _, err := io.ReadFull(r, l[:]); err != nil {
				return m, 0, fmt.Errorf("file meta element (0002,%04X): %w", elem, err)
			}
			n = int64(binary.LittleEndian.Uint32(l[:]))
			hl = 12
		}
		if n > 1<<16 {
			return m, 0, fmt.Errorf("file meta element (0002,%04X) length %d is implausible", elem, n)
		}
		v := make([]byte, n)
		if _, err := io.ReadFull(r, v); err != nil {
			return m, 0, fmt.Errorf("file meta element (0002,%04X): %w", elem, err)
		}
		switch elem {
		case 0x0000:
			if len(v) == 4 {
				groupEnd = off + hl + n + int64(binary.LittleEndian.Uint32(v))
			}
		case 0x0002:
			m.MediaStorageSOPClassUID = trimUID(v)
		case 0x0003:
			m.MediaStorageSOPInstanceUID = trimUID(v)
		case 0x0010:
			m.TransferSyntaxUID = trimUID(v)
		case 0x0012:
			m.ImplementationClassUID = trimUID(v)
		case 0x0013:
			m.ImplementationVersionName = strings.TrimRight(string(v), " \x00")
		case 0x0016:
			m.SourceAETitle = strings.Trim(string(v), " \x00")
		}
		off += hl + n
	}
	if m.TransferSyntaxUID == "" {
		return m, 0, errors.New("file meta has no TransferSyntaxUID (0002,0010)")
	}
	if m.MediaStorageSOPClassUID == "" || m.MediaStorageSOPInstanceUID == "" {
		return m, 0, errors.New("file meta has no MediaStorageSOPClassUID/InstanceUID (0002,0002/0003)")
	}
	return m, off, nil
}

// datasetSOPUIDs scans the start of a dataset encoded in implicit or explicit VR little endian for
// SOPClassUID (0008,0016) and SOPInstanceUID (0008,0018). ok is false when they were not reached
// within prefix (or the encoding is not one we scan).
func datasetSOPUIDs(prefix []byte, ts string) (class, inst string, ok bool) {
	explicit := ts == ExplicitVRLittleEndian
	if !explicit && ts != ImplicitVRLittleEndian {
		return "", "", false
	}
	b := prefix
	for len(b) >= 8 {
		group := binary.LittleEndian.Uint16(b)
		elem := binary.LittleEndian.Uint16(b[2:])
		tag := uint32(group)<<16 | uint32(elem)
		if tag > 0x00080018 {
			return class, inst, class != "" || inst != ""
		}
		var n uint32
		hl := 8
		if explicit {
			vr := string(b[4:6])
			switch vr {
			case "OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR", "OD", "OL", "OV":
				if len(b) < 12 {
					return "", "", false
				}
				n = binary.LittleEndian.Uint32(b[8:])
				hl = 12
			default:
				n = uint32(binary.LittleEndian.Uint16(b[6:]))
			}
		} else {
			n = binary.LittleEndian.Uint32(b[4:])
		}
		if n == 0xFFFFFFFF || uint64(n) > uint64(len(b)-hl) {
			return "", "", false
		}
		v := b[hl : hl+int(n)]
		switch tag {
		case 0x00080016:
			class = trimUID(v)
		case 0x00080018:
			inst = trimUID(v)
			return class, inst, true
		}
		b = b[hl+int(n):]
	}
	return "", "", false
}

// isUID reports whether s is a syntactically valid UID (PS3.5 §9.1), so it can name a file.
func isUID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || (len(part) > 1 && part[0] == '0') {
			return false
		}
		for _, r := range part {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}
