package dimse

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestDecodeDCMTKAssociateRQ decodes A-ASSOCIATE-RQ PDUs captured from DCMTK 3.6.7 and re-encodes
// them byte for byte.
func TestDecodeDCMTKAssociateRQ(t *testing.T) {
	tests := []struct {
		file       string
		calling    string
		called     string
		contexts   int
		firstAS    string
		firstTS    []string
		maxLength  uint32
		implClass  string
		implVer    string
		identity   string // "type:primary:secondary:response"
		identityOK bool
	}{
		{file: "echoscu-associate-rq.bin", calling: "ECHOSCU", called: "SACRUM", contexts: 1,
			firstAS: VerificationSOPClass, firstTS: []string{ImplicitVRLittleEndian}, maxLength: 16384,
			implClass: "1.2.276.0.7230010.3.0.3.6.7", implVer: "OFFIS_DCMTK_367"},
		{file: "storescu-associate-rq.bin", calling: "STORESCU", called: "SACRUM", contexts: 2,
			firstAS: MRImageStorage, firstTS: []string{"1.2.840.10008.1.2.4.70"}, maxLength: 16384,
			implClass: "1.2.276.0.7230010.3.0.3.6.7", implVer: "OFFIS_DCMTK_367",
			identity: "2:alice:secret:true", identityOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "pdu", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			p, _, err := readPDU(bytes.NewReader(raw), nil, 1<<20)
			if err != nil {
				t.Fatalf("readPDU: %v", err)
			}
			rq, ok := p.(*associateRQ)
			if !ok {
				t.Fatalf("got %T, want *associateRQ", p)
			}
			if rq.CallingAE != tt.calling || rq.CalledAE != tt.called || rq.ProtocolVersion != 1 || rq.ApplicationContext != ApplicationContextName {
				t.Errorf("header = %q %q v%d %q", rq.CallingAE, rq.CalledAE, rq.ProtocolVersion, rq.ApplicationContext)
			}
			if len(rq.PresentationContexts) != tt.contexts {
				t.Fatalf("%d presentation contexts, want %d", len(rq.PresentationContexts), tt.contexts)
			}
			pc := rq.PresentationContexts[0]
			if pc.ID != 1 || pc.AbstractSyntax != tt.firstAS || !reflect.DeepEqual(pc.TransferSyntaxes, tt.firstTS) {
				t.Errorf("first context = %+v", pc)
			}
			u := rq.UserInfo
			if u.MaxLength != tt.maxLength || u.ImplementationClassUID != tt.implClass || u.ImplementationVersionName != tt.implVer {
				t.Errorf("user info = %+v", u)
			}
			if (u.UserIdentity != nil) != tt.identityOK {
				t.Fatalf("user identity = %+v", u.UserIdentity)
			}
			if id := u.UserIdentity; id != nil {
				got := strings.Join([]string{string('0' + id.Type), string(id.Primary), string(id.Secondary), map[bool]string{true: "true", false: "false"}[id.PositiveResponseRequired]}, ":")
				if got != tt.identity {
					t.Errorf("user identity = %s, want %s", got, tt.identity)
				}
			}
			enc, err := encodePDU(rq)
			if err != nil {
				t.Fatal(err)
			}
			// DCMTK sends 0xFF in a reserved byte of each presentation context item; we send 00H
			// as PS3.8 §9.3.2.2 says (receivers do not test it). Every other byte must match.
			if len(enc) != len(raw) {
				t.Fatalf("re-encoded length %d, DCMTK's %d", len(enc), len(raw))
			}
			reserved := 0
			for i := range enc {
				if enc[i] != raw[i] {
					if raw[i] == 0xFF && enc[i] == 0 && i >= 6 && raw[i-6] == itemPresentationRQ {
						reserved++
						continue
					}
					t.Fatalf("re-encoded PDU differs at byte %d: got %02x, DCMTK %02x", i, enc[i], raw[i])
				}
			}
			if reserved != tt.contexts {
				t.Errorf("%d reserved bytes differ, want one per presentation context (%d)", reserved, tt.contexts)
			}
		})
	}
}

