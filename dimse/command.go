package dimse

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/grailbio/go-dicom/dicomio"
)

// Command fields (PS3.7 §E.1).
const (
	cStoreRQ  uint16 = 0x0001
	cStoreRSP uint16 = 0x8001
	cEchoRQ   uint16 = 0x0030
	cEchoRSP  uint16 = 0x8030
)

// CommandDataSetType value meaning "no dataset present" (PS3.7 §E.1).
const dataSetAbsent uint16 = 0x0101

// Command element numbers of group 0000 (PS3.7 Table E.1-1).
const (
	tagCommandGroupLength      uint16 = 0x0000
	tagAffectedSOPClassUID     uint16 = 0x0002
	tagCommandField            uint16 = 0x0100
	tagMessageID               uint16 = 0x0110
	tagMessageIDRespondedTo    uint16 = 0x0120
	tagPriority                uint16 = 0x0700
	tagCommandDataSetType      uint16 = 0x0800
	tagStatus                  uint16 = 0x0900
	tagErrorComment            uint16 = 0x0902
	tagAffectedSOPInstanceUID  uint16 = 0x1000
	tagMoveOriginatorAE        uint16 = 0x1030
	tagMoveOriginatorMessageID uint16 = 0x1031
)

// command is a DIMSE command set (group 0000) with the fields C-ECHO and C-STORE use.
type command struct {
	CommandField            uint16
	MessageID               uint16
	MessageIDRespondedTo    uint16
	AffectedSOPClassUID     string
	AffectedSOPInstanceUID  string
	Priority                uint16
	DataSetType             uint16
	Status                  uint16
	ErrorComment            string
	MoveOriginatorAE        string
	MoveOriginatorMessageID uint16
	HasMoveOriginator       bool
}

// hasDataSet reports whether a dataset follows the command.
func (c *command) hasDataSet() bool { return c.DataSetType != dataSetAbsent }

// maxCommandSet bounds the size of a command set we reassemble in memory.
const maxCommandSet = 64 << 10

