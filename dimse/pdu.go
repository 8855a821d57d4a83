package dimse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// PDU types (PS3.8 §9.3).
const (
	pduAssociateRQ byte = 0x01
	pduAssociateAC byte = 0x02
	pduAssociateRJ byte = 0x03
	pduPDataTF     byte = 0x04
	pduReleaseRQ   byte = 0x05
	pduReleaseRP   byte = 0x06
	pduAbort       byte = 0x07
)

// Item types of A-ASSOCIATE-RQ/AC (PS3.8 §9.3.2, §9.3.3, PS3.7 Annex D).
const (
	itemApplicationContext  byte = 0x10
	itemPresentationRQ      byte = 0x20
	itemPresentationAC      byte = 0x21
	itemAbstractSyntax      byte = 0x30
	itemTransferSyntax      byte = 0x40
	itemUserInformation     byte = 0x50
	itemMaxLength           byte = 0x51
	itemImplementationClass byte = 0x52
	itemAsyncOpsWindow      byte = 0x53
	itemRoleSelection       byte = 0x54
	itemImplementationVer   byte = 0x55
	itemUserIdentityRQ      byte = 0x58
	itemUserIdentityAC      byte = 0x59
)

// ApplicationContextName is the DICOM application context (PS3.7 Annex A.2.1).
const ApplicationContextName = "1.2.840.10008.3.1.1.1"

// Presentation context results in A-ASSOCIATE-AC (PS3.8 §9.3.3.2).
const (
	resultAcceptance              byte = 0
	resultUserRejection           byte = 1
	resultNoReason                byte = 2
	resultAbstractSyntaxNotSupp   byte = 3
	resultTransferSyntaxesNotSupp byte = 4
)

// A-ASSOCIATE-RJ result, source and reason codes (PS3.8 §9.3.4, Table 9-21).
const (
	RejectPermanent byte = 1
	RejectTransient byte = 2

	RejectSourceUser         byte = 1 // DICOM UL service-user
	RejectSourceACSE         byte = 2 // DICOM UL service-provider (ACSE related function)
	RejectSourcePresentation byte = 3 // DICOM UL service-provider (presentation related function)

	// Reasons when the source is the service-user (1).
	ReasonUserNoReason           byte = 1
	ReasonAppContextNotSupported byte = 2
	ReasonCallingAENotRecognized byte = 3
	ReasonCalledAENotRecognized  byte = 7
	// Reasons when the source is the service-provider ACSE (2).
	ReasonACSENoReason                byte = 1
	ReasonProtocolVersionNotSupported byte = 2
	// Reasons when the source is the service-provider presentation (3).
	ReasonTemporaryCongestion byte = 1
	ReasonLocalLimitExceeded  byte = 2
)

// A-ABORT sources and reasons (PS3.8 §9.3.8).
const (
	abortSourceUser     byte = 0
	abortSourceProvider byte = 2

	abortReasonNotSpecified       byte = 0
	abortReasonUnrecognizedPDU    byte = 1
	abortReasonUnexpectedPDU      byte = 2
	abortReasonUnrecognizedParam  byte = 4
	abortReasonUnexpectedParam    byte = 5
	abortReasonInvalidParamValues byte = 6
)

// errMalformed marks a PDU that cannot be decoded (event Evt19).
var errMalformed = errors.New("dimse: malformed PDU")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, a...))
}

// associateRQ is the A-ASSOCIATE-RQ PDU; associateAC shares its layout (PS3.8 §9.3.2, §9.3.3).
type associateRQ struct {
	ProtocolVersion      uint16
	CalledAE             string
	CallingAE            string
	ApplicationContext   string
	PresentationContexts []presentationContextRQ
	UserInfo             userInfo
}

type presentationContextRQ struct {
	ID               byte
	AbstractSyntax   string
	TransferSyntaxes []string
}

type associateAC struct {
	ProtocolVersion    uint16
	CalledAE           string
	CallingAE          string
	ApplicationContext string
	Results            []presentationContextAC
	UserInfo           userInfo
}

