package dimse_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/dimse/dimsetest"
)

// testServer runs an SCP on a loopback port until the test ends.
type testServer struct {
	addr string
	dir  string // where DirHandler keeps instances
	tmp  string
}

func startServer(t testing.TB, mod func(*dimse.ServerConfig)) *testServer {
	t.Helper()
	base := t.TempDir()
	ts := &testServer{dir: filepath.Join(base, "instances"), tmp: filepath.Join(base, "incoming")}
	os.MkdirAll(ts.dir, 0o755)
	cfg := dimse.ServerConfig{
		AETitle: "SACRUM", TempDir: ts.tmp, Handler: dimse.DirHandler{Dir: ts.dir},
		Allow:        []dimse.AllowEntry{{AETitle: "TESTSCU"}},
		ARTIMTimeout: 2 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	// Registered first, so it runs after StartSCP's cleanup has stopped the server.
	t.Cleanup(func() {
		// The pool of receive files goes with the server.
		if left, _ := os.ReadDir(ts.tmp); len(left) != 0 {
			t.Errorf("%d files left in the temp dir after Serve returned", len(left))
		}
	})
	ts.addr, _ = dimsetest.StartSCP(t, cfg)
	return ts
}

// partialFiles counts the files with content in the temp dir (the empty ones are the pool's).
func partialFiles(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Size() > 0 {
			n++
		}
	}
	return n
}

func client() dimse.ClientConfig {
	return dimse.ClientConfig{CallingAE: "TESTSCU", CalledAE: "SACRUM", Timeout: 5 * time.Second}
}

// datasetOf returns the dataset bytes of a Part 10 file and its meta.
func datasetOf(t *testing.T, path string) (dimse.FileMeta, []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	m, _, err := dimse.ReadFileMeta(r)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return m, b
}

func TestEcho(t *testing.T) {
	ts := startServer(t, nil)
	if err := dimse.Echo(context.Background(), ts.addr, client()); err != nil {
		t.Fatalf("Echo: %v", err)
	}
}

// TestStoreRoundTrip sends MR files in small fragments and checks that each stored file has the
// same dataset bytes and a correct File Meta Information.
func TestStoreRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		serverMax uint32
		clientMax uint32
		ts        string
	}{
		{"explicit, server max 4096", 4096, 0, dimse.ExplicitVRLittleEndian},
		{"implicit, default max", 0, 4096, dimse.ImplicitVRLittleEndian},
		{"deflated, stored as received", 8192, 0, dimse.DeflatedExplicitVRLittleEndian},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, func(c *dimse.ServerConfig) { c.MaxPDULength = tt.serverMax })
			images := dimsetest.Series(7, 5, 64, 48)
			for i := range images {
				images[i].TransferSyntax = tt.ts
			}
			paths, err := dimsetest.WriteSeries(t.TempDir(), images)
			if err != nil {
				t.Fatal(err)
			}
			cfg := client()
			cfg.MaxPDULength = tt.clientMax
			res, err := dimse.SendFiles(context.Background(), srv.addr, cfg, paths)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if !r.OK() || r.Status != dimse.StatusSuccess {
					t.Fatalf("%s: status %04X err %v", r.Path, r.Status, r.Err)
				}
				_, sent := datasetOf(t, paths[i])
				m, got := datasetOf(t, filepath.Join(srv.dir, images[i].SOPInstanceUID+".dcm"))
				if !bytes.Equal(sent, got) {
					t.Errorf("%s: stored dataset differs (%d vs %d bytes)", r.Path, len(got), len(sent))
				}
				want := dimse.FileMeta{MediaStorageSOPClassUID: dimse.MRImageStorage, MediaStorageSOPInstanceUID: images[i].SOPInstanceUID,
					TransferSyntaxUID: tt.ts, ImplementationClassUID: m.ImplementationClassUID, ImplementationVersionName: "SACRUM_1", SourceAETitle: "TESTSCU"}
				if m != want || m.ImplementationClassUID == "" {
					t.Errorf("meta = %+v, want %+v", m, want)
				}
			}
			if left := partialFiles(t, srv.tmp); left != 0 {
				t.Errorf("%d files left in the temp dir", left)
			}
		})
	}
}

// recordingObserver is a dimse.Observer that writes down what it is told.
type recordingObserver struct {
	mu     sync.Mutex
	events []string
	open   int
}

func (o *recordingObserver) record(e string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, e)
}

func (o *recordingObserver) ConnectionOpened() {
	o.mu.Lock()
	o.open++
	o.mu.Unlock()
	o.record("opened")
}

