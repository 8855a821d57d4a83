package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/dimse/dimsetest"
)

// These tests check the node against DCMTK (issue 2, acceptance 1 and 2). `make setup` installs
// DCMTK and dicom3tools; a missing tool fails the test.

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: `make setup` installs DCMTK (dcmtk) and dicom3tools", tool)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers (the server's log).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// inProcessServe runs `sacrum serve` in this process until the test ends and returns its DICOM
// host, port and data directory.
func inProcessServe(t *testing.T, args ...string) (host, port, dataDir string) {
	t.Helper()
	dataDir = t.TempDir()
	logs := &lockedBuffer{}
	ready := make(chan net.Addr, 1)
	cmd := &ServeCommand{Stdout: logs, Stderr: logs, Ready: func(a net.Addr) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	all := append([]string{"--listen", "127.0.0.1:0", "--data-dir", dataDir, "--admin", "127.0.0.1:0", "--log-level", "warn", "--pipeline", "inventory"}, args...)
	go func() { done <- cmd.Run(ctx, all) }()
	select {
	case a := <-ready:
		host, port, _ = net.SplitHostPort(a.String())
	case err := <-done:
		cancel()
		t.Fatalf("sacrum serve %v: %v\n%s", all, err, logs.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("sacrum serve did not start:\n%s", logs.String())
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sacrum serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("sacrum serve did not stop")
		}
		if t.Failed() {
			t.Logf("serve log:\n%s", logs.String())
		}
	})
	return host, port, dataDir
}

// runDCMTK runs a DCMTK tool with TCP_NODELAY=1 and returns its combined output.
func runDCMTK(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// storedInstances maps SOP Instance UID → path of every Part 10 file under dir.
func storedInstances(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		defer f.Close()
		if m, _, err := dimse.ReadFileMeta(bufio.NewReader(f)); err == nil {
			out[m.MediaStorageSOPInstanceUID] = path
		}
		return nil
	})
	return out
}

// placedInstances waits until n instances are in place under dataDir/studies (the store's writer moves
// acknowledged instances there in batches, shortly after the C-STORE responses) and returns them as
// storedInstances does.
func placedInstances(t *testing.T, dataDir string, n int) map[string]string {
	t.Helper()
	var out map[string]string
	waitFor(t, 20*time.Second, fmt.Sprintf("%d instances under %s/studies", n, dataDir), func() bool {
		out = storedInstances(t, filepath.Join(dataDir, "studies"))
		return len(out) >= n
	})
	return out
}