type presentationContextAC struct {
	ID             byte
	Result         byte
	TransferSyntax string
}

// userInfo holds the user information sub-items we understand; others are skipped.
type userInfo struct {
	MaxLength                 uint32
	ImplementationClassUID    string
	ImplementationVersionName string
	AsyncOps                  *asyncOpsWindow
	Roles                     []roleSelection
	UserIdentity              *userIdentityRQ
	UserIdentityResponse      []byte // A-ASSOCIATE-AC only; nil = absent
}

type asyncOpsWindow struct {
	MaxInvoked   uint16
	MaxPerformed uint16
}

type roleSelection struct {
	SOPClassUID string
	SCU         bool
	SCP         bool
}

type userIdentityRQ struct {
	Type                     byte // 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT
	PositiveResponseRequired bool
	Primary                  []byte
	Secondary                []byte
}

type associateRJ struct {
	Result byte
	Source byte
	Reason byte
}

// pdv is one presentation data value item of a P-DATA-TF PDU (PS3.8 §9.3.5.1, Annex E.2).
type pdv struct {
	ContextID byte
	Command   bool // message control header bit 0
	Last      bool // message control header bit 1
	Data      []byte
}

type pDataTF struct {
	Items []pdv
}

type releaseRQ struct{}
type releaseRP struct{}

type abortPDU struct {
	Source byte
	Reason byte
}

// maxAssociatePDU bounds the length of non-P-DATA PDUs we accept.
const maxAssociatePDU = 1 << 20

// readPDU reads one PDU from r. buf is reused for the PDU body when large enough; P-DATA PDV data
// slices alias the returned buffer. limit bounds the body length of P-DATA-TF PDUs.
func readPDU(r io.Reader, buf []byte, limit uint32) (any, []byte, error) {
	var hdr [6]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, buf, err
	}
	typ := hdr[0]
	n := binary.BigEndian.Uint32(hdr[2:])
	max := uint32(maxAssociatePDU)
	if typ == pduPDataTF {
		max = limit
	}
	if n > max {
		return nil, buf, malformed("PDU type 0x%02x length %d exceeds limit %d", typ, n, max)
	}
	if uint32(cap(buf)) < n {
		buf = make([]byte, n)
	}
	body := buf[:n]
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, buf, err
	}
	p, err := decodePDU(typ, body)
	return p, buf, err
}

// decodePDU decodes the body of a PDU of type typ.
func decodePDU(typ byte, body []byte) (any, error) {
	d := &decoder{b: body}
	switch typ {
	case pduAssociateRQ:
		rq := &associateRQ{}
		err := decodeAssociate(d, &rq.ProtocolVersion, &rq.CalledAE, &rq.CallingAE, &rq.ApplicationContext, &rq.UserInfo,
			itemPresentationRQ, func(v []byte) error {
				pc, err := decodePresentationRQ(v)
				rq.PresentationContexts = append(rq.PresentationContexts, pc)
				return err
			})
		if err != nil {
			return nil, err
		}
		return rq, d.finish("A-ASSOCIATE-RQ")
	case pduAssociateAC:
		ac := &associateAC{}
		err := decodeAssociate(d, &ac.ProtocolVersion, &ac.CalledAE, &ac.CallingAE, &ac.ApplicationContext, &ac.UserInfo,
			itemPresentationAC, func(v []byte) error {
				pc, err := decodePresentationAC(v)
				ac.Results = append(ac.Results, pc)
				return err
			})
		if err != nil {
			return nil, err
		}
		return ac, d.finish("A-ASSOCIATE-AC")
	case pduAssociateRJ:
		d.skip(1)
		rj := &associateRJ{Result: d.u8(), Source: d.u8(), Reason: d.u8()}
		return rj, d.finish("A-ASSOCIATE-RJ")
	case pduPDataTF:
		p := &pDataTF{}
		for d.err == nil && d.remaining() > 0 {
			n := d.u32()
			if d.err == nil && (n < 2 || uint64(n) > uint64(d.remaining())) {
				return nil, malformed("PDV item length %d with %d bytes left", n, d.remaining())
			}
			id := d.u8()
			mch := d.u8()
			if mch&^3 != 0 {
				return nil, malformed("PDV message control header 0x%02x", mch)
			}
			p.Items = append(p.Items, pdv{ContextID: id, Command: mch&1 != 0, Last: mch&2 != 0, Data: d.bytes(int(n - 2))})
		}
		if d.err == nil && len(p.Items) == 0 {
			return nil, malformed("P-DATA-TF without PDV items")
		}
		return p, d.finish("P-DATA-TF")
	case pduReleaseRQ:
		d.skip(4)
		return &releaseRQ{}, d.finish("A-RELEASE-RQ")
	case pduReleaseRP:
		d.skip(4)
		return &releaseRP{}, d.finish("A-RELEASE-RP")
	case pduAbort:
		d.skip(2)
		a := &abortPDU{Source: d.u8(), Reason: d.u8()}
		return a, d.finish("A-ABORT")
	}
	return nil, malformed("unknown PDU type 0x%02x", typ)
}

