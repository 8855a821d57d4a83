package dimse

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Received files are written into files created ahead of time (a pool), whose directory entries are
// already durable, so a received instance costs one fsync (data + inode) instead of two (file, then
// its new directory entry). Completion is recorded in the Part 10 preamble, whose content PS3.10 §7.1
// leaves to the application: a crash leaves either a file with a valid marker (complete and fsynced
// as the SCP answered success) or one without (partial or unused), which recovery tells apart with
// ReceivedComplete.

// rxMagic opens the completion marker in the preamble: magic, file length (uint64 LE), CRC-32C of the
// bytes after the preamble (uint32 LE).
const (
	rxMagic     = "SACRUM-RX1"
	rxMarkerLen = len(rxMagic) + 8 + 4
	rxPoolSize  = 32
	rxPrefix    = "rx-"
	rxSuffix    = ".part"
	preambleLen = 128
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// rxMarker is the completion marker of a file of size bytes whose bytes after the preamble have crc.
func rxMarker(size int64, crc uint32) []byte {
	b := make([]byte, rxMarkerLen)
	copy(b, rxMagic)
	binary.LittleEndian.PutUint64(b[len(rxMagic):], uint64(size))
	binary.LittleEndian.PutUint32(b[len(rxMagic)+8:], crc)
	return b
}

// IsReceiveFile reports whether name is a receive file of the SCP (complete or not).
func IsReceiveFile(name string) bool {
	return strings.HasPrefix(name, rxPrefix) && strings.HasSuffix(name, rxSuffix)
}

// ReceivedComplete reports whether the file at path is a received instance the SCP completed: its
// preamble holds the completion marker, its size equals the recorded length and its content the
// recorded checksum. Such a file was fsynced before the SCP answered success (unless fsync was off);
// any other receive file is partial or unused.
func ReceivedComplete(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	if fi.Size() < preambleLen {
		return false, nil
	}
	var m [rxMarkerLen]byte
	if _, err := io.ReadFull(f, m[:]); err != nil {
		return false, fmt.Errorf("read preamble of %s: %w", path, err)
	}
	if string(m[:len(rxMagic)]) != rxMagic || int64(binary.LittleEndian.Uint64(m[len(rxMagic):])) != fi.Size() {
		return false, nil
	}
	if _, err := f.Seek(preambleLen, io.SeekStart); err != nil {
		return false, err
	}
	h := crc32.New(castagnoli)
	if _, err := io.Copy(h, f); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return h.Sum32() == binary.LittleEndian.Uint32(m[len(rxMagic)+8:]), nil
}

// rxWriter writes a receive file, keeping the length and the CRC-32C of what follows the preamble.
type rxWriter struct {
	f   *os.File
	off int64
	crc uint32
}

func (w *rxWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	c := b[:n]
	if skip := preambleLen - w.off; skip > 0 {
		c = c[min(int64(len(c)), skip):]
	}
	w.crc = crc32.Update(w.crc, castagnoli, c)
	w.off += int64(n)
	return n, err
}

// complete writes the marker into the preamble (after everything else was written).
func (w *rxWriter) complete() error {
	_, err := w.f.WriteAt(rxMarker(w.off, w.crc), 0)
	return err
}

// rxPool keeps empty receive files whose directory entries are durable.
type rxPool struct {
	dir    string
	noSync bool
	log    *slog.Logger
	files  chan *os.File
	need   chan struct{}
}

func newRxPool(dir string, noSync bool, log *slog.Logger) *rxPool {
	return &rxPool{dir: dir, noSync: noSync, log: log, files: make(chan *os.File, rxPoolSize), need: make(chan struct{}, 1)}
}

func (p *rxPool) create() (*os.File, error) {
	var b [8]byte
	rand.Read(b[:])
	name := filepath.Join(p.dir, rxPrefix+hex.EncodeToString(b[:])+rxSuffix)
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
}

// take returns an empty receive file with a durable directory entry: one from the pool, or a new one
// (directory fsynced) when the pool is empty. The pool is refilled once it is down to half, in one
// batch with one directory fsync: a device cache flush per batch, not per instance.
func (p *rxPool) take() (*os.File, error) {
	select {
	case f := <-p.files:
		if len(p.files) <= cap(p.files)/2 {
			p.refill()
		}
		return f, nil
	default:
	}
	p.refill()
	f, err := p.create()
	if err != nil {
		return nil, err
	}
	if !p.noSync {
		if err := syncDir(p.dir); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
	}
	return f, nil
}

// refill asks run for a refill (without waiting for it).
func (p *rxPool) refill() {
	select {
	case p.need <- struct{}{}:
	default:
	}
}

// run refills the pool whenever a file was taken, until ctx is done, then removes the unused files.
// The pool starts empty: a node that never receives (or refuses everything, e.g. below its disk
// watermark) keeps no files; the first instance pays for its own directory fsync.
func (p *rxPool) run(ctx context.Context) {
	defer p.drain()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.need:
		}
		p.fill()
	}
}

// fill creates the missing files and fsyncs the directory once for all of them.
func (p *rxPool) fill() {
	var batch []*os.File
	for n := cap(p.files) - len(p.files); n > 0; n-- {
		f, err := p.create()
		if err != nil {
			p.log.Warn("receive file pool", "err", err)
			break
		}
		batch = append(batch, f)
	}
	if len(batch) == 0 {
		return
	}
	if !p.noSync {
		if err := syncDir(p.dir); err != nil {
			p.log.Warn("receive file pool", "err", err)
			for _, f := range batch {
				f.Close()
				os.Remove(f.Name())
			}
			return
		}
	}
	for _, f := range batch {
		select {
		case p.files <- f:
		default:
			f.Close()
			os.Remove(f.Name())
		}
	}
}

func (p *rxPool) drain() {
	for {
		select {
		case f := <-p.files:
			f.Close()
			os.Remove(f.Name())
		default:
			return
		}
	}
}
