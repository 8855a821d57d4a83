package dimse

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/dimse/internal/loopback"
)

// TestAbortMidDataset: a peer that aborts while sending a dataset leaves no partial file and no
// stored instance behind, and the pool's empty files are removed when the server stops.
func TestAbortMidDataset(t *testing.T) {
	base := t.TempDir()
	tmp, dir := filepath.Join(base, "incoming"), filepath.Join(base, "instances")
	os.MkdirAll(dir, 0o755)
	addr, stop := startTestSCP(t, ServerConfig{AETitle: "SACRUM", TempDir: tmp, Handler: DirHandler{Dir: dir},
		Allow: []AllowEntry{{AETitle: "*"}}, Logger: slog.New(slog.DiscardHandler)})

	cl, err := Dial(context.Background(), addr, ClientConfig{CallingAE: "A", CalledAE: "SACRUM", Timeout: 5 * time.Second},
		[]Proposal{{AbstractSyntax: MRImageStorage, TransferSyntaxes: []string{ExplicitVRLittleEndian}}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := encodeCommand(&command{CommandField: cStoreRQ, MessageID: 1, AffectedSOPClassUID: MRImageStorage, AffectedSOPInstanceUID: "1.2.3.4", DataSetType: 0})
	if _, err := cl.c.fire(Evt9, &pDataTF{Items: []pdv{{ContextID: 1, Command: true, Last: true, Data: cmd}}}); err != nil {
		t.Fatal(err)
	}
	// More than the SCP's write buffer, so the receive file gets content.
	for range 2 {
		if _, err := cl.c.fire(Evt9, &pDataTF{Items: []pdv{{ContextID: 1, Data: make([]byte, 200000)}}}); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the SCP has written into its receive file, then abort.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if partial(tmp) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no temporary file appeared")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cl.Abort()
	for {
		if partial(tmp) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("partial receive file left after the abort")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if e, _ := os.ReadDir(dir); len(e) != 0 {
		t.Errorf("%d instances stored from an aborted C-STORE", len(e))
	}
	stop()
	if e, _ := os.ReadDir(tmp); len(e) != 0 {
		t.Errorf("%d files left in %s after the server stopped", len(e), tmp)
	}
}

// partial counts the files with content in dir (the pool's files are empty).
func partial(dir string) int {
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Size() > 0 {
			n++
		}
	}
	return n
}

// startTestSCP runs a server with cfg on a free loopback port and returns its address and a stop
// function (which waits for Serve to return; it runs when the test ends if not called before).
func startTestSCP(t *testing.T, cfg ServerConfig) (addr string, stop func()) {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return loopback.Serve(t, srv.Serve)
}