// decodeAssociate reads what A-ASSOCIATE-RQ and -AC share; pc receives each presentation
// context item of type pcItem. Unknown items are skipped.
func decodeAssociate(d *decoder, version *uint16, called, calling, appCtx *string, ui *userInfo, pcItem byte, pc func([]byte) error) error {
	d.readAssociateHeader(version, called, calling)
	for d.err == nil && d.remaining() > 0 {
		it, v := d.item()
		if d.err != nil {
			break
		}
		var err error
		switch it {
		case itemApplicationContext:
			*appCtx = trimUID(v)
		case pcItem:
			err = pc(v)
		case itemUserInformation:
			err = decodeUserInfo(v, ui)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func decodePresentationRQ(v []byte) (presentationContextRQ, error) {
	d := &decoder{b: v}
	pc := presentationContextRQ{ID: d.u8()}
	d.skip(3)
	for d.err == nil && d.remaining() > 0 {
		it, s := d.item()
		switch it {
		case itemAbstractSyntax:
			pc.AbstractSyntax = trimUID(s)
		case itemTransferSyntax:
			pc.TransferSyntaxes = append(pc.TransferSyntaxes, trimUID(s))
		}
	}
	return pc, d.finish("presentation context item")
}

func decodePresentationAC(v []byte) (presentationContextAC, error) {
	d := &decoder{b: v}
	pc := presentationContextAC{ID: d.u8()}
	d.skip(1)
	pc.Result = d.u8()
	d.skip(1)
	for d.err == nil && d.remaining() > 0 {
		it, s := d.item()
		if it == itemTransferSyntax {
			pc.TransferSyntax = trimUID(s)
		}
	}
	return pc, d.finish("presentation context item")
}

func decodeUserInfo(v []byte, u *userInfo) error {
	d := &decoder{b: v}
	for d.err == nil && d.remaining() > 0 {
		it, s := d.item()
		if d.err != nil {
			break
		}
		sd := &decoder{b: s}
		switch it {
		case itemMaxLength:
			u.MaxLength = sd.u32()
		case itemImplementationClass:
			u.ImplementationClassUID = trimUID(s)
		case itemImplementationVer:
			u.ImplementationVersionName = strings.TrimRight(string(s), " \x00")
		case itemAsyncOpsWindow:
			u.AsyncOps = &asyncOpsWindow{MaxInvoked: sd.u16(), MaxPerformed: sd.u16()}
		case itemRoleSelection:
			n := sd.u16()
			uid := trimUID(sd.bytes(int(n)))
			r := roleSelection{SOPClassUID: uid, SCU: sd.u8() == 1, SCP: sd.u8() == 1}
			u.Roles = append(u.Roles, r)
		case itemUserIdentityRQ:
			id := &userIdentityRQ{Type: sd.u8(), PositiveResponseRequired: sd.u8() == 1}
			id.Primary = append([]byte(nil), sd.bytes(int(sd.u16()))...)
			id.Secondary = append([]byte(nil), sd.bytes(int(sd.u16()))...)
			u.UserIdentity = id
		case itemUserIdentityAC:
			u.UserIdentityResponse = append([]byte{}, sd.bytes(int(sd.u16()))...)
		default:
			continue // unknown sub-items (extended negotiation etc.) are skipped
		}
		if sd.err != nil {
			return malformed("user information sub-item 0x%02x: %v", it, sd.err)
		}
	}
	return d.finish("user information item")
}

// decoder is a bounds-checked big-endian reader over a byte slice; the first error sticks.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.remaining() {
		d.err = fmt.Errorf("need %d bytes at offset %d, have %d", n, d.off, d.remaining())
		return nil
	}
	v := d.b[d.off : d.off+n]
	d.off += n
	return v
}

func (d *decoder) skip(n int) { d.bytes(n) }

func (d *decoder) u8() byte {
	v := d.bytes(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (d *decoder) u16() uint16 {
	v := d.bytes(2)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

func (d *decoder) u32() uint32 {
	v := d.bytes(4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

// item reads an item header (type, reserved, 16-bit length) and its value.
func (d *decoder) item() (byte, []byte) {
	t := d.u8()
	d.skip(1)
	n := d.u16()
	return t, d.bytes(int(n))
}

func (d *decoder) readAssociateHeader(version *uint16, called, calling *string) {
	*version = d.u16()
	d.skip(2)
	*called = trimAE(d.bytes(16))
	*calling = trimAE(d.bytes(16))
	d.skip(32)
}

func (d *decoder) finish(what string) error {
	if d.err != nil {
		return malformed("%s: %v", what, d.err)
	}
	if d.remaining() != 0 {
		return malformed("%s: %d unexpected trailing bytes", what, d.remaining())
	}
	return nil
}

func trimAE(b []byte) string { return strings.Trim(string(b), " \x00") }

func trimUID(b []byte) string { return strings.TrimRight(string(b), " \x00") }

// encoder builds a PDU in a byte slice.
type encoder struct{ b []byte }

func (e *encoder) u8(v byte)    { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) raw(v []byte) { e.b = append(e.b, v...) }
func (e *encoder) zeros(n int)  { e.b = append(e.b, make([]byte, n)...) }

// ae writes an AE title as its 16-byte field, space padded. Bytes, not runes: fmt's %-16s pads by runes,
// which made a title with a multi-byte character 17 bytes long (fuzz finding).
func (e *encoder) ae(s string) {
	var f [16]byte
	n := copy(f[:], s)
	for i := n; i < len(f); i++ {
		f[i] = ' '
	}
	e.b = append(e.b, f[:]...)
}
func (e *encoder) strItem(t byte, s string) {
	e.u8(t)
	e.u8(0)
	e.u16(uint16(len(s)))
	e.b = append(e.b, s...)
}

// begin writes an item header with a length placeholder and returns its position for end.
func (e *encoder) begin(t byte) int {
	e.u8(t)
	e.u8(0)
	e.u16(0)
	return len(e.b)
}

func (e *encoder) end(pos int) {
	binary.BigEndian.PutUint16(e.b[pos-2:], uint16(len(e.b)-pos))
}

// pduBytes frames body as a PDU of type typ.
func pduBytes(typ byte, body []byte) []byte {
	out := make([]byte, 6, 6+len(body))
	out[0] = typ
	binary.BigEndian.PutUint32(out[2:], uint32(len(body)))
	return append(out, body...)
}

func encodeAssociateHeader(e *encoder, version uint16, called, calling, appCtx string) {
	e.u16(version)
	e.zeros(2)
	e.ae(called)
	e.ae(calling)
	e.zeros(32)
	e.strItem(itemApplicationContext, appCtx)
}

func (u *userInfo) encode(e *encoder) {
	p := e.begin(itemUserInformation)
	q := e.begin(itemMaxLength)
	e.u32(u.MaxLength)
	e.end(q)
	if u.ImplementationClassUID != "" {
		e.strItem(itemImplementationClass, u.ImplementationClassUID)
	}
	if u.AsyncOps != nil {
		q := e.begin(itemAsyncOpsWindow)
		e.u16(u.AsyncOps.MaxInvoked)
		e.u16(u.AsyncOps.MaxPerformed)
		e.end(q)
	}
	for _, r := range u.Roles {
		q := e.begin(itemRoleSelection)
		e.u16(uint16(len(r.SOPClassUID)))
		e.raw([]byte(r.SOPClassUID))
		e.u8(boolByte(r.SCU))
		e.u8(boolByte(r.SCP))
		e.end(q)
	}
	if u.ImplementationVersionName != "" {
		e.strItem(itemImplementationVer, u.ImplementationVersionName)
	}
	if id := u.UserIdentity; id != nil {
		q := e.begin(itemUserIdentityRQ)
		e.u8(id.Type)
		e.u8(boolByte(id.PositiveResponseRequired))
		e.u16(uint16(len(id.Primary)))
		e.raw(id.Primary)
		e.u16(uint16(len(id.Secondary)))
		e.raw(id.Secondary)
		e.end(q)
	}
	if u.UserIdentityResponse != nil {
		q := e.begin(itemUserIdentityAC)
		e.u16(uint16(len(u.UserIdentityResponse)))
		e.raw(u.UserIdentityResponse)
		e.end(q)
	}
	e.end(p)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// encodePDU returns the wire bytes of a PDU value.
func encodePDU(p any) ([]byte, error) {
	e := &encoder{}
	switch p := p.(type) {
	case *associateRQ:
		encodeAssociateHeader(e, p.ProtocolVersion, p.CalledAE, p.CallingAE, p.ApplicationContext)
		for _, pc := range p.PresentationContexts {
			q := e.begin(itemPresentationRQ)
			e.u8(pc.ID)
			e.zeros(3)
			e.strItem(itemAbstractSyntax, pc.AbstractSyntax)
			for _, ts := range pc.TransferSyntaxes {
				e.strItem(itemTransferSyntax, ts)
			}
			e.end(q)
		}
		p.UserInfo.encode(e)
		return pduBytes(pduAssociateRQ, e.b), nil
	case *associateAC:
		encodeAssociateHeader(e, p.ProtocolVersion, p.CalledAE, p.CallingAE, p.ApplicationContext)
		for _, pc := range p.Results {
			q := e.begin(itemPresentationAC)
			e.u8(pc.ID)
			e.u8(0)
			e.u8(pc.Result)
			e.u8(0)
			e.strItem(itemTransferSyntax, pc.TransferSyntax)
			e.end(q)
		}
		p.UserInfo.encode(e)
		return pduBytes(pduAssociateAC, e.b), nil
	case *associateRJ:
		return pduBytes(pduAssociateRJ, []byte{0, p.Result, p.Source, p.Reason}), nil
	case *pDataTF:
		for _, it := range p.Items {
			e.u32(uint32(len(it.Data) + 2))
			e.u8(it.ContextID)
			e.u8(boolByte(it.Command) | boolByte(it.Last)<<1)
			e.raw(it.Data)
		}
		return pduBytes(pduPDataTF, e.b), nil
	case *releaseRQ:
		return pduBytes(pduReleaseRQ, make([]byte, 4)), nil
	case *releaseRP:
		return pduBytes(pduReleaseRP, make([]byte, 4)), nil
	case *abortPDU:
		return pduBytes(pduAbort, []byte{0, 0, p.Source, p.Reason}), nil
	}
	return nil, fmt.Errorf("dimse: cannot encode PDU %T", p)
}

// pduName names a decoded PDU for logs.
func pduName(p any) string {
	switch p.(type) {
	case *associateRQ:
		return "A-ASSOCIATE-RQ"
	case *associateAC:
		return "A-ASSOCIATE-AC"
	case *associateRJ:
		return "A-ASSOCIATE-RJ"
	case *pDataTF:
		return "P-DATA-TF"
	case *releaseRQ:
		return "A-RELEASE-RQ"
	case *releaseRP:
		return "A-RELEASE-RP"
	case *abortPDU:
		return "A-ABORT"
	}
	return fmt.Sprintf("%T", p)
}