// encodeCommand encodes c in implicit VR little endian with CommandGroupLength first.
func encodeCommand(c *command) []byte {
	body := dicomio.NewBytesEncoder(binary.LittleEndian, dicomio.ImplicitVR)
	str := func(tag uint16, s string, pad byte) {
		if len(s)%2 == 1 {
			s += string(pad)
		}
		body.WriteUInt16(0x0000)
		body.WriteUInt16(tag)
		body.WriteUInt32(uint32(len(s)))
		body.WriteString(s)
	}
	us := func(tag uint16, v uint16) {
		body.WriteUInt16(0x0000)
		body.WriteUInt16(tag)
		body.WriteUInt32(2)
		body.WriteUInt16(v)
	}
	// Ascending tag order (PS3.5 §7.1).
	if c.AffectedSOPClassUID != "" {
		str(tagAffectedSOPClassUID, c.AffectedSOPClassUID, 0)
	}
	us(tagCommandField, c.CommandField)
	if c.CommandField&0x8000 == 0 {
		us(tagMessageID, c.MessageID)
	} else {
		us(tagMessageIDRespondedTo, c.MessageIDRespondedTo)
	}
	if c.CommandField == cStoreRQ {
		us(tagPriority, c.Priority)
	}
	us(tagCommandDataSetType, c.DataSetType)
	if c.CommandField&0x8000 != 0 {
		us(tagStatus, c.Status)
		if c.ErrorComment != "" {
			str(tagErrorComment, truncate(c.ErrorComment, 64), ' ')
		}
	}
	if c.AffectedSOPInstanceUID != "" {
		str(tagAffectedSOPInstanceUID, c.AffectedSOPInstanceUID, 0)
	}
	if c.HasMoveOriginator && c.CommandField == cStoreRQ {
		str(tagMoveOriginatorAE, c.MoveOriginatorAE, ' ')
		us(tagMoveOriginatorMessageID, c.MoveOriginatorMessageID)
	}
	b := body.Bytes()
	out := dicomio.NewBytesEncoder(binary.LittleEndian, dicomio.ImplicitVR)
	out.WriteUInt16(0x0000)
	out.WriteUInt16(tagCommandGroupLength)
	out.WriteUInt32(4)
	out.WriteUInt32(uint32(len(b)))
	out.WriteBytes(b)
	return out.Bytes()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// decodeCommand decodes an implicit VR little endian command set. Unknown group 0000 elements are
// skipped; elements of other groups, lengths beyond the data and a missing CommandField are errors.
func decodeCommand(data []byte) (*command, error) {
	d := dicomio.NewBytesDecoder(data, binary.LittleEndian, dicomio.ImplicitVR)
	d.PushLimit(int64(len(data)))
	c := &command{DataSetType: dataSetAbsent}
	seen := map[uint16]bool{}
	for !d.EOF() {
		group := d.ReadUInt16()
		elem := d.ReadUInt16()
		n := d.ReadUInt32()
		if err := d.Error(); err != nil {
			return nil, fmt.Errorf("dimse: command set element header at offset %d: %w", d.BytesRead(), err)
		}
		if group != 0x0000 {
			return nil, fmt.Errorf("dimse: command set has element (%04X,%04X) outside group 0000", group, elem)
		}
		if left := int64(len(data)) - d.BytesRead(); int64(n) > left {
			return nil, fmt.Errorf("dimse: command element (0000,%04X) length %d exceeds the %d bytes left", elem, n, left)
		}
		v := d.ReadBytes(int(n))
		if err := d.Error(); err != nil {
			return nil, fmt.Errorf("dimse: command element (0000,%04X): %w", elem, err)
		}
		seen[elem] = true
		u16 := func() (uint16, error) {
			if len(v) != 2 {
				return 0, fmt.Errorf("dimse: command element (0000,%04X) has length %d, want 2", elem, len(v))
			}
			return binary.LittleEndian.Uint16(v), nil
		}
		var err error
		switch elem {
		case tagCommandGroupLength:
			if len(v) != 4 {
				err = fmt.Errorf("dimse: CommandGroupLength has length %d, want 4", len(v))
			}
		case tagAffectedSOPClassUID:
			c.AffectedSOPClassUID = trimUID(v)
		case tagAffectedSOPInstanceUID:
			c.AffectedSOPInstanceUID = trimUID(v)
		case tagCommandField:
			c.CommandField, err = u16()
		case tagMessageID:
			c.MessageID, err = u16()
		case tagMessageIDRespondedTo:
			c.MessageIDRespondedTo, err = u16()
		case tagPriority:
			c.Priority, err = u16()
		case tagCommandDataSetType:
			c.DataSetType, err = u16()
		case tagStatus:
			c.Status, err = u16()
		case tagErrorComment:
			c.ErrorComment = strings.TrimRight(string(v), " \x00")
		case tagMoveOriginatorAE:
			c.MoveOriginatorAE = strings.Trim(string(v), " \x00")
			c.HasMoveOriginator = true
		case tagMoveOriginatorMessageID:
			c.MoveOriginatorMessageID, err = u16()
			c.HasMoveOriginator = true
		}
		if err != nil {
			return nil, err
		}
	}
	if err := d.Error(); err != nil {
		return nil, fmt.Errorf("dimse: command set: %w", err)
	}
	if !seen[tagCommandField] {
		return nil, fmt.Errorf("dimse: command set without CommandField (0000,0100)")
	}
	return c, nil
}

// commandName names a command field for logs.
func commandName(f uint16) string {
	switch f {
	case cStoreRQ:
		return "C-STORE-RQ"
	case cStoreRSP:
		return "C-STORE-RSP"
	case cEchoRQ:
		return "C-ECHO-RQ"
	case cEchoRSP:
		return "C-ECHO-RSP"
	}
	return fmt.Sprintf("command 0x%04X", f)
}
