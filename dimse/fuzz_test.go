package dimse

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// fuzzSeeds are well-formed inputs from which the committed corpora under testdata/fuzz/ are made
// (go test -run TestWriteFuzzCorpus -update).
func pduSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, name := range []string{"echoscu-associate-rq.bin", "storescu-associate-rq.bin"} {
		b, err := os.ReadFile(filepath.Join("testdata", "pdu", name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for _, p := range []any{
		&associateAC{ProtocolVersion: 1, CalledAE: "SACRUM", CallingAE: "PACS", Results: []presentationContextAC{{ID: 1, Result: 0, TransferSyntax: ImplicitVRLittleEndian}, {ID: 3, Result: 4, TransferSyntax: ImplicitVRLittleEndian}},
			UserInfo: userInfo{MaxLength: 16384, ImplementationClassUID: "1.2.3", UserIdentityResponse: []byte("ok"),
				AsyncOps: &asyncOpsWindow{1, 1}, Roles: []roleSelection{{SOPClassUID: MRImageStorage, SCU: true}}}},
		&associateRJ{Result: 1, Source: 1, Reason: 3},
		&pDataTF{Items: []pdv{{ContextID: 1, Command: true, Last: true, Data: encodeCommand(&command{CommandField: cEchoRQ, MessageID: 1, AffectedSOPClassUID: VerificationSOPClass, DataSetType: dataSetAbsent})}}},
		&pDataTF{Items: []pdv{{ContextID: 3, Data: []byte{8, 0, 0x16, 0}}, {ContextID: 3, Last: true, Data: []byte{1, 2}}}},
		&releaseRQ{}, &releaseRP{}, &abortPDU{Source: 2, Reason: 1},
	} {
		b, err := encodePDU(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func pdataSeeds() [][]byte {
	store := encodeCommand(&command{CommandField: cStoreRQ, MessageID: 7, AffectedSOPClassUID: MRImageStorage, AffectedSOPInstanceUID: "1.2.3.4", DataSetType: 0,
		HasMoveOriginator: true, MoveOriginatorAE: "MOVER", MoveOriginatorMessageID: 3})
	echo := encodeCommand(&command{CommandField: cEchoRQ, MessageID: 1, AffectedSOPClassUID: VerificationSOPClass, DataSetType: dataSetAbsent})
	body := func(items ...pdv) []byte {
		b, _ := encodePDU(&pDataTF{Items: items})
		return b[6:]
	}
	return [][]byte{
		body(pdv{ContextID: 1, Command: true, Last: true, Data: echo}),
		body(pdv{ContextID: 1, Command: true, Data: store[:10]}, pdv{ContextID: 1, Command: true, Last: true, Data: store[10:]},
			pdv{ContextID: 1, Data: []byte{8, 0, 0x16, 0, 2, 0, 0, 0}}, pdv{ContextID: 1, Last: true, Data: []byte("1.")}),
		body(pdv{ContextID: 3, Data: []byte{1}}),
	}
}

func commandSeeds() [][]byte {
	return [][]byte{
		encodeCommand(&command{CommandField: cEchoRQ, MessageID: 1, AffectedSOPClassUID: VerificationSOPClass, DataSetType: dataSetAbsent}),
		encodeCommand(&command{CommandField: cEchoRSP, MessageIDRespondedTo: 1, AffectedSOPClassUID: VerificationSOPClass, DataSetType: dataSetAbsent}),
		encodeCommand(&command{CommandField: cStoreRQ, MessageID: 7, Priority: 2, AffectedSOPClassUID: MRImageStorage, AffectedSOPInstanceUID: "1.2.3.4", DataSetType: 0,
			HasMoveOriginator: true, MoveOriginatorAE: "MOVER", MoveOriginatorMessageID: 3}),
		encodeCommand(&command{CommandField: cStoreRSP, MessageIDRespondedTo: 7, AffectedSOPClassUID: MRImageStorage, AffectedSOPInstanceUID: "1.2.3.4",
			DataSetType: dataSetAbsent, Status: 0xA900, ErrorComment: "does not match"}),
	}
}

// FuzzPDUDecode: any byte string either fails to decode or decodes to a PDU that re-encodes and
// decodes to the same value; it never panics.
func FuzzPDUDecode(f *testing.F) {
	for _, s := range pduSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := readPDU(bytes.NewReader(data), nil, 1<<20)
		if err != nil {
			return
		}
		enc, err := encodePDU(p)
		if err != nil {
			t.Fatalf("encode %T: %v", p, err)
		}
		q, _, err := readPDU(bytes.NewReader(enc), nil, 1<<20)
		if err != nil {
			t.Fatalf("re-decode of %x: %v", enc, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip:\n%+v\n%+v", p, q)
		}
	})
}

// countingSink checks the reassembler's output: dataset fragments only follow a command that
// announced a dataset, on the same context.
type countingSink struct {
	t        *testing.T
	commands int
	data     int
	want     bool
	ctx      byte
}

func (s *countingSink) onCommand(ctxID byte, c *command) error {
	if s.want {
		s.t.Fatalf("command while a dataset was pending")
	}
	s.commands++
	s.want, s.ctx = c.hasDataSet(), ctxID
	return nil
}

func (s *countingSink) onData(ctxID byte, b []byte, last bool) error {
	if !s.want || ctxID != s.ctx {
		s.t.Fatalf("dataset fragment on context %d without its command", ctxID)
	}
	s.data += len(b)
	if last {
		s.want = false
	}
	return nil
}

// FuzzPDataReassembly decodes a P-DATA-TF body and feeds its PDVs to the reassembler.
func FuzzPDataReassembly(f *testing.F) {
	for _, s := range pdataSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodePDU(pduPDataTF, body)
		if err != nil {
			return
		}
		var r reassembler
		sink := &countingSink{t: t}
		total := 0
		for _, item := range p.(*pDataTF).Items {
			if err := r.feed(item, sink); err != nil {
				return
			}
			if !item.Command {
				total += len(item.Data)
			}
			if len(r.cmd) > maxCommandSet {
				t.Fatalf("command buffer grew to %d bytes", len(r.cmd))
			}
		}
		if sink.data != total {
			t.Fatalf("sink got %d dataset bytes, PDVs carried %d", sink.data, total)
		}
	})
}

// FuzzCommandSet: the command-set decoder never panics, and what it accepts re-encodes to a
// command that decodes to the same fields.
func FuzzCommandSet(f *testing.F) {
	for _, s := range commandSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCommand(data)
		if err != nil {
			return
		}
		if c.CommandField != cStoreRQ && c.CommandField != cStoreRSP && c.CommandField != cEchoRQ && c.CommandField != cEchoRSP {
			return
		}
		d, err := decodeCommand(encodeCommand(c))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !sameCommand(c, d) {
			t.Fatalf("round trip:\n%+v\n%+v", c, d)
		}
	})
}

