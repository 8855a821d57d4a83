package volume

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// prescan walks the element headers of a Part 10 file and checks that every value length fits in the
// file, recursing into sequences and items. The parser allocates each value's declared length before
// reading it, so one corrupt length field would make it allocate up to 4 GiB; checking first keeps memory
// bounded by the file size. It does not interpret values.
func prescan(b []byte) error {
	w := &walker{b: b, explicit: true, order: binary.LittleEndian}
	pos := 0
	if len(b) >= 132 && string(b[128:132]) == "DICM" {
		pos = 132
	} else {
		w.explicit, w.switched = false, true // no file meta: implicit VR little endian
	}
	_, err := w.walk(pos, len(b), 0, false)
	return err
}

type walker struct {
	b        []byte
	explicit bool
	order    binary.ByteOrder
	tsUID    string // from (0002,0010)
	switched bool   // past the file meta group
}

const undefinedLength = 0xFFFFFFFF

var errTooDeep = errors.New("sequences nested too deeply")

// longVR are the explicit VRs with a 2-byte reserved field and a 4-byte length.
var longVR = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true, "SQ": true,
	"SV": true, "UC": true, "UN": true, "UR": true, "UT": true, "UV": true}

// walk checks the elements in b[pos:end]; in an undefined-length context it stops after the matching
// delimiter and returns the position after it. In fragments mode (encapsulated pixel data) items hold raw
// bytes, not elements.
func (w *walker) walk(pos, end, depth int, fragments bool) (int, error) {
	if depth > 32 {
		return 0, errTooDeep
	}
	for pos+8 <= end {
		group := binary.LittleEndian.Uint16(w.b[pos:])
		if group != 0x0002 && !w.switched {
			if w.tsUID == deflatedSyntax && depth == 0 {
				return w.inflated(pos)
			}
			w.setSyntax()
		}
		order, explicit := w.order, w.explicit
		if group == 0x0002 {
			order, explicit = binary.LittleEndian, true
		} else if order == binary.BigEndian {
			group = binary.BigEndian.Uint16(w.b[pos:])
		}
		elem := order.Uint16(w.b[pos+2:])
		if group == 0xFFFE {
			vl := order.Uint32(w.b[pos+4:])
			switch elem {
			case 0xE00D, 0xE0DD: // item or sequence delimiter
				return pos + 8, nil
			case 0xE000:
				if vl == undefinedLength {
					next, err := w.walk(pos+8, end, depth+1, false)
					if err != nil {
						return 0, err
					}
					pos = next
					continue
				}
				if int64(vl) > int64(end-pos-8) {
					return 0, fmt.Errorf("item at byte %d declares %d bytes, %d remain", pos, vl, end-pos-8)
				}
				if !fragments {
					if _, err := w.walk(pos+8, pos+8+int(vl), depth+1, false); err != nil {
						return 0, err
					}
				}
				pos += 8 + int(vl)
				continue
			}
			return 0, fmt.Errorf("unexpected (FFFE,%04X) at byte %d", elem, pos)
		}
		var vr string
		var vl uint32
		hdr := 8
		if explicit {
			vr = string(w.b[pos+4 : pos+6])
			if longVR[vr] {
				if pos+12 > end {
					return 0, fmt.Errorf("element (%04X,%04X) header truncated", group, elem)
				}
				vl, hdr = order.Uint32(w.b[pos+8:]), 12
			} else {
				vl = uint32(order.Uint16(w.b[pos+6:]))
			}
		} else {
			vl = order.Uint32(w.b[pos+4:])
			if info, err := tag.Find(tag.Tag{Group: group, Element: elem}); err == nil && len(info.VRs) > 0 {
				vr = info.VRs[0]
			}
		}
		if vl == undefinedLength {
			// A sequence, encapsulated pixel data or UN with undefined length: items follow.
			next, err := w.walk(pos+hdr, end, depth+1, vr != "SQ")
			if err != nil {
				return 0, err
			}
			pos = next
			continue
		}
		if int64(vl) > int64(end-pos-hdr) {
			return 0, fmt.Errorf("element (%04X,%04X) declares %d bytes, %d remain", group, elem, vl, end-pos-hdr)
		}
		if group == 0x0002 && elem == 0x0010 {
			w.tsUID = trimUID(w.b[pos+hdr : pos+hdr+int(vl)])
		}
		if vr == "SQ" {
			if _, err := w.walk(pos+hdr, pos+hdr+int(vl), depth+1, false); err != nil {
				return 0, err
			}
		}
		pos += hdr + int(vl)
	}
	return pos, nil
}

const deflatedSyntax = "1.2.840.10008.1.2.1.99"

// maxInflated bounds the inflated size of a deflated dataset (a deflate bomb must not exhaust memory).
const maxInflated = 1 << 30

// inflated walks the deflated dataset that starts at pos (explicit VR little endian once inflated).
func (w *walker) inflated(pos int) (int, error) {
	body, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(w.b[pos:])), maxInflated+1))
	if err != nil {
		return 0, fmt.Errorf("inflating the deflated dataset: %w", err)
	}
	if len(body) > maxInflated {
		return 0, fmt.Errorf("deflated dataset inflates to more than %d bytes", maxInflated)
	}
	iw := &walker{b: body, explicit: true, order: binary.LittleEndian, switched: true}
	if _, err := iw.walk(0, len(body), 0, false); err != nil {
		return 0, fmt.Errorf("deflated dataset: %w", err)
	}
	return len(w.b), nil
}

// setSyntax switches to the dataset's transfer syntax after the file meta group.
func (w *walker) setSyntax() {
	w.switched = true
	switch w.tsUID {
	case "1.2.840.10008.1.2":
		w.explicit = false
	case "1.2.840.10008.1.2.2":
		w.order = binary.BigEndian
	}
}

func trimUID(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return string(b)
}
