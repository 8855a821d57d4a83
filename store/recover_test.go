package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/dimse/dimsetest"
	"github.com/sacrum-dev/sacrum/store"
	"github.com/sacrum-dev/sacrum/store/storetest"
)

// crashingHandler answers success and leaves the received file where the SCP put it: the state a
// crash leaves between the C-STORE response and the store's rename into place.
type crashingHandler struct{ kept chan string }

func (crashingHandler) Admit(context.Context, *dimse.StoreRequest) uint16 { return dimse.StatusSuccess }
func (h crashingHandler) Store(_ context.Context, si *dimse.StoredInstance) (uint16, error) {
	h.kept <- si.Path
	return dimse.StatusSuccess, nil
}

// receiveWithoutStore runs the SCP on dir/incoming with crashingHandler and sends paths; it returns
// the receive files left behind.
func receiveWithoutStore(t *testing.T, dir string, paths []string) []string {
	t.Helper()
	h := crashingHandler{kept: make(chan string, len(paths))}
	addr, stop := dimsetest.StartSCP(t, dimse.ServerConfig{AETitle: "SACRUM", TempDir: filepath.Join(dir, "incoming"), Handler: h,
		Allow: []dimse.AllowEntry{{AETitle: "*"}}, Logger: slog.New(slog.DiscardHandler)})
	res, err := dimse.SendFiles(context.Background(), addr,
		dimse.ClientConfig{CallingAE: "A", CalledAE: "SACRUM", Timeout: 5 * time.Second}, paths)
	stop() // the store opens the same directory next
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || r.Status != dimse.StatusSuccess {
			t.Fatalf("send %s: status %04X, %v", r.Path, r.Status, r.Err)
		}
	}
	close(h.kept)
	var kept []string
	for p := range h.kept {
		kept = append(kept, p)
	}
	return kept
}

// recordedFile reads an instance's file and checks it against the record (size, SHA-256).
func recordedFile(t *testing.T, dir string, in store.Instance) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(in.Path)))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != in.SHA256 || int64(len(b)) != in.Size {
		t.Errorf("%s: file differs from its record", in.Path)
	}
	return b
}

// TestOpenRecoversReceiveFiles: complete receive files acknowledged before their rename into place are
// ingested at Open; partial and unused ones are removed.
func TestOpenRecoversReceiveFiles(t *testing.T) {
	dir := t.TempDir()
	uid := root + ".40"
	paths := makeStudy(t, uid, "ACC40", 1, 3)
	kept := receiveWithoutStore(t, dir, paths)
	if len(kept) != 3 {
		t.Fatalf("%d receive files kept, want 3", len(kept))
	}
	for _, p := range kept {
		if ok, err := dimse.ReceivedComplete(p); !ok || err != nil {
			t.Fatalf("%s: complete %v, %v", p, ok, err)
		}
	}
	// One receive file torn (marker but short), one partial without marker, one unused (empty).
	incoming := filepath.Join(dir, "incoming")
	data, err := os.ReadFile(kept[0])
	if err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(incoming, "rx-torn.part")
	os.WriteFile(torn, data[:len(data)-10], 0o640)
	os.WriteFile(filepath.Join(incoming, "rx-partial.part"), data[300:], 0o640)
	os.WriteFile(filepath.Join(incoming, "rx-unused.part"), nil, 0o640)

	n := start(t, dir, func(c *store.Config) { c.StableTime = time.Hour })
	d := n.study(uid)
	if d.Study.Instances != 3 || len(d.Instances) != 3 || d.Study.State != store.StateReceiving {
		t.Fatalf("after recovery: %d instances (%d records), state %s", d.Study.Instances, len(d.Instances), d.Study.State)
	}
	for _, in := range d.Instances {
		recordedFile(t, dir, in)
		if want := filepath.ToSlash(filepath.Join("studies", uid, d.Instances[0].SeriesUID, in.SOPInstanceUID+".dcm")); in.Path != want {
			t.Errorf("path %s, want %s", in.Path, want)
		}
	}
	if left, _ := os.ReadDir(incoming); len(left) != 0 {
		t.Errorf("%d files left in incoming, e.g. %s", len(left), left[0].Name())
	}
	if _, err := os.Stat(torn); !errors.Is(err, os.ErrNotExist) {
		t.Error("torn receive file kept")
	}
}

// TestReceiveFilesPlacedByWriter: Store of a complete receive file answers before the file is moved;
// the writer moves it into place and records it. Two copies of one instance make one record; a
// changed copy of an instance replaces it. Nothing is left in incoming.
func TestReceiveFilesPlacedByWriter(t *testing.T) {
	dir := t.TempDir()
	n := start(t, dir, func(c *store.Config) { c.StableTime = time.Hour })
	uid := root + ".41"
	paths := makeStudy(t, uid, "ACC41", 1, 3)
	changed := filepath.Join(t.TempDir(), "changed.dcm")
	if err := storetest.WriteMR(changed, storetest.MR{StudyUID: uid, SeriesUID: uid + ".1", SOPInstanceUID: uid + ".1.2",
		Accession: "ACC41", StudyDate: "20260101", Fill: 200}); err != nil {
		t.Fatal(err)
	}
	// paths[0] twice (identical), then paths[1] and its changed copy: received in this order.
	order := []string{paths[0], paths[0], paths[1], changed, paths[2]}
	kept := receiveWithoutStore(t, t.TempDir(), order)
	if len(kept) != len(order) {
		t.Fatalf("%d receive files, want %d", len(kept), len(order))
	}
	for i, p := range kept {
		rx := filepath.Join(n.st.IncomingDir(), filepath.Base(p))
		if err := os.Rename(p, rx); err != nil {
			t.Fatal(err)
		}
		req := dimse.StoreRequest{Assoc: dimse.AssociationInfo{CallingAE: "A"}}
		if s, err := n.st.Store(context.Background(), &dimse.StoredInstance{StoreRequest: req, Path: rx}); s != dimse.StatusSuccess || err != nil {
			t.Fatalf("store %s (%s): status 0x%04X, %v", rx, order[i], s, err)
		}
	}
	n.st.Flush()
	d := n.study(uid)
	if d.Study.Instances != 3 || len(d.Instances) != 3 {
		t.Fatalf("%d instances (%d records), want 3", d.Study.Instances, len(d.Instances))
	}
	for _, in := range d.Instances {
		b := recordedFile(t, dir, in)
		if in.SOPInstanceUID == uid+".1.2" {
			// The stored file is the received one (marker in its preamble): compare the datasets.
			want, _ := os.ReadFile(changed)
			if !bytes.Equal(b[len(b)-64:], want[len(want)-64:]) {
				t.Errorf("instance %s: the changed copy did not replace the first", in.SOPInstanceUID)
			}
		}
	}
	if left, _ := os.ReadDir(n.st.IncomingDir()); len(left) != 0 {
		t.Errorf("%d files left in incoming, e.g. %s", len(left), left[0].Name())
	}
}

// TestStoreAfterClose: Store and Flush on a closed store return at once (A700 for Store).
func TestStoreAfterClose(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(store.Config{DataDir: dir, StableTime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	paths := makeStudy(t, root+".42", "ACC42", 1, 1)
	data, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(st.TempDir(), "other-1")
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		t.Fatal(err)
	}
	done := make(chan uint16)
	go func() {
		s, _ := st.Store(context.Background(), &dimse.StoredInstance{Path: tmp})
		st.Flush()
		done <- s
	}()
	select {
	case s := <-done:
		if s != dimse.StatusOutOfResources {
			t.Errorf("Store after Close: status 0x%04X, want A700", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Store or Flush after Close blocked")
	}
}