// sameCommand compares the fields encodeCommand writes for the command's kind.
func sameCommand(a, b *command) bool {
	if a.CommandField != b.CommandField || a.DataSetType != b.DataSetType || a.AffectedSOPClassUID != b.AffectedSOPClassUID ||
		a.AffectedSOPInstanceUID != b.AffectedSOPInstanceUID {
		return false
	}
	if a.CommandField&0x8000 == 0 {
		return a.MessageID == b.MessageID && (a.CommandField != cStoreRQ || a.Priority == b.Priority)
	}
	return a.MessageIDRespondedTo == b.MessageIDRespondedTo && a.Status == b.Status
}

// TestWriteFuzzCorpus writes the seed corpora to testdata/fuzz/ with -update, and otherwise checks
// that they are committed.
func TestWriteFuzzCorpus(t *testing.T) {
	sets := map[string][][]byte{"FuzzPDUDecode": pduSeeds(t), "FuzzPDataReassembly": pdataSeeds(), "FuzzCommandSet": commandSeeds(),
		"FuzzAssociation": associationSeeds(t)}
	if *update {
		// FuzzTranscode takes (bool, []byte); its seeds are written here.
		dir := filepath.Join("testdata", "fuzz", "FuzzTranscode")
		os.MkdirAll(dir, 0o755)
		var implicit bytes.Buffer
		transcodeLE(&implicit, bytes.NewReader(sampleExplicitDataset()), true)
		os.WriteFile(filepath.Join(dir, "seed-00"), []byte(fmt.Sprintf("go test fuzz v1\nbool(true)\n[]byte(%q)\n", sampleExplicitDataset())), 0o644)
		os.WriteFile(filepath.Join(dir, "seed-01"), []byte(fmt.Sprintf("go test fuzz v1\nbool(false)\n[]byte(%q)\n", implicit.Bytes())), 0o644)
	}
	for name, seeds := range sets {
		dir := filepath.Join("testdata", "fuzz", name)
		if *update {
			os.MkdirAll(dir, 0o755)
			for i, s := range seeds {
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)), 0o644)
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) < len(seeds) {
			t.Errorf("%s: %d corpus files, want at least %d (%v)", dir, len(entries), len(seeds), err)
		}
	}
}

