package dimse

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAbortMidDataset: a peer that aborts while sending a dataset leaves no temporary file and no
// stored instance behind.
func TestAbortMidDataset(t *testing.T) {
	base := t.TempDir()
	tmp, dir := filepath.Join(base, "incoming"), filepath.Join(base, "instances")
	os.MkdirAll(dir, 0o755)
	srv, err := NewServer(ServerConfig{AETitle: "SACRUM", TempDir: tmp, Handler: DirHandler{Dir: dir},
		Allow: []AllowEntry{{AETitle: "*"}}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	defer func() { cancel(); <-done }()

	cl, err := Dial(context.Background(), ln.Addr().String(), ClientConfig{CallingAE: "A", CalledAE: "SACRUM", Timeout: 5 * time.Second},
		[]Proposal{{AbstractSyntax: MRImageStorage, TransferSyntaxes: []string{ExplicitVRLittleEndian}}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := encodeCommand(&command{CommandField: cStoreRQ, MessageID: 1, AffectedSOPClassUID: MRImageStorage, AffectedSOPInstanceUID: "1.2.3.4", DataSetType: 0})
	if _, err := cl.c.fire(Evt9, &pDataTF{Items: []pdv{{ContextID: 1, Command: true, Last: true, Data: cmd}, {ContextID: 1, Data: make([]byte, 1000)}}}); err != nil {
		t.Fatal(err)
	}
	// Wait until the SCP has created its temporary file, then abort.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if e, _ := os.ReadDir(tmp); len(e) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no temporary file appeared")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cl.Abort()
	for {
		e, _ := os.ReadDir(tmp)
		if len(e) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("temporary file %s left after the abort", e[0].Name())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if e, _ := os.ReadDir(dir); len(e) != 0 {
		t.Errorf("%d instances stored from an aborted C-STORE", len(e))
	}
}
