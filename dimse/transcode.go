package dimse

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// transcodeLE rewrites a dataset from explicit to implicit VR little endian (fromExplicit) or back,
// streaming: element values are copied, only headers change. Sequences and items are written with
// undefined length (their defined lengths would change with the headers); group length elements
// (gggg,0000) are dropped for the same reason (they are retired outside group 0002). Implicit →
// explicit takes VRs from the data dictionary; unknown or private elements become UN.
func transcodeLE(dst io.Writer, src io.Reader, fromExplicit bool) error {
	t := &transcoder{r: bufio.NewReaderSize(src, 64<<10), w: bufio.NewWriterSize(dst, 64<<10), fromExplicit: fromExplicit}
	if err := t.elements(-1, 0); err != nil {
		return err
	}
	return t.w.Flush()
}

type transcoder struct {
	r            *bufio.Reader
	w            *bufio.Writer
	fromExplicit bool
	off          int64 // bytes read from r
	buf          [12]byte
}

const (
	tagItem          uint32 = 0xFFFEE000
	tagItemDelim     uint32 = 0xFFFEE00D
	tagSequenceDelim uint32 = 0xFFFEE0DD
	undefinedLength  uint32 = 0xFFFFFFFF
	maxNesting              = 64
)

// longVR reports whether an explicit VR has a 4-byte length (PS3.5 §7.1.2).
func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

func (t *transcoder) read(n int) ([]byte, error) {
	b := t.buf[:n]
	m, err := io.ReadFull(t.r, b)
	t.off += int64(m)
	return b, err
}

// elements transcodes elements until end (an offset in the input; -1 = until EOF, -2 = until an
// item delimiter, which is consumed and written).
func (t *transcoder) elements(end int64, depth int) error {
	if depth > maxNesting {
		return errors.New("sequences nested too deeply")
	}
	for end < 0 || t.off < end {
		h, err := t.read(4)
		if err == io.EOF && end == -1 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("element at offset %d: %w", t.off, err)
		}
		group, elem := binary.LittleEndian.Uint16(h), binary.LittleEndian.Uint16(h[2:])
		tg := uint32(group)<<16 | uint32(elem)
		if tg == tagItemDelim && end == -2 {
			if _, err := t.read(4); err != nil {
				return err
			}
			return t.writeDelim(tagItemDelim)
		}
		if group == 0xFFFE {
			return fmt.Errorf("unexpected (%04X,%04X) at offset %d", group, elem, t.off-4)
		}
		vr, n, err := t.header(group, elem)
		if err != nil {
			return err
		}
		if !t.fromExplicit {
			vr = explicitVR(group, elem, n)
		}
		if vr == "SQ" || (n == undefinedLength && !t.fromExplicit) {
			if err := t.sequence(group, elem, n, depth); err != nil {
				return fmt.Errorf("sequence (%04X,%04X): %w", group, elem, err)
			}
			continue
		}
		if n == undefinedLength {
			return fmt.Errorf("(%04X,%04X) %s has undefined length (encapsulated data cannot be transcoded)", group, elem, vr)
		}
		if elem == 0x0000 {
			if _, err := io.CopyN(io.Discard, t.r, int64(n)); err != nil {
				return err
			}
			t.off += int64(n)
			continue
		}
		t.writeHeader(group, elem, vr, n)
		if _, err := io.CopyN(t.w, t.r, int64(n)); err != nil {
			return fmt.Errorf("(%04X,%04X) value: %w", group, elem, err)
		}
		t.off += int64(n)
	}
	if end >= 0 && t.off != end {
		return fmt.Errorf("element crosses its sequence or item end at offset %d", end)
	}
	return nil
}

// header reads the rest of an element header: the VR (explicit input) and the length.
func (t *transcoder) header(group, elem uint16) (string, uint32, error) {
	if !t.fromExplicit {
		b, err := t.read(4)
		if err != nil {
			return "", 0, err
		}
		return "", binary.LittleEndian.Uint32(b), nil
	}
	b, err := t.read(4)
	if err != nil {
		return "", 0, err
	}
	vr := string(b[:2])
	if !longVR(vr) {
		return vr, uint32(binary.LittleEndian.Uint16(b[2:])), nil
	}
	b, err = t.read(4)
	if err != nil {
		return "", 0, err
	}
	return vr, binary.LittleEndian.Uint32(b), nil
}

// explicitVR chooses the VR to write for an implicit element.
func explicitVR(group, elem uint16, n uint32) string {
	vr := tag.UnknownVR
	if group%2 == 1 && elem >= 0x0010 && elem <= 0x00FF {
		return "LO" // private creator (PS3.5 §7.8.1)
	}
	if info, err := tag.Find(tag.Tag{Group: group, Element: elem}); err == nil && len(info.VRs) > 0 && group%2 == 0 {
		vr = info.VRs[0]
		if group == 0x7FE0 && elem == 0x0010 {
			vr = "OW"
		}
		if len(vr) != 2 {
			vr = tag.UnknownVR
		}
	}
	if !longVR(vr) && n > 0xFFFF && n != undefinedLength {
		vr = tag.UnknownVR
	}
	return vr
}

func (t *transcoder) sequence(group, elem uint16, n uint32, depth int) error {
	t.writeHeader(group, elem, "SQ", undefinedLength)
	end := int64(-2)
	if n != undefinedLength {
		end = t.off + int64(n)
	}
	for end < 0 || t.off < end {
		h, err := t.read(8)
		if err != nil {
			return err
		}
		tg := uint32(binary.LittleEndian.Uint16(h))<<16 | uint32(binary.LittleEndian.Uint16(h[2:]))
		l := binary.LittleEndian.Uint32(h[4:])
		switch tg {
		case tagSequenceDelim:
			if end != -2 {
				return errors.New("sequence delimiter in a sequence of defined length")
			}
			return t.writeDelim(tagSequenceDelim)
		case tagItem:
			t.writeHeaderRaw(tagItem, undefinedLength)
			itemEnd := int64(-2)
			if l != undefinedLength {
				itemEnd = t.off + int64(l)
			}
			if err := t.elements(itemEnd, depth+1); err != nil {
				return err
			}
			if itemEnd >= 0 {
				if err := t.writeDelim(tagItemDelim); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unexpected tag %08X in a sequence", tg)
		}
	}
	if t.off != end {
		return errors.New("item crosses the end of its sequence")
	}
	return t.writeDelim(tagSequenceDelim)
}

func (t *transcoder) writeHeader(group, elem uint16, vr string, n uint32) {
	var b [12]byte
	binary.LittleEndian.PutUint16(b[0:], group)
	binary.LittleEndian.PutUint16(b[2:], elem)
	if t.fromExplicit { // writing implicit
		binary.LittleEndian.PutUint32(b[4:], n)
		t.w.Write(b[:8])
		return
	}
	copy(b[4:], vr)
	if longVR(vr) {
		binary.LittleEndian.PutUint32(b[8:], n)
		t.w.Write(b[:12])
		return
	}
	binary.LittleEndian.PutUint16(b[6:], uint16(n))
	t.w.Write(b[:8])
}

func (t *transcoder) writeHeaderRaw(tg uint32, n uint32) {
	var b [8]byte
	binary.LittleEndian.PutUint16(b[0:], uint16(tg>>16))
	binary.LittleEndian.PutUint16(b[2:], uint16(tg))
	binary.LittleEndian.PutUint32(b[4:], n)
	t.w.Write(b[:])
}

func (t *transcoder) writeDelim(tg uint32) error {
	t.writeHeaderRaw(tg, 0)
	return nil
}
