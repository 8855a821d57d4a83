package store

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// fileInfo is what store needs from a received Part 10 file.
type fileInfo struct {
	SHA256 string
	Size   int64

	SOPClassUID    string
	SOPInstanceUID string
	StudyUID       string
	SeriesUID      string
	Accession      string
	StudyDate      string
	PatientName    string
	Modality       string
	SeriesNumber   string
	SeriesDesc     string
	Manufacturer   string
	DeviceSerial   string
}

// readFileInfo hashes a Part 10 file and parses its attributes up to the end of group 0020
// (never the pixel data).
func readFileInfo(path string) (*fileInfo, error) {
	fi, err := readHeader(path)
	if err != nil {
		return nil, err
	}
	if err := fi.hash(path); err != nil {
		return nil, err
	}
	return fi, nil
}

// readHeader parses a Part 10 file's attributes up to the end of group 0020 and checks the UIDs that
// name its place in the store; it leaves SHA256 and Size to hash.
func readHeader(path string) (*fileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	fi, err := parseHeader(bufio.NewReaderSize(f, 16<<10), st.Size())
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	for _, c := range []struct{ name, v string }{
		{"SOPInstanceUID (0008,0018)", fi.SOPInstanceUID},
		{"StudyInstanceUID (0020,000D)", fi.StudyUID},
		{"SeriesInstanceUID (0020,000E)", fi.SeriesUID},
	} {
		if !validUID(c.v) {
			return nil, fmt.Errorf("%s: %s %q is missing or not a valid UID", path, c.name, c.v)
		}
	}
	return fi, nil
}

// hash sets SHA256 and Size from the file's content.
func (fi *fileInfo) hash(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	fi.SHA256, fi.Size = hex.EncodeToString(h.Sum(nil)), n
	return nil
}

// parseHeader reads top-level elements until the first one past group 0020.
func parseHeader(r io.Reader, size int64) (fi *fileInfo, err error) {
	defer func() {
		// The DICOM library must not take the node down on a malformed file.
		if p := recover(); p != nil {
			fi, err = nil, fmt.Errorf("malformed dataset: %v", p)
		}
	}()
	p, err := dicom.NewParser(r, size, nil, dicom.SkipPixelData(), dicom.AllowUnknownSpecificCharacterSet())
	if err != nil {
		return nil, err
	}
	fi = &fileInfo{}
	targets := map[tag.Tag]*string{
		tag.SOPClassUID:        &fi.SOPClassUID,
		tag.SOPInstanceUID:     &fi.SOPInstanceUID,
		tag.StudyInstanceUID:   &fi.StudyUID,
		tag.SeriesInstanceUID:  &fi.SeriesUID,
		tag.AccessionNumber:    &fi.Accession,
		tag.StudyDate:          &fi.StudyDate,
		tag.PatientName:        &fi.PatientName,
		tag.Modality:           &fi.Modality,
		tag.SeriesNumber:       &fi.SeriesNumber,
		tag.SeriesDescription:  &fi.SeriesDesc,
		tag.Manufacturer:       &fi.Manufacturer,
		tag.DeviceSerialNumber: &fi.DeviceSerial,
	}
	for {
		e, err := p.Next()
		if errors.Is(err, dicom.ErrorEndOfDICOM) || errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if e.Tag.Group > 0x0020 {
			break
		}
		if dst, ok := targets[e.Tag]; ok {
			*dst = firstString(e)
		}
	}
	return fi, nil
}

func firstString(e *dicom.Element) string {
	switch v := e.Value.GetValue().(type) {
	case []string:
		if len(v) > 0 {
			return strings.TrimRight(v[0], " \x00")
		}
	case []int:
		if len(v) > 0 {
			return fmt.Sprint(v[0])
		}
	}
	return ""
}

// validUID accepts what PS3.5 §9.1 allows: digits and dots, at most 64 characters. Only such UIDs
// become path components.
func validUID(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
		if c == '.' && i > 0 && s[i-1] == '.' {
			return false
		}
	}
	return true
}
