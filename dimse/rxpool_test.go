package dimse

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// writeReceived writes data through a receive writer, completing it when asked.
func writeReceived(t *testing.T, path string, data []byte, complete bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := rxWriter{f: f}
	// In two writes, the first ending inside the preamble, as a buffered writer may split it.
	if _, err := w.Write(data[:100]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[100:]); err != nil {
		t.Fatal(err)
	}
	if complete {
		if err := w.complete(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReceivedComplete(t *testing.T) {
	var meta bytes.Buffer
	WriteFileMeta(&meta, FileMeta{MediaStorageSOPClassUID: MRImageStorage, MediaStorageSOPInstanceUID: "1.2.3",
		TransferSyntaxUID: ExplicitVRLittleEndian, ImplementationClassUID: "1.2", SourceAETitle: "A"})
	data := append(meta.Bytes(), bytes.Repeat([]byte{1, 2, 3, 4, 5}, 2000)...)
	tests := []struct {
		name   string
		damage func(path string)
		want   bool
	}{
		{"complete", func(string) {}, true},
		{"truncated", func(p string) { os.Truncate(p, int64(len(data)-1)) }, false},
		{"appended", func(p string) {
			f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte{0})
			f.Close()
		}, false},
		{"byte changed", func(p string) {
			f, _ := os.OpenFile(p, os.O_WRONLY, 0)
			f.WriteAt([]byte{9}, int64(len(data)/2))
			f.Close()
		}, false},
		{"marker cleared", func(p string) {
			f, _ := os.OpenFile(p, os.O_WRONLY, 0)
			f.WriteAt(make([]byte, preambleLen), 0)
			f.Close()
		}, false},
		{"empty", func(p string) { os.Truncate(p, 0) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "rx-1.part")
			writeReceived(t, p, data, true)
			tt.damage(p)
			got, err := ReceivedComplete(p)
			if err != nil || got != tt.want {
				t.Errorf("ReceivedComplete = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	t.Run("never completed", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "rx-2.part")
		writeReceived(t, p, data, false)
		if got, err := ReceivedComplete(p); got || err != nil {
			t.Errorf("ReceivedComplete = %v, %v; want false", got, err)
		}
	})
	t.Run("preamble holds the marker, the rest is the file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "rx-3.part")
		writeReceived(t, p, data, true)
		b, _ := os.ReadFile(p)
		if !bytes.HasPrefix(b, []byte(rxMagic)) || !bytes.Equal(b[preambleLen:], data[preambleLen:]) {
			t.Errorf("file %q... differs from the data after the preamble", b[:20])
		}
	})
}

func TestRxPool(t *testing.T) {
	dir := t.TempDir()
	p := newRxPool(dir, false, slog.New(slog.DiscardHandler))
	p.fill()
	if n := len(p.files); n != rxPoolSize {
		t.Fatalf("pool has %d files, want %d", n, rxPoolSize)
	}
	f, err := p.take()
	if err != nil {
		t.Fatal(err)
	}
	if !IsReceiveFile(filepath.Base(f.Name())) {
		t.Errorf("receive file name %s", f.Name())
	}
	f.Close()
	os.Remove(f.Name())
	p.fill()
	if n := len(p.files); n != rxPoolSize {
		t.Errorf("refilled pool has %d files, want %d", n, rxPoolSize)
	}
	p.drain()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d files left after drain", len(left))
	}
	// An empty pool still yields a file (created on demand).
	f, err = p.take()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("%d files after an on-demand take, want 1", len(left))
	}
}