func (o *recordingObserver) ConnectionClosed() {
	o.mu.Lock()
	o.open--
	o.mu.Unlock()
	o.record("closed")
}

func (o *recordingObserver) AssociationAccepted(info dimse.AssociationInfo) {
	o.record(fmt.Sprintf("accepted %s->%s", info.CallingAE, info.CalledAE))
}

func (o *recordingObserver) AssociationRejected(info dimse.AssociationInfo, result, source, reason byte) {
	o.record(fmt.Sprintf("rejected %s->%s %d/%d/%d", info.CallingAE, info.CalledAE, result, source, reason))
}

// TestObserver: the server's observer sees each connection open and close, and the association's outcome
// with the reject result, source and reason it sent.
func TestObserver(t *testing.T) {
	tests := []struct {
		name    string
		calling string
		called  string
		want    []string
	}{
		{"accepted", "TESTSCU", "SACRUM", []string{"opened", "accepted TESTSCU->SACRUM", "closed"}},
		{"unknown calling AE", "INTRUDER", "SACRUM", []string{"opened", "rejected INTRUDER->SACRUM 1/1/3", "closed"}},
		{"wrong called AE", "TESTSCU", "NOTUS", []string{"opened", "rejected TESTSCU->NOTUS 1/1/7", "closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := &recordingObserver{}
			srv := startServer(t, func(c *dimse.ServerConfig) { c.Observer = obs })
			cfg := client()
			cfg.CallingAE, cfg.CalledAE = tt.calling, tt.called
			err := dimse.Echo(context.Background(), srv.addr, cfg)
			if accepted := tt.name == "accepted"; accepted != (err == nil) {
				t.Fatalf("echo: %v", err)
			}
			// The server closes its side after the client has gone: wait for it.
			deadline := time.Now().Add(5 * time.Second)
			for {
				obs.mu.Lock()
				got := slices.Clone(obs.events)
				obs.mu.Unlock()
				if slices.Equal(got, tt.want) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("observer saw %q, want %q", got, tt.want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestAssociationRejected(t *testing.T) {
	tests := []struct {
		name   string
		allow  []dimse.AllowEntry
		called string
		want   dimse.RejectError
	}{
		{"calling AE not allowed", []dimse.AllowEntry{{AETitle: "OTHER"}}, "SACRUM", dimse.RejectError{Result: 1, Source: 1, Reason: 3}},
		{"calling AE from another IP", []dimse.AllowEntry{{AETitle: "TESTSCU", IP: net.ParseIP("10.1.2.3")}}, "SACRUM", dimse.RejectError{Result: 1, Source: 1, Reason: 3}},
		{"called AE wrong", []dimse.AllowEntry{{AETitle: "TESTSCU"}}, "NOTUS", dimse.RejectError{Result: 1, Source: 1, Reason: 7}},
		{"empty allow-list", nil, "SACRUM", dimse.RejectError{Result: 1, Source: 1, Reason: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, func(c *dimse.ServerConfig) { c.Allow = tt.allow })
			cfg := client()
			cfg.CalledAE = tt.called
			err := dimse.Echo(context.Background(), srv.addr, cfg)
			var rj *dimse.RejectError
			if !errors.As(err, &rj) || *rj != tt.want {
				t.Fatalf("err = %v, want %+v", err, tt.want)
			}
		})
	}
	t.Run("allowed with IP and wildcard", func(t *testing.T) {
		for _, allow := range [][]dimse.AllowEntry{{{AETitle: "TESTSCU", IP: net.ParseIP("127.0.0.1")}}, {{AETitle: "*"}}} {
			srv := startServer(t, func(c *dimse.ServerConfig) { c.Allow = allow })
			if err := dimse.Echo(context.Background(), srv.addr, client()); err != nil {
				t.Errorf("allow %v: %v", allow, err)
			}
		}
	})
}

// TestMaxAssociations: beyond the limit, associations are rejected transiently (local limit exceeded).
func TestMaxAssociations(t *testing.T) {
	srv := startServer(t, func(c *dimse.ServerConfig) { c.MaxAssociations = 1 })
	ctx := context.Background()
	held, err := dimse.Dial(ctx, srv.addr, client(), []dimse.Proposal{{AbstractSyntax: dimse.VerificationSOPClass, TransferSyntaxes: []string{dimse.ImplicitVRLittleEndian}}})
	if err != nil {
		t.Fatal(err)
	}
	err = dimse.Echo(ctx, srv.addr, client())
	var rj *dimse.RejectError
	if !errors.As(err, &rj) || *rj != (dimse.RejectError{Result: 2, Source: 3, Reason: 2}) {
		t.Fatalf("second association: %v, want transient reject, local limit exceeded", err)
	}
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	// The slot is free again once the first association has ended.
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := dimse.Echo(ctx, srv.addr, client())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after release: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestContextNegotiation: an unsupported transfer syntax refuses only its context (result 4),
// an unknown abstract syntax gets result 3, and the association goes on for the others.
func TestContextNegotiation(t *testing.T) {
	srv := startServer(t, nil)
	cl, err := dimse.Dial(context.Background(), srv.addr, client(), []dimse.Proposal{
		{AbstractSyntax: dimse.MRImageStorage, TransferSyntaxes: []string{"1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.90"}},
		{AbstractSyntax: "1.2.840.10008.5.1.4.1.1.2", TransferSyntaxes: []string{dimse.ExplicitVRLittleEndian}},
		{AbstractSyntax: dimse.MRImageStorage, TransferSyntaxes: []string{dimse.ImplicitVRLittleEndian, dimse.ExplicitVRLittleEndian}},
		{AbstractSyntax: dimse.VerificationSOPClass, TransferSyntaxes: []string{dimse.ImplicitVRLittleEndian}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Release()
	want := map[byte]string{1: "transfer syntaxes not supported", 3: "abstract syntax not supported", 5: "accepted", 7: "accepted"}
	for id, w := range want {
		if got := cl.ContextResult(id); got != w {
			t.Errorf("context %d: %q, want %q", id, got, w)
		}
	}
	// Our preference order: explicit VR first when both are proposed.
	if _, ts, ok := cl.ContextFor(dimse.MRImageStorage, dimse.ExplicitVRLittleEndian, dimse.ImplicitVRLittleEndian); !ok || ts != dimse.ExplicitVRLittleEndian {
		t.Errorf("MR context accepted with %q", ts)
	}
	if st, err := cl.Echo(); err != nil || st != dimse.StatusSuccess {
		t.Errorf("echo on the same association: %04X %v", st, err)
	}
}

// refusingHandler refuses every instance at Admit.
type refusingHandler struct{ status uint16 }

func (h refusingHandler) Admit(ctx context.Context, req *dimse.StoreRequest) uint16 { return h.status }
func (h refusingHandler) Store(ctx context.Context, inst *dimse.StoredInstance) (uint16, error) {
	return dimse.StatusSuccess, errors.New("Store called after a refused Admit")
}

// recordingHandler records what the SCP hands over.
type recordingHandler struct {
	mu   sync.Mutex
	dir  string
	got  []dimse.StoredInstance
	fail bool
}

func (h *recordingHandler) Admit(ctx context.Context, req *dimse.StoreRequest) uint16 {
	return dimse.StatusSuccess
}
func (h *recordingHandler) Store(ctx context.Context, inst *dimse.StoredInstance) (uint16, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, *inst)
	if h.fail {
		os.Remove(inst.Path)
		return dimse.StatusOutOfResources, errors.New("disk full")
	}
	return dimse.StatusSuccess, os.Rename(inst.Path, filepath.Join(h.dir, filepath.Base(inst.Path)))
}

func TestStoreStatuses(t *testing.T) {
	dir := t.TempDir()
	images := dimsetest.Series(3, 1, 16, 16)
	paths, err := dimsetest.WriteSeries(dir, images)
	if err != nil {
		t.Fatal(err)
	}
	// A file whose meta names another SOP instance than its dataset: A900.
	mismatch := filepath.Join(dir, "mismatch.dcm")
	meta, ds := datasetOf(t, paths[0])
	meta.MediaStorageSOPInstanceUID = "1.2.3.4"
	var buf bytes.Buffer
	dimse.WriteFileMeta(&buf, meta)
	buf.Write(ds)
	os.WriteFile(mismatch, buf.Bytes(), 0o644)

	t.Run("admit refused", func(t *testing.T) {
		srv := startServer(t, func(c *dimse.ServerConfig) { c.Handler = refusingHandler{dimse.StatusOutOfResources} })
		res, err := dimse.SendFiles(context.Background(), srv.addr, client(), paths)
		if err != nil || res[0].Err != nil || res[0].Status != dimse.StatusOutOfResources {
			t.Fatalf("%+v %v", res, err)
		}
		if left := partialFiles(t, srv.tmp); left != 0 {
			t.Errorf("%d files left in the temp dir", left)
		}
	})
	t.Run("dataset does not match", func(t *testing.T) {
		srv := startServer(t, nil)
		res, err := dimse.SendFiles(context.Background(), srv.addr, client(), []string{mismatch, paths[0]})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Status != dimse.StatusDataSetDoesNotMatch || res[1].Status != dimse.StatusSuccess {
			t.Fatalf("statuses %04X %04X, want A900 0000", res[0].Status, res[1].Status)
		}
	})
	t.Run("store fails", func(t *testing.T) {
		h := &recordingHandler{dir: t.TempDir(), fail: true}
		srv := startServer(t, func(c *dimse.ServerConfig) { c.Handler = h })
		// The handler removes each file and never calls Durable: the SCP must still close it (a
		// handle left open shows in /proc/self/fd as a link to a deleted file).
		res, _ := dimse.SendFiles(context.Background(), srv.addr, client(), slices.Repeat(paths, 20))
		for i, r := range res {
			if r.Status != dimse.StatusOutOfResources {
				t.Fatalf("file %d: status %04X, want A700", i, r.Status)
			}
		}
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); strings.HasPrefix(target, srv.tmp) && strings.HasSuffix(target, " (deleted)") {
				t.Errorf("refused receive file still open: %s", target)
			}
		}
	})
	t.Run("handler gets the request", func(t *testing.T) {
		h := &recordingHandler{dir: t.TempDir()}
		srv := startServer(t, func(c *dimse.ServerConfig) { c.Handler = h })
		res, _ := dimse.SendFiles(context.Background(), srv.addr, client(), paths)
		if !res[0].OK() || len(h.got) != 1 {
			t.Fatalf("%+v, %d stored", res, len(h.got))
		}
		g := h.got[0]
		if g.SOPInstanceUID != images[0].SOPInstanceUID || g.SOPClassUID != dimse.MRImageStorage || g.Assoc.CallingAE != "TESTSCU" ||
			g.Assoc.CalledAE != "SACRUM" || g.TransferSyntaxUID != dimse.ExplicitVRLittleEndian || g.Size <= int64(len(ds)) || g.Assoc.PeerAddr == nil {
			t.Errorf("handler got %+v", g)
		}
	})
}

// TestMalformedPDUKeepsServing sends broken PDUs; each connection gets an A-ABORT and the server
// still serves a normal association afterwards.
func TestMalformedPDUKeepsServing(t *testing.T) {
	srv := startServer(t, nil)
	bad := [][]byte{
		{0x01, 0, 0, 0, 0, 4, 0, 1, 0, 0},       // A-ASSOCIATE-RQ cut short
		{0x09, 0, 0, 0, 0, 2, 0, 0},             // unknown PDU type
		{0x04, 0, 0, 0, 0, 6, 0, 0, 0, 9, 1, 3}, // P-DATA-TF in Sta2 with a bad PDV
	}
	for _, b := range bad {
		nc, err := net.Dial("tcp", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.Write(b)
		nc.SetReadDeadline(time.Now().Add(3 * time.Second))
		hdr := make([]byte, 10)
		if _, err := io.ReadFull(nc, hdr); err != nil || hdr[0] != 0x07 {
			t.Errorf("after % x: got % x, %v; want A-ABORT", b, hdr, err)
		}
		nc.Close()
	}
	// A malformed PDU inside an established association.
	cl, err := dimse.Dial(context.Background(), srv.addr, client(), []dimse.Proposal{{AbstractSyntax: dimse.VerificationSOPClass, TransferSyntaxes: []string{dimse.ImplicitVRLittleEndian}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.SendRaw([]byte{0x04, 0, 0, 0, 0, 6, 0xFF, 0xFF, 0xFF, 0xFF, 1, 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Echo(); err == nil {
		t.Error("echo after a malformed PDU succeeded; want the association aborted")
	}
	if err := dimse.Echo(context.Background(), srv.addr, client()); err != nil {
		t.Fatalf("server stopped serving: %v", err)
	}
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	srv := startServer(t, func(c *dimse.ServerConfig) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	})
	cfg := client()
	cfg.TLS = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	if err := dimse.Echo(context.Background(), srv.addr, cfg); err != nil {
		t.Fatalf("echo over TLS: %v", err)
	}
	if err := dimse.Echo(context.Background(), srv.addr, client()); err == nil {
		t.Error("plain TCP echo to a TLS server succeeded")
	}
	cfg.TLS = &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "localhost"}
	if err := dimse.Echo(context.Background(), srv.addr, cfg); err == nil {
		t.Error("echo with an untrusted server certificate succeeded")
	}

	// Client certificates required: without one the handshake fails, with one it works.
	mtls := startServer(t, func(c *dimse.ServerConfig) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	})
	cfg.TLS = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	if err := dimse.Echo(context.Background(), mtls.addr, cfg); err == nil {
		t.Error("echo without a client certificate succeeded")
	}
	cfg.TLS = &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{cert}}
	if err := dimse.Echo(context.Background(), mtls.addr, cfg); err != nil {
		t.Errorf("echo with a client certificate: %v", err)
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestSendTranscodes: a peer that accepts only implicit VR little endian receives explicit VR
// files transcoded, with the same dataset content (checked with DCMTK's dcmdump).
func TestSendTranscodes(t *testing.T) {
	if _, err := exec.LookPath("dcmdump"); err != nil {
		t.Fatalf("dcmdump not found: `make setup` installs DCMTK")
	}
	srv := startServer(t, func(c *dimse.ServerConfig) { c.TransferSyntaxes = []string{dimse.ImplicitVRLittleEndian} })
	images := dimsetest.Series(8, 3, 32, 32)
	paths, err := dimsetest.WriteSeries(t.TempDir(), images)
	if err != nil {
		t.Fatal(err)
	}
	res, err := dimse.SendFiles(context.Background(), srv.addr, client(), paths)
	if err != nil {
		t.Fatal(err)
	}
	dump := func(p string) string {
		out, err := exec.Command("dcmdump", "-q", "+L", p).CombinedOutput()
		if err != nil {
			t.Fatalf("dcmdump %s: %v\n%s", p, err, out)
		}
		_, ds, _ := strings.Cut(string(out), "# Dicom-Data-Set\n")
		_, ds, _ = strings.Cut(ds, "\n") // the "# Used TransferSyntax" line
		return ds
	}
	for i, r := range res {
		if !r.OK() {
			t.Fatalf("%s: %04X %v", r.Path, r.Status, r.Err)
		}
		stored := filepath.Join(srv.dir, images[i].SOPInstanceUID+".dcm")
		if m, _ := datasetOf(t, stored); m.TransferSyntaxUID != dimse.ImplicitVRLittleEndian {
			t.Errorf("stored in %s, want implicit VR little endian", m.TransferSyntaxUID)
		}
		if a, b := dump(paths[i]), dump(stored); a != b {
			t.Errorf("%s: transcoded dataset differs:\n%s\n---\n%s", r.Path, a, b)
		}
	}
}

// TestLargeInstanceStreams: a 32 MiB instance goes through SCU and SCP (one process) allocating far
// less than its size: datasets are streamed, never held whole in memory.
func TestLargeInstanceStreams(t *testing.T) {
	srv := startServer(t, func(c *dimse.ServerConfig) { c.NoFsync = true })
	paths, err := dimsetest.WriteSeries(t.TempDir(), dimsetest.Series(6, 1, 4096, 4096))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := dimse.SendFiles(context.Background(), srv.addr, client(), paths)
	runtime.ReadMemStats(&after)
	if err != nil || !res[0].OK() {
		t.Fatalf("%v %+v", err, res)
	}
	if res[0].Size < 32<<20 {
		t.Fatalf("sent %d bytes, want a 32 MiB dataset", res[0].Size)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB for a %d MiB instance", alloc>>10, res[0].Size>>20)
	if alloc > 8<<20 {
		t.Errorf("allocated %d MiB to move a %d MiB instance", alloc>>20, res[0].Size>>20)
	}
}

// slowHandler takes its time storing, like a full disk or a stuck database.
type slowHandler struct{ d time.Duration }

func (h slowHandler) Admit(ctx context.Context, req *dimse.StoreRequest) uint16 {
	return dimse.StatusSuccess
}
func (h slowHandler) Store(ctx context.Context, inst *dimse.StoredInstance) (uint16, error) {
	time.Sleep(h.d)
	os.Remove(inst.Path)
	return dimse.StatusSuccess, nil
}

// TestSendCancelled: cancelling the context ends SendFiles promptly; unsent files are reported.
func TestSendCancelled(t *testing.T) {
	srv := startServer(t, func(c *dimse.ServerConfig) { c.Handler = slowHandler{time.Second} })
	paths, err := dimsetest.WriteSeries(t.TempDir(), dimsetest.Series(4, 3, 8, 8))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := dimse.SendFiles(ctx, srv.addr, client(), paths)
	if d := time.Since(start); d > 800*time.Millisecond {
		t.Errorf("SendFiles took %v after its context was cancelled", d)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.OK() || r.Err == nil {
			t.Errorf("%s: %04X %v, want an error", r.Path, r.Status, r.Err)
		}
	}
}
