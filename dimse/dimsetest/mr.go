// Package dimsetest writes synthetic MR Image Storage Part 10 files for tests and benchmarks of the
// DICOM node (PS3.3 A.4: patient, study, series, frame of reference, equipment, image, image plane,
// image pixel, MR image and SOP common modules). The images are noise-free ramps; the patient is
// fictitious. StartSCP runs an in-process SCP on a loopback port for the length of a test.
//
// Imports: the standard library and github.com/sacrum-dev/sacrum/dimse.
package dimsetest

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/sacrum-dev/sacrum/dimse"
)

// MR describes one synthetic MR image.
type MR struct {
	Rows, Columns     int
	StudyInstanceUID  string
	SeriesInstanceUID string
	SOPInstanceUID    string
	FrameOfReference  string
	InstanceNumber    int
	TransferSyntax    string // ExplicitVRLittleEndian (default), ImplicitVRLittleEndian or DeflatedExplicitVRLittleEndian
	Seed              uint64 // varies the pixel pattern
}

// UID returns a deterministic UID under 2.25 (PS3.5 B.2) for seed and n.
func UID(seed, n uint64) string {
	r := rand.New(rand.NewPCG(seed, n))
	v := new(big.Int).SetUint64(r.Uint64() >> 8)
	v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(r.Uint64()))
	return "2.25." + v.String()
}

// Series returns n MR images of one series with UIDs derived from seed.
func Series(seed uint64, n, rows, cols int) []MR {
	study, series, frame := UID(seed, 1<<40), UID(seed, 1<<41), UID(seed, 1<<42)
	out := make([]MR, n)
	for i := range out {
		out[i] = MR{Rows: rows, Columns: cols, StudyInstanceUID: study, SeriesInstanceUID: series,
			SOPInstanceUID: UID(seed, uint64(i)), FrameOfReference: frame, InstanceNumber: i + 1, Seed: seed + uint64(i)}
	}
	return out
}