// FuzzTranscode: the explicit ↔ implicit VR transcoder never panics on any input.
func FuzzTranscode(f *testing.F) {
	f.Add(true, sampleExplicitDataset())
	var implicit bytes.Buffer
	transcodeLE(&implicit, bytes.NewReader(sampleExplicitDataset()), true)
	f.Add(false, implicit.Bytes())
	f.Fuzz(func(t *testing.T, fromExplicit bool, data []byte) {
		var out bytes.Buffer
		transcodeLE(&out, bytes.NewReader(data), fromExplicit)
	})
}

// associationSeeds are whole client byte streams: an echo, a store, a store cut short.
func associationSeeds(t testing.TB) [][]byte {
	rq, err := os.ReadFile(filepath.Join("testdata", "pdu", "storescu-associate-rq.bin"))
	if err != nil {
		t.Fatal(err)
	}
	echoRQ, err := os.ReadFile(filepath.Join("testdata", "pdu", "echoscu-associate-rq.bin"))
	if err != nil {
		t.Fatal(err)
	}
	store := encodeCommand(&command{CommandField: cStoreRQ, MessageID: 1, AffectedSOPClassUID: MRImageStorage, AffectedSOPInstanceUID: "1.2.3.4", DataSetType: 0})
	echo := encodeCommand(&command{CommandField: cEchoRQ, MessageID: 1, AffectedSOPClassUID: VerificationSOPClass, DataSetType: dataSetAbsent})
	pdata := func(items ...pdv) []byte { b, _ := encodePDU(&pDataTF{Items: items}); return b }
	rel, _ := encodePDU(&releaseRQ{})
	return [][]byte{
		concat(echoRQ, pdata(pdv{ContextID: 1, Command: true, Last: true, Data: echo}), rel),
		concat(rq, pdata(pdv{ContextID: 3, Command: true, Last: true, Data: store}, pdv{ContextID: 3, Data: []byte{8, 0, 0x18, 0}}),
			pdata(pdv{ContextID: 3, Last: true, Data: []byte("UI\x06\x001.2.3\x00")}), rel),
		concat(rq, pdata(pdv{ContextID: 3, Command: true, Last: true, Data: store}, pdv{ContextID: 3, Data: []byte{1, 2}})),
	}
}

// FuzzAssociation feeds a byte stream to the SCP as one connection: whatever arrives, serving it
// ends (when the stream ends) without a panic, and no temporary file is left behind.
func FuzzAssociation(f *testing.F) {
	for _, s := range associationSeeds(f) {
		f.Add(s)
	}
	dir := f.TempDir()
	srv, err := NewServer(ServerConfig{AETitle: "SACRUM", TempDir: filepath.Join(dir, "tmp"), Handler: DirHandler{Dir: dir, NoSync: true}, NoFsync: true,
		Allow: []AllowEntry{{AETitle: "*"}}, ARTIMTimeout: 50 * time.Millisecond, IdleTimeout: time.Second,
		Logger: slog.New(slog.NewTextHandler(&panicDetector{}, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		a, b := net.Pipe()
		go io.Copy(io.Discard, a) // the SCP's answers
		done := make(chan struct{})
		go func() { srv.serveConn(context.Background(), b, false); close(done) }()
		a.Write(stream)
		a.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("serving did not end after the stream closed")
		}
		if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
			t.Fatalf("%d temporary files left", len(left))
		}
	})
}

// panicDetector fails loudly when serveConn recovers from a panic (the recovery would otherwise
// hide it from the fuzzer).
type panicDetector struct{}

func (panicDetector) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("panic serving association")) {
		panic(string(p))
	}
	return len(p), nil
}