// datasetDump is dcmdump's listing of the dataset (without the meta header and the transfer
// syntax line, which legitimately differ between the sent and the stored file).
func datasetDump(t *testing.T, path string) string {
	t.Helper()
	out, err := runDCMTK("dcmdump", "-q", "+L", path)
	if err != nil {
		t.Fatalf("dcmdump %s: %v\n%s", path, err, out)
	}
	_, ds, ok := strings.Cut(out, "# Dicom-Data-Set\n")
	if !ok {
		t.Fatalf("dcmdump %s: no dataset section", path)
	}
	var keep []string
	for _, l := range strings.Split(ds, "\n") {
		if !strings.HasPrefix(l, "# Used TransferSyntax") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// dciodvfyFindings is dciodvfy's list of errors and warnings for a file.
func dciodvfyFindings(t *testing.T, path string) string {
	t.Helper()
	out, _ := exec.Command("dciodvfy", path).CombinedOutput()
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Error") || strings.HasPrefix(l, "Warning") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// compareStored checks that every sent file was stored with the same dataset (dcmdump) and the
// same dciodvfy findings (checked on every tenth file).
func compareStored(t *testing.T, sent []string, images []dimsetest.MR, stored map[string]string, sentDumps map[string]string) {
	t.Helper()
	for i, p := range sent {
		if _, ok := sentDumps[p]; !ok {
			sentDumps[p] = datasetDump(t, p)
		}
		got, ok := stored[images[i].SOPInstanceUID]
		if !ok {
			t.Errorf("%s (%s) was not stored", p, images[i].SOPInstanceUID)
			continue
		}
		if a, b := sentDumps[p], datasetDump(t, got); a != b {
			t.Errorf("%s: stored dataset differs from the sent one:\nsent:\n%s\nstored:\n%s", p, a, b)
		}
		if i%10 == 0 {
			if a, b := dciodvfyFindings(t, p), dciodvfyFindings(t, got); a != b {
				t.Errorf("%s: dciodvfy findings differ:\nsent:\n%s\nstored:\n%s", p, a, b)
			}
		}
	}
}

func TestIngestDCMTK(t *testing.T) {
	requireTools(t, "echoscu", "storescu", "dcmdump", "dciodvfy", "dcmcjpeg")
	host, port, dataDir := inProcessServe(t, "--allow-aet", "ECHOSCU", "--allow-aet", "STORESCU", "--fsync=true")

	images := dimsetest.Series(42, 100, 64, 64)
	src := filepath.Join(t.TempDir(), "mr")
	sent, err := dimsetest.WriteSeries(src, images)
	if err != nil {
		t.Fatal(err)
	}
	if f := dciodvfyFindings(t, sent[0]); strings.Contains(f, "Error") {
		t.Fatalf("generated MR file does not pass dciodvfy:\n%s", f)
	}

	sentDumps := map[string]string{}
	t.Run("echoscu", func(t *testing.T) {
		if out, err := runDCMTK("echoscu", "-aet", "ECHOSCU", "-aec", "SACRUM", host, port); err != nil {
			t.Fatalf("echoscu: %v\n%s", err, out)
		}
	})
	t.Run("echoscu unknown AE rejected", func(t *testing.T) {
		out, err := runDCMTK("echoscu", "-aet", "UNKNOWN", "-aec", "SACRUM", host, port)
		if err == nil || !strings.Contains(out, "Calling AE Title Not Recognized") || !strings.Contains(out, "Rejected Permanent") {
			t.Fatalf("echoscu -aet UNKNOWN: err %v\n%s", err, out)
		}
	})
	// Each storescu run sends the same 100 instances to a fresh node, so what is compared is what
	// that run stored.
	for _, tc := range []struct {
		name   string
		args   []string
		wantTS string
	}{
		// --max-pdu is storescu's receive limit; --max-send-pdu makes it send us 4 KiB PDUs too.
		{"storescu implicit max-pdu 4096", []string{"-xi", "--max-pdu", "4096", "--max-send-pdu", "4096"}, dimse.ImplicitVRLittleEndian},
		{"storescu explicit", []string{"-xe"}, dimse.ExplicitVRLittleEndian},
		{"storescu default", nil, dimse.ExplicitVRLittleEndian},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, port, dataDir := inProcessServe(t, "--allow-aet", "STORESCU", "--fsync=true")
			args := append(append([]string{"-aet", "STORESCU", "-aec", "SACRUM", "+sd"}, tc.args...), host, port, src)
			if out, err := runDCMTK("storescu", args...); err != nil {
				t.Fatalf("storescu %v: %v\n%s", tc.args, err, out)
			}
			stored := placedInstances(t, dataDir, len(images))
			compareStored(t, sent, images, stored, sentDumps)
			f, err := os.Open(stored[images[0].SOPInstanceUID])
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if m, _, err := dimse.ReadFileMeta(bufio.NewReader(f)); err != nil || m.TransferSyntaxUID != tc.wantTS || m.SourceAETitle != "STORESCU" {
				t.Errorf("stored meta %+v, %v; want transfer syntax %s from STORESCU", m, err, tc.wantTS)
			}
		})
	}
	t.Run("compressed file refused per context", func(t *testing.T) {
		mix := t.TempDir()
		other := dimsetest.Series(43, 4, 32, 32)
		paths, err := dimsetest.WriteSeries(mix, other)
		if err != nil {
			t.Fatal(err)
		}
		jpeg := filepath.Join(mix, "IMG0001.dcm")
		if out, err := runDCMTK("dcmcjpeg", paths[0], jpeg+".jpg"); err != nil {
			t.Fatalf("dcmcjpeg: %v\n%s", err, out)
		}
		os.Rename(jpeg+".jpg", jpeg)
		// -R: one context per SOP class and transfer syntax of the files; -xs: JPEG lossless in its
		// own context; -nh: go on after the failed file.
		out, err := runDCMTK("storescu", "-d", "-R", "-xs", "-nh", "-aet", "STORESCU", "-aec", "SACRUM", host, port, paths[0], paths[1], paths[2], paths[3])
		if err != nil {
			t.Fatalf("storescu: %v\n%s", err, out)
		}
		if !strings.Contains(out, "Store Failed, file: "+jpeg) || !strings.Contains(out, "(Transfer Syntaxes Not Supported)") || !strings.Contains(out, "(Accepted)") {
			t.Fatalf("want the JPEG context refused and the others accepted:\n%s", out)
		}
		stored := placedInstances(t, dataDir, len(other)-1)
		if _, ok := stored[other[0].SOPInstanceUID]; ok {
			t.Errorf("the JPEG instance was stored")
		}
		for _, m := range other[1:] {
			if _, ok := stored[m.SOPInstanceUID]; !ok {
				t.Errorf("uncompressed instance %s was not stored", m.SOPInstanceUID)
			}
		}
	})
}

// TestSendToStorescp: `sacrum send` delivers the same 100 files to DCMTK storescp, and `sacrum
// echo` verifies it (acceptance 2).
func TestSendToStorescp(t *testing.T) {
	requireTools(t, "storescp", "dcmdump", "dciodvfy")
	images := dimsetest.Series(44, 100, 64, 64)
	src := filepath.Join(t.TempDir(), "mr")
	sent, err := dimsetest.WriteSeries(src, images)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	out := t.TempDir()
	scp := exec.Command("storescp", "-aet", "STORESCP", "-od", out, port)
	scp.Env = append(os.Environ(), "TCP_NODELAY=1")
	var scpLog bytes.Buffer
	scp.Stdout, scp.Stderr = &scpLog, &scpLog
	if err := scp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { scp.Process.Kill(); scp.Wait() })
	addr := "127.0.0.1:" + port
	m := &Main{}
	var stdout bytes.Buffer
	deadline := time.Now().Add(10 * time.Second)
	for {
		stdout.Reset()
		m.Stdout, m.Stderr = &stdout, &stdout
		err := m.Run(context.Background(), []string{"echo", "--aec", "STORESCP", addr})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sacrum echo to storescp: %v\n%s", err, scpLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if want := "C-ECHO STORESCP at " + addr + ": success\n"; stdout.String() != want {
		t.Errorf("echo printed %q, want %q", stdout.String(), want)
	}
	stdout.Reset()
	if err := m.Run(context.Background(), []string{"send", "--aec", "STORESCP", "--max-pdu", "16384", addr, src}); err != nil {
		t.Fatalf("sacrum send: %v\n%s\n%s", err, stdout.String(), scpLog.String())
	}
	if !strings.Contains(stdout.String(), "100 files: 100 stored, 0 failed") {
		t.Errorf("send output:\n%s", stdout.String())
	}
	compareStored(t, sent, images, storedInstances(t, out), map[string]string{})
}

func TestGeneratedFilesPassDciodvfy(t *testing.T) {
	requireTools(t, "dciodvfy")
	p, err := dimsetest.WriteSeries(t.TempDir(), dimsetest.Series(1, 1, 256, 256))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("dciodvfy", p[0]).CombinedOutput()
	if strings.Contains(string(out), "Error") {
		t.Errorf("dciodvfy:\n%s", out)
	}
	if !strings.HasPrefix(string(out), "MRImage") {
		t.Errorf("dciodvfy did not recognise an MR image:\n%s", out)
	}
}