// WriteSeries writes the images as dir/IMG0001.dcm … and returns their paths.
func WriteSeries(dir string, images []MR) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	paths := make([]string, len(images))
	for i, m := range images {
		paths[i] = filepath.Join(dir, fmt.Sprintf("IMG%04d.dcm", i+1))
		if err := m.WriteFile(paths[i]); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

type elem struct {
	tag uint32
	vr  string
	val []byte
}

func str(tag uint32, vr, s string) elem {
	b := []byte(s)
	if len(b)%2 == 1 {
		if vr == "UI" {
			b = append(b, 0)
		} else {
			b = append(b, ' ')
		}
	}
	return elem{tag, vr, b}
}

func us(tag uint32, v uint16) elem {
	return elem{tag, "US", binary.LittleEndian.AppendUint16(nil, v)}
}

// WriteFile writes the image as a Part 10 file. Pixel data is written row by row, so large images
// need little memory.
func (m MR) WriteFile(path string) error {
	ts := m.TransferSyntax
	if ts == "" {
		ts = dimse.ExplicitVRLittleEndian
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = dimse.WriteFileMeta(w, dimse.FileMeta{
		MediaStorageSOPClassUID: dimse.MRImageStorage, MediaStorageSOPInstanceUID: m.SOPInstanceUID,
		TransferSyntaxUID: ts, ImplementationClassUID: "2.25.191115852292659761277751096829700997445",
		ImplementationVersionName: "SACRUM_TEST",
	})
	if err == nil && ts == dimse.DeflatedExplicitVRLittleEndian {
		// PS3.5 A.5: the dataset (not the meta group) is deflated (RFC 1951, no zlib header).
		var fw *flate.Writer
		fw, err = flate.NewWriter(w, flate.DefaultCompression)
		if err == nil {
			err = m.writeDataset(bufio.NewWriter(fw), false)
		}
		if err == nil {
			err = fw.Close()
		}
	} else if err == nil {
		err = m.writeDataset(w, ts == dimse.ImplicitVRLittleEndian)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("dimsetest: write %s: %w", path, err)
	}
	return nil
}

func (m MR) writeDataset(w *bufio.Writer, implicit bool) error {
	pos := float64(m.InstanceNumber-1) * 4
	els := []elem{
		str(0x00080005, "CS", "ISO_IR 100"),
		str(0x00080008, "CS", `ORIGINAL\PRIMARY\OTHER`),
		str(0x00080012, "DA", "20260101"),
		str(0x00080013, "TM", "120000"),
		str(0x00080016, "UI", dimse.MRImageStorage),
		str(0x00080018, "UI", m.SOPInstanceUID),
		str(0x00080020, "DA", "20260101"),
		str(0x00080030, "TM", "120000"),
		str(0x00080050, "SH", ""),
		str(0x00080060, "CS", "MR"),
		str(0x00080070, "LO", "SACRUM SYNTHETIC"),
		str(0x00080090, "PN", ""),
		str(0x0008103E, "LO", "SIJ STIR SYNTHETIC"),
		str(0x00100010, "PN", "SYNTHETIC^PATIENT"),
		str(0x00100020, "LO", "SYNTH0001"),
		str(0x00100030, "DA", ""),
		str(0x00100040, "CS", "O"),
		str(0x00180020, "CS", "SE"),
		str(0x00180021, "CS", "NONE"),
		str(0x00180022, "CS", ""),
		str(0x00180023, "CS", "2D"),
		str(0x00180050, "DS", "4"),
		str(0x00180080, "DS", "500"),
		str(0x00180081, "DS", "15"),
		str(0x00180091, "IS", "1"),
		str(0x00185100, "CS", "HFS"),
		str(0x0020000D, "UI", m.StudyInstanceUID),
		str(0x0020000E, "UI", m.SeriesInstanceUID),
		str(0x00200010, "SH", "1"),
		str(0x00200011, "IS", "1"),
		str(0x00200013, "IS", strconv.Itoa(m.InstanceNumber)),
		str(0x00200032, "DS", fmt.Sprintf(`-120\-120\%g`, pos)),
		str(0x00200037, "DS", `1\0\0\0\1\0`),
		str(0x00200052, "UI", m.FrameOfReference),
		str(0x00200060, "CS", ""),
		str(0x00201040, "LO", ""),
		str(0x00201041, "DS", fmt.Sprintf("%g", pos)),
		us(0x00280002, 1),
		str(0x00280004, "CS", "MONOCHROME2"),
		us(0x00280010, uint16(m.Rows)),
		us(0x00280011, uint16(m.Columns)),
		str(0x00280030, "DS", `0.9375\0.9375`),
		us(0x00280100, 16),
		us(0x00280101, 12),
		us(0x00280102, 11),
		us(0x00280103, 0),
	}
	sort.Slice(els, func(i, j int) bool { return els[i].tag < els[j].tag })
	var hdr []byte
	for _, e := range els {
		hdr = appendHeader(hdr[:0], e.tag, e.vr, uint32(len(e.val)), implicit)
		w.Write(hdr)
		w.Write(e.val)
	}
	n := uint32(m.Rows * m.Columns * 2)
	w.Write(appendHeader(hdr[:0], 0x7FE00010, "OW", n, implicit))
	row := make([]byte, 2*m.Columns)
	for y := 0; y < m.Rows; y++ {
		for x := 0; x < m.Columns; x++ {
			v := uint16((uint64(x*7+y*13) + m.Seed*31) % 4096)
			binary.LittleEndian.PutUint16(row[2*x:], v)
		}
		if _, err := w.Write(row); err != nil {
			return err
		}
	}
	return w.Flush()
}

func appendHeader(b []byte, tag uint32, vr string, n uint32, implicit bool) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(tag>>16))
	b = binary.LittleEndian.AppendUint16(b, uint16(tag))
	if implicit {
		return binary.LittleEndian.AppendUint32(b, n)
	}
	b = append(b, vr...)
	switch vr {
	case "OB", "OW", "SQ", "UN", "UT":
		b = append(b, 0, 0)
		return binary.LittleEndian.AppendUint32(b, n)
	}
	return binary.LittleEndian.AppendUint16(b, uint16(n))
}