// TestPDURoundTrip encodes each PDU, compares with golden bytes and decodes it back.
func TestPDURoundTrip(t *testing.T) {
	tests := []struct {
		name string
		pdu  any
	}{
		{"associate-rq-full", &associateRQ{ProtocolVersion: 1, CalledAE: "SACRUM", CallingAE: "PACS", ApplicationContext: ApplicationContextName,
			PresentationContexts: []presentationContextRQ{
				{ID: 1, AbstractSyntax: VerificationSOPClass, TransferSyntaxes: []string{ImplicitVRLittleEndian}},
				{ID: 3, AbstractSyntax: MRImageStorage, TransferSyntaxes: []string{ExplicitVRLittleEndian, ImplicitVRLittleEndian}},
			},
			UserInfo: userInfo{MaxLength: 16384, ImplementationClassUID: "1.2.3.4", ImplementationVersionName: "TEST_1",
				AsyncOps:     &asyncOpsWindow{MaxInvoked: 2, MaxPerformed: 3},
				Roles:        []roleSelection{{SOPClassUID: MRImageStorage, SCU: true, SCP: false}},
				UserIdentity: &userIdentityRQ{Type: 2, PositiveResponseRequired: true, Primary: []byte("alice"), Secondary: []byte("pw")}}}},
		{"associate-ac", &associateAC{ProtocolVersion: 1, CalledAE: "SACRUM", CallingAE: "PACS", ApplicationContext: ApplicationContextName,
			Results: []presentationContextAC{
				{ID: 1, Result: resultAcceptance, TransferSyntax: ImplicitVRLittleEndian},
				{ID: 3, Result: resultTransferSyntaxesNotSupp, TransferSyntax: ImplicitVRLittleEndian},
				{ID: 5, Result: resultAbstractSyntaxNotSupp, TransferSyntax: ImplicitVRLittleEndian},
			},
			UserInfo: userInfo{MaxLength: 262144, ImplementationClassUID: defaultImplementationClassUID, ImplementationVersionName: defaultImplementationVersion,
				UserIdentityResponse: []byte{}}}},
		{"associate-rj", &associateRJ{Result: RejectPermanent, Source: RejectSourceUser, Reason: ReasonCallingAENotRecognized}},
		{"p-data-tf", &pDataTF{Items: []pdv{
			{ContextID: 1, Command: true, Last: true, Data: []byte{1, 2, 3, 4}},
			{ContextID: 1, Command: false, Last: false, Data: []byte{5, 6}},
		}}},
		{"release-rq", &releaseRQ{}},
		{"release-rp", &releaseRP{}},
		{"abort", &abortPDU{Source: abortSourceProvider, Reason: abortReasonUnexpectedPDU}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := encodePDU(tt.pdu)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "pdu", tt.name+".hex")
			if *update {
				os.WriteFile(golden, []byte(hex.Dump(enc)), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got := hex.Dump(enc); got != string(want) {
				t.Errorf("encoding differs from %s:\n%s", golden, got)
			}
			back, _, err := readPDU(bytes.NewReader(enc), nil, 1<<20)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(back, tt.pdu) {
				t.Errorf("round trip:\n got %+v\nwant %+v", back, tt.pdu)
			}
		})
	}
}

// TestPDUWireLayout checks small PDUs against PS3.8 §9.3 byte for byte.
func TestPDUWireLayout(t *testing.T) {
	tests := []struct {
		pdu  any
		want string
	}{
		{&associateRJ{Result: 1, Source: 1, Reason: 3}, "03 00 00000004 00 01 01 03"},
		{&associateRJ{Result: 2, Source: 3, Reason: 2}, "03 00 00000004 00 02 03 02"},
		{&releaseRQ{}, "05 00 00000004 00000000"},
		{&releaseRP{}, "06 00 00000004 00000000"},
		{&abortPDU{Source: 2, Reason: 1}, "07 00 00000004 0000 02 01"},
		{&pDataTF{Items: []pdv{{ContextID: 7, Command: true, Last: true, Data: []byte{0xAA}}}}, "04 00 00000007 00000003 07 03 AA"},
		{&pDataTF{Items: []pdv{{ContextID: 3, Last: true, Data: []byte{}}}}, "04 00 00000006 00000002 03 02"},
	}
	for _, tt := range tests {
		enc, _ := encodePDU(tt.pdu)
		want, _ := hex.DecodeString(strings.ReplaceAll(tt.want, " ", ""))
		if !bytes.Equal(enc, want) {
			t.Errorf("%s: got % x, want % x", pduName(tt.pdu), enc, want)
		}
	}
}

// TestDecodeMalformed feeds broken PDUs: each must give errMalformed, never a panic.
func TestDecodeMalformed(t *testing.T) {
	rq, _ := encodePDU(&associateRQ{CalledAE: "A", CallingAE: "B", PresentationContexts: []presentationContextRQ{{ID: 1, AbstractSyntax: "1.2", TransferSyntaxes: []string{"1.2.3"}}}})
	tests := []struct {
		name string
		typ  byte
		body []byte
	}{
		{"unknown type", 0x09, []byte{0, 0, 0, 0}},
		{"short associate header", pduAssociateRQ, rq[6:40]},
		{"item length past end", pduAssociateRQ, append(append([]byte{}, rq[6:74]...), 0x20, 0, 0xFF, 0xFF, 1)},
		{"presentation item truncated", pduAssociateRQ, append(append([]byte{}, rq[6:74]...), 0x20, 0, 0, 2, 1, 0)},
		{"user info max length short", pduAssociateRQ, append(append([]byte{}, rq[6:74]...), 0x50, 0, 0, 6, 0x51, 0, 0, 2, 0, 1)},
		{"role selection uid past end", pduAssociateRQ, append(append([]byte{}, rq[6:74]...), 0x50, 0, 0, 8, 0x54, 0, 0, 4, 0, 9, 1, 1)},
		{"rj short", pduAssociateRJ, []byte{0, 1}},
		{"pdv length 0", pduPDataTF, []byte{0, 0, 0, 0}},
		{"pdv length 1", pduPDataTF, []byte{0, 0, 0, 1, 1}},
		{"pdv length past end", pduPDataTF, []byte{0, 0, 0, 9, 1, 3, 0}},
		{"pdv bad control header", pduPDataTF, []byte{0, 0, 0, 2, 1, 0x10}},
		{"p-data empty", pduPDataTF, nil},
		{"abort short", pduAbort, []byte{0, 0, 2}},
		{"release long", pduReleaseRQ, []byte{0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodePDU(tt.typ, tt.body)
			if !errors.Is(err, errMalformed) {
				t.Errorf("err = %v, want errMalformed", err)
			}
		})
	}
	// A PDU longer than the limit is refused before its body is read.
	_, _, err := readPDU(bytes.NewReader([]byte{4, 0, 0x7F, 0xFF, 0xFF, 0xFF}), nil, 1<<16)
	if !errors.Is(err, errMalformed) {
		t.Errorf("oversized P-DATA-TF: err = %v, want errMalformed", err)
	}
}
