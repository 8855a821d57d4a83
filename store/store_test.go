package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/store"
	"github.com/sacrum-dev/sacrum/store/storetest"
)

const root = "1.2.826.0.1.3680043.10.1428.9"

type node struct {
	t      *testing.T
	st     *store.Store
	cfg    store.Config
	cancel context.CancelFunc
	done   chan struct{}
	sender *storetest.Sender
}

// start opens a store in dir with a fast configuration and runs it until the test ends.
func start(t *testing.T, dir string, mod func(*store.Config)) *node {
	t.Helper()
	n := &node{t: t, sender: &storetest.Sender{}}
	n.cfg = store.Config{
		DataDir:      dir,
		StableTime:   300 * time.Millisecond,
		Tick:         20 * time.Millisecond,
		Workers:      2,
		MaxAttempts:  2,
		RetryBackoff: 50 * time.Millisecond,
		Pipeline:     store.InventoryPipeline{DeviceSerial: "TEST1"},
		Sender:       n.sender,
		Destinations: []store.Destination{{AE: "PACS", Host: "127.0.0.1", Port: 11112}},
		Outbox:       store.OutboxConfig{InitialBackoff: 40 * time.Millisecond, MaxBackoff: 160 * time.Millisecond},
	}
	if mod != nil {
		mod(&n.cfg)
	}
	st, err := store.Open(n.cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.st = st
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan struct{})
	go func() { st.Run(ctx); close(n.done) }()
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	<-n.done
	if err := n.st.Close(); err != nil {
		n.t.Errorf("close: %v", err)
	}
	n.cancel = nil
}

// receive hands a copy of a Part 10 file to the store the way the C-STORE SCP does.
func (n *node) receive(path, callingAE string) uint16 {
	n.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		n.t.Fatal(err)
	}
	tmp, err := os.CreateTemp(n.st.TempDir(), "rx-*")
	if err != nil {
		n.t.Fatal(err)
	}
	tmp.Write(data)
	tmp.Close()
	req := dimse.StoreRequest{Assoc: dimse.AssociationInfo{CallingAE: callingAE}}
	if s := n.st.Admit(context.Background(), &req); s != dimse.StatusSuccess {
		os.Remove(tmp.Name())
		return s
	}
	status, err := n.st.Store(context.Background(), &dimse.StoredInstance{StoreRequest: req, Path: tmp.Name(), Size: int64(len(data))})
	if status == dimse.StatusSuccess && err != nil {
		n.t.Fatalf("success with error %v", err)
	}
	if _, err := os.Stat(tmp.Name()); !errors.Is(err, os.ErrNotExist) {
		n.t.Errorf("handler left its temporary file %s", tmp.Name())
	}
	return status
}

func (n *node) receiveAll(paths []string, ae string) {
	n.t.Helper()
	for _, p := range paths {
		if s := n.receive(p, ae); s != dimse.StatusSuccess {
			n.t.Fatalf("store %s: status 0x%04X", p, s)
		}
	}
}

func (n *node) study(uid string) store.StudyDetail {
	n.t.Helper()
	d, err := n.st.Detail(uid, true)
	if err != nil {
		n.t.Fatal(err)
	}
	return *d
}

func (n *node) waitState(uid string, want store.State, timeout time.Duration) store.StudyDetail {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d, err := n.st.Detail(uid, true)
		if err == nil && d.Study.State == want {
			return *d
		}
		if time.Now().After(deadline) {
			state := "missing"
			if d != nil {
				state = string(d.Study.State)
				for _, e := range d.Events {
					n.t.Logf("event %s %s", e.Type, e.Message)
				}
			}
			n.t.Fatalf("study %s: state %s after %s, want %s", uid, state, timeout, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func makeStudy(t *testing.T, uid, acc string, series, per int) []string {
	t.Helper()
	paths, err := storetest.Study(t.TempDir(), uid, acc, series, per)
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func sha(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func stateEvents(d store.StudyDetail) []string {
	var out []string
	for _, e := range d.Events {
		if e.Type == "state" {
			out = append(out, e.Message)
		}
	}
	return out
}

func countPrefix(events []string, prefix string) int {
	n := 0
	for _, e := range events {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

func TestLifecycleToDelivered(t *testing.T) {
	n := start(t, t.TempDir(), nil)
	uid := root + ".1"
	paths := makeStudy(t, uid, "ACC1", 2, 3)
	n.receiveAll(paths, "MODALITY")
	d := n.waitState(uid, store.StateDelivered, 5*time.Second)

	if d.Study.Instances != 6 || d.Study.Series != 2 || len(d.Series) != 2 || len(d.Instances) != 6 {
		t.Errorf("counts: %d instances %d series, %d series records, %d instance records", d.Study.Instances,
			d.Study.Series, len(d.Series), len(d.Instances))
	}
	if d.Study.Accession != "ACC1" || d.Study.PatientName != "SYNTH ACC1" {
		t.Errorf("accession %q patient %q", d.Study.Accession, d.Study.PatientName)
	}
	want := map[string]string{}
	for i, p := range paths {
		want[fmt.Sprintf("%s.%d.%d", uid, i/3+1, i%3+1)] = sha(t, p)
	}
	for _, in := range d.Instances {
		wantPath := filepath.ToSlash(filepath.Join("studies", uid, in.SeriesUID, in.SOPInstanceUID+".dcm"))
		if in.Path != wantPath {
			t.Errorf("path %s, want %s", in.Path, wantPath)
		}
		if got := sha(t, filepath.Join(n.cfg.DataDir, in.Path)); got != in.SHA256 || got != want[in.SOPInstanceUID] {
			t.Errorf("%s: file checksum %s, record %s, sent %s", in.SOPInstanceUID, got, in.SHA256, want[in.SOPInstanceUID])
		}
		if in.CallingAE != "MODALITY" {
			t.Errorf("calling AE %q", in.CallingAE)
		}
	}
	got := stateEvents(d)
	order := []string{"RECEIVING", "RECEIVING → COMPLETE", "COMPLETE → QUEUED", "QUEUED → PROCESSING",
		"PROCESSING → REPORTED", "REPORTED → DELIVERED"}
	if len(got) != len(order) {
		t.Fatalf("state events %q", got)
	}
	for i := range order {
		if !strings.HasPrefix(got[i], order[i]) {
			t.Errorf("event %d: %q, want prefix %q", i, got[i], order[i])
		}
	}
	if len(d.Results) != 1 || d.Results[0].SOPClassUID != store.BasicTextSRClass {
		t.Fatalf("results %+v", d.Results)
	}
	if len(d.Delivery) != 1 || d.Delivery[0].State != store.OutboxSent || d.Delivery[0].Dest != "PACS@127.0.0.1:11112" {
		t.Errorf("delivery %+v", d.Delivery)
	}
	if sent := n.sender.Sent(); len(sent) != 1 || filepath.Base(sent[0]) != d.Results[0].SOPInstanceUID+".dcm" {
		t.Errorf("sender got %q", sent)
	}
	if !d.Study.Results[0].Delivered {
		t.Errorf("result not marked delivered")
	}
	// The SR is a readable Part 10 file in the same study.
	ds, err := dicom.ParseFile(filepath.Join(n.cfg.DataDir, d.Results[0].Path), nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ds.FindElementByTag(tag.StudyInstanceUID)
	if err != nil || e.Value.GetValue().([]string)[0] != uid {
		t.Errorf("SR study UID: %v %v", e, err)
	}
}

func TestDuplicateAndReplacement(t *testing.T) {
	n := start(t, t.TempDir(), func(c *store.Config) { c.StableTime = time.Hour })
	uid := root + ".2"
	paths := makeStudy(t, uid, "ACC2", 1, 2)
	n.receiveAll(paths, "A")
	n.st.Flush()
	before := n.study(uid)
	n.receiveAll(paths[:1], "A") // identical duplicate
	n.st.Flush()
	after := n.study(uid)
	if after.Study.Instances != 2 || len(after.Events) != len(before.Events) {
		t.Errorf("duplicate changed the study: %d instances, %d → %d events", after.Study.Instances, len(before.Events), len(after.Events))
	}
	// Same SOP Instance UID, different content: replaces the instance, counts stay.
	changed := filepath.Join(t.TempDir(), "changed.dcm")
	if err := storetest.WriteMR(changed, storetest.MR{StudyUID: uid, SeriesUID: uid + ".1", SOPInstanceUID: uid + ".1.1",
		Accession: "ACC2", StudyDate: "20260101", Fill: 200}); err != nil {
		t.Fatal(err)
	}
	n.receiveAll([]string{changed}, "A")
	n.st.Flush()
	d := n.study(uid)
	if d.Study.Instances != 2 || len(d.Instances) != 2 {
		t.Fatalf("after replacement: %d instances", d.Study.Instances)
	}
	for _, in := range d.Instances {
		if in.SOPInstanceUID == uid+".1.1" && in.SHA256 != sha(t, changed) {
			t.Errorf("replacement not recorded: %s", in.SHA256)
		}
	}
}

func TestBadFileRejected(t *testing.T) {
	n := start(t, t.TempDir(), nil)
	bad := filepath.Join(t.TempDir(), "bad.dcm")
	os.WriteFile(bad, []byte("not a dicom file at all, just text"), 0o600)
	if s := n.receive(bad, "A"); s != dimse.StatusCannotUnderstand {
		t.Errorf("status 0x%04X, want 0xC000", s)
	}
	noStudy := filepath.Join(t.TempDir(), "nostudy.dcm")
	storetest.WriteMR(noStudy, storetest.MR{SeriesUID: "1.2.3", SOPInstanceUID: "1.2.3.4"})
	if s := n.receive(noStudy, "A"); s != dimse.StatusCannotUnderstand {
		t.Errorf("missing study UID: status 0x%04X", s)
	}
	sum, _ := n.st.Summary("", false)
	if len(sum.Studies) != 0 {
		t.Errorf("studies %+v", sum.Studies)
	}
}

func TestCompletenessAndReopen(t *testing.T) {
	n := start(t, t.TempDir(), func(c *store.Config) { c.StableTime = time.Second })
	uid := root + ".3"
	paths := makeStudy(t, uid, "ACC3", 3, 2)
	// Three "associations" with pauses shorter than the stable time: one run.
	for i := 0; i < 3; i++ {
		n.receiveAll(paths[2*i:2*i+2], "A")
		time.Sleep(150 * time.Millisecond)
		if st := n.study(uid).Study.State; st != store.StateReceiving {
			t.Fatalf("after part %d: %s", i+1, st)
		}
	}
	first := n.waitState(uid, store.StateDelivered, 5*time.Second)
	if first.Study.Runs != 1 || len(first.Jobs) != 1 || first.Study.Instances != 6 {
		t.Fatalf("runs %d jobs %d instances %d", first.Study.Runs, len(first.Jobs), first.Study.Instances)
	}
	old := first.Results[0]

	// A late instance reopens the study; the second run replaces the results and names the first SR.
	late := filepath.Join(t.TempDir(), "late.dcm")
	storetest.WriteMR(late, storetest.MR{StudyUID: uid, SeriesUID: uid + ".4", SOPInstanceUID: uid + ".4.1",
		Accession: "ACC3", StudyDate: "20260101", SeriesNumber: 4, InstanceNumber: 1})
	n.receiveAll([]string{late}, "A")
	n.st.Flush()
	if st := n.study(uid).Study.State; st != store.StateReceiving {
		t.Fatalf("not reopened: %s", st)
	}
	second := n.waitState(uid, store.StateDelivered, 5*time.Second)
	if second.Study.Runs != 2 || len(second.Results) != 1 || second.Results[0].SOPInstanceUID == old.SOPInstanceUID {
		t.Fatalf("second run: runs %d results %+v", second.Study.Runs, second.Results)
	}
	if second.Study.Instances != 7 || second.Study.Series != 4 {
		t.Errorf("counts %d/%d", second.Study.Instances, second.Study.Series)
	}
	if c := countPrefix(stateEvents(second), "DELIVERED → RECEIVING: reopened"); c != 1 {
		t.Errorf("reopen events %d", c)
	}
	ds, err := dicom.ParseFile(filepath.Join(n.cfg.DataDir, second.Results[0].Path), nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ds.FindElementByTagNested(tag.ReferencedSOPInstanceUID)
	if err != nil || e.Value.GetValue().([]string)[0] != old.SOPInstanceUID {
		t.Errorf("new SR does not name its predecessor %s: %v %v", old.SOPInstanceUID, e, err)
	}
	sent := 0
	for _, e := range second.Delivery {
		if e.State == store.OutboxSent {
			sent++
		}
	}
	if sent != 2 || len(second.Delivery) != 2 {
		t.Errorf("delivery entries %+v", second.Delivery)
	}
}

func TestStableTimePerCallingAE(t *testing.T) {
	n := start(t, t.TempDir(), func(c *store.Config) {
		c.StableTime = time.Hour
		c.StableByAE = map[string]time.Duration{"FAST": 100 * time.Millisecond}
	})
	slow, fast := root+".41", root+".42"
	n.receiveAll(makeStudy(t, slow, "S", 1, 1), "SLOW")
	n.receiveAll(makeStudy(t, fast, "F", 1, 1), "FAST")
	n.waitState(fast, store.StateDelivered, 5*time.Second)
	if st := n.study(slow).Study.State; st != store.StateReceiving {
		t.Errorf("slow AE study %s", st)
	}
}

// failing fails for one accession number and runs the inventory for the others.
type failing struct {
	acc   string
	calls atomic.Int32
}

func (f *failing) Process(ctx context.Context, in *store.StudyInput) (*store.Results, error) {
	if in.Accession == f.acc {
		f.calls.Add(1)
		return nil, errors.New("segmentation found no sacroiliac joint")
	}
	return store.InventoryPipeline{}.Process(ctx, in)
}

func TestFailingStudyDoesNotBlockOthers(t *testing.T) {
	p := &failing{acc: "BAD"}
	n := start(t, t.TempDir(), func(c *store.Config) { c.Pipeline = p; c.Workers = 1; c.MaxAttempts = 3 })
	bad, good := root+".51", root+".52"
	n.receiveAll(makeStudy(t, bad, "BAD", 1, 1), "A")
	n.receiveAll(makeStudy(t, good, "GOOD", 1, 1), "A")
	n.waitState(good, store.StateDelivered, 5*time.Second)
	d := n.waitState(bad, store.StateFailed, 5*time.Second)
	if p.calls.Load() != 3 || d.Study.Attempts != 3 || !strings.Contains(d.Study.LastError, "no sacroiliac joint") {
		t.Errorf("calls %d attempts %d last error %q", p.calls.Load(), d.Study.Attempts, d.Study.LastError)
	}
	if c := countPrefix(stateEvents(d), "PROCESSING → RETRYING"); c != 2 {
		t.Errorf("retrying events %d, want 2", c)
	}
	// An administrator retries: three more attempts.
	if err := n.st.Retry(bad); err != nil {
		t.Fatal(err)
	}
	n.waitState(bad, store.StateFailed, 5*time.Second)
	if p.calls.Load() != 6 {
		t.Errorf("calls after retry %d", p.calls.Load())
	}
	if err := n.st.Retry(root + ".404"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry unknown: %v", err)
	}
}

func TestJobTimeout(t *testing.T) {
	n := start(t, t.TempDir(), func(c *store.Config) {
		c.Pipeline = store.InventoryPipeline{Delay: 5 * time.Second}
		c.JobTimeout = 100 * time.Millisecond
		c.MaxAttempts = 1
	})
	uid := root + ".6"
	n.receiveAll(makeStudy(t, uid, "T", 1, 1), "A")
	d := n.waitState(uid, store.StateFailed, 5*time.Second)
	if !strings.Contains(d.Study.LastError, "deadline exceeded") {
		t.Errorf("last error %q", d.Study.LastError)
	}
	if len(d.Jobs) != 1 || d.Jobs[0].State != "failed" {
		t.Errorf("jobs %+v", d.Jobs)
	}
	if _, err := os.Stat(filepath.Join(n.cfg.DataDir, d.Jobs[0].Dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed job left its directory: %v", err)
	}
}

func TestOutboxBackoffAndFailureStatus(t *testing.T) {
	n := start(t, t.TempDir(), nil)
	n.sender.SetDown(true)
	uid := root + ".7"
	n.receiveAll(makeStudy(t, uid, "ACC7", 1, 2), "A")
	n.waitState(uid, store.StateReported, 5*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	d := n.study(uid)
	for ; d.Study.Attempts < 3 && time.Now().Before(deadline); d = n.study(uid) {
		time.Sleep(10 * time.Millisecond)
	}
	if d.Study.State != store.StateReported || d.Study.Attempts < 3 || !strings.Contains(d.Study.LastError, "connection refused") {
		t.Fatalf("while down: %s attempts %d error %q", d.Study.State, d.Study.Attempts, d.Study.LastError)
	}
	// Backoff has reached its 160 ms ceiling: in 700 ms at most ~5 attempts, not one per 20 ms tick.
	c0 := n.sender.Calls()
	time.Sleep(700 * time.Millisecond)
	if c := n.sender.Calls() - c0; c > 6 {
		t.Errorf("%d send attempts in 700 ms: no backoff", c)
	}
	// The peer answers A700: a failure, never reported as sent.
	n.sender.SetDown(false)
	n.sender.SetStatus(dimse.StatusOutOfResources)
	time.Sleep(400 * time.Millisecond)
	d = n.study(uid)
	if d.Study.State != store.StateReported || d.Delivery[0].State != store.OutboxPending || d.Delivery[0].LastStatus != 0xA700 {
		t.Fatalf("after A700: %s %+v", d.Study.State, d.Delivery)
	}
	if !strings.Contains(d.Study.LastError, "0xA700") {
		t.Errorf("last error %q", d.Study.LastError)
	}
	n.sender.SetStatus(dimse.StatusSuccess)
	d = n.waitState(uid, store.StateDelivered, 5*time.Second)
	if d.Delivery[0].State != store.OutboxSent || d.Study.LastError != "" {
		t.Errorf("delivered: %+v %q", d.Delivery[0], d.Study.LastError)
	}
}

func TestOutboxMaxAgeAndRetry(t *testing.T) {
	n := start(t, t.TempDir(), func(c *store.Config) { c.Outbox.MaxAge = 200 * time.Millisecond })
	n.sender.SetDown(true)
	uid := root + ".8"
	n.receiveAll(makeStudy(t, uid, "ACC8", 1, 1), "A")
	d := n.waitState(uid, store.StateFailed, 5*time.Second)
	if d.Study.Runs != 1 || d.Delivery[0].State != store.OutboxExpired || !strings.Contains(d.Study.LastError, "not delivered within") {
		t.Fatalf("expired: %+v %q", d.Delivery, d.Study.LastError)
	}
	n.sender.SetDown(false)
	if err := n.st.Retry(uid); err != nil {
		t.Fatal(err)
	}
	d = n.waitState(uid, store.StateDelivered, 5*time.Second)
	if d.Study.Runs != 1 {
		t.Errorf("delivery retry re-ran the pipeline: runs %d", d.Study.Runs)
	}
}

func TestCancel(t *testing.T) {
	n := start(t, t.TempDir(), func(c *store.Config) { c.StableTime = 200 * time.Millisecond })
	uid := root + ".9"
	n.receiveAll(makeStudy(t, uid, "ACC9", 1, 1), "A")
	n.st.Flush()
	if err := n.st.Cancel(uid); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	d := n.study(uid)
	if d.Study.State != store.StateCancelled || len(d.Jobs) != 0 {
		t.Errorf("state %s jobs %d", d.Study.State, len(d.Jobs))
	}
	if err := n.st.Cancel(uid); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second cancel: %v", err)
	}
}

func TestWatermark(t *testing.T) {
	dir := t.TempDir()
	n := start(t, dir, func(c *store.Config) { c.MinFreeBytes = 1 << 62 })
	paths := makeStudy(t, root+".10", "W", 1, 1)
	if s := n.receive(paths[0], "A"); s != dimse.StatusOutOfResources {
		t.Fatalf("status 0x%04X, want A700", s)
	}
	if err := n.st.Ready(); err == nil {
		t.Error("ready below the watermark")
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(p) != store.DBFile {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("files left: %q", files)
	}
}

func TestOwnResultRoutedBackIsIgnored(t *testing.T) {
	n := start(t, t.TempDir(), func(c *store.Config) { c.OwnManufacturer = "sacrum"; c.OwnDeviceSerial = "TEST1" })
	uid := root + ".11"
	n.receiveAll(makeStudy(t, uid, "ACC11", 1, 1), "A")
	d := n.waitState(uid, store.StateDelivered, 5*time.Second)
	// By SOP Instance UID, and by Manufacturer + DeviceSerialNumber.
	sr := filepath.Join(n.cfg.DataDir, d.Results[0].Path)
	other := filepath.Join(t.TempDir(), "other.dcm")
	storetest.WriteMR(other, storetest.MR{StudyUID: uid, SeriesUID: uid + ".99", SOPInstanceUID: uid + ".99.1",
		Manufacturer: "sacrum", DeviceSerial: "TEST1"})
	n.receiveAll([]string{sr, other}, "PACS")
	n.st.Flush()
	time.Sleep(100 * time.Millisecond)
	after := n.study(uid)
	if after.Study.State != store.StateDelivered || after.Study.Instances != 1 {
		t.Errorf("own result changed the study: %s %d", after.Study.State, after.Study.Instances)
	}
}

func TestRestartRebuildsRecordsAndRequeues(t *testing.T) {
	dir := t.TempDir()
	block := make(chan struct{})
	started := make(chan struct{}, 1)
	p := pipelineFunc(func(ctx context.Context, in *store.StudyInput) (*store.Results, error) {
		started <- struct{}{}
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil, errors.New("stopped")
	})
	n := start(t, dir, func(c *store.Config) { c.Pipeline = p })
	uid := root + ".12"
	paths := makeStudy(t, uid, "ACC12", 1, 2)
	n.receiveAll(paths, "A")
	<-started
	if st := n.study(uid).Study.State; st != store.StateProcessing {
		t.Fatalf("state %s", st)
	}
	// Crash image: the database as it was during processing, plus one more instance file whose
	// record was never committed, plus a temporary file of an unfinished C-STORE.
	crash := t.TempDir()
	var db bytes.Buffer
	if err := n.st.Backup(&db); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(crash, store.DBFile), db.Bytes(), 0o600)
	copyTree(t, filepath.Join(dir, "studies"), filepath.Join(crash, "studies"))
	extra := filepath.Join(crash, "studies", uid, uid+".1", uid+".1.3.dcm")
	storetest.WriteMR(extra, storetest.MR{StudyUID: uid, SeriesUID: uid + ".1", SOPInstanceUID: uid + ".1.3", Accession: "ACC12"})
	os.MkdirAll(filepath.Join(crash, "tmp"), 0o750)
	os.WriteFile(filepath.Join(crash, "tmp", "rx-partial"), []byte("half"), 0o600)
	close(block)

	m := start(t, crash, nil)
	d := m.waitState(uid, store.StateDelivered, 5*time.Second)
	if d.Study.Instances != 3 || len(d.Instances) != 3 {
		t.Errorf("instances after recovery %d (%d records)", d.Study.Instances, len(d.Instances))
	}
	ev := stateEvents(d)
	// The instance that arrived during the run reopens the study after the requeue.
	if countPrefix(ev, "PROCESSING → QUEUED: node restarted") != 1 || countPrefix(ev, "QUEUED → RECEIVING: reopened") != 1 ||
		countPrefix(ev, "REPORTED → DELIVERED") != 1 {
		t.Errorf("events %q", ev)
	}
	if _, err := os.Stat(filepath.Join(crash, "tmp", "rx-partial")); !errors.Is(err, os.ErrNotExist) {
		t.Error("partial temporary file kept")
	}
	var interrupted int
	for _, j := range d.Jobs {
		if j.State == "interrupted" {
			interrupted++
		}
	}
	if interrupted != 1 {
		t.Errorf("jobs %+v", d.Jobs)
	}
}

func TestRetentionKeepsEventLog(t *testing.T) {
	n := start(t, t.TempDir(), func(c *store.Config) { c.Retention = time.Hour })
	uid := root + ".13"
	n.receiveAll(makeStudy(t, uid, "ACC13", 1, 2), "A")
	d := n.waitState(uid, store.StateDelivered, 5*time.Second)
	if err := n.st.Purge(time.Now()); err != nil {
		t.Fatal(err)
	}
	if n.study(uid).Study.Instances != 2 {
		t.Fatal("purged before the retention time")
	}
	if err := n.st.Purge(time.Now().Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	after := n.study(uid)
	if len(after.Instances) != 0 || len(after.Events) <= len(d.Events) {
		t.Errorf("after purge: %d instances, %d events (before %d)", len(after.Instances), len(after.Events), len(d.Events))
	}
	if _, err := os.Stat(filepath.Join(n.cfg.DataDir, "studies", uid)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("study directory kept: %v", err)
	}
}

func TestNoPipelineStaysComplete(t *testing.T) {
	n := start(t, t.TempDir(), func(c *store.Config) { c.Pipeline = nil })
	uid := root + ".14"
	n.receiveAll(makeStudy(t, uid, "ACC14", 1, 1), "A")
	d := n.waitState(uid, store.StateComplete, 5*time.Second)
	found := false
	for _, e := range d.Events {
		found = found || strings.Contains(e.Message, "no pipeline configured")
	}
	if !found {
		t.Error("no event says the pipeline is missing")
	}
}

func TestClinicalReachesPipeline(t *testing.T) {
	got := make(chan string, 1)
	p := pipelineFunc(func(ctx context.Context, in *store.StudyInput) (*store.Results, error) {
		got <- string(in.Clinical)
		return store.InventoryPipeline{}.Process(ctx, in)
	})
	n := start(t, t.TempDir(), func(c *store.Config) { c.Pipeline = p })
	if err := n.st.PutClinical("ACC15", []byte(`{"basdai": 6.1, "crp": 12}`)); err != nil {
		t.Fatal(err)
	}
	if err := n.st.PutClinical("ACC16", []byte(`[1,2]`)); err == nil {
		t.Error("accepted a JSON array")
	}
	n.receiveAll(makeStudy(t, root+".15", "ACC15", 1, 1), "A")
	select {
	case c := <-got:
		if c != `{"basdai": 6.1, "crp": 12}` {
			t.Errorf("clinical %q", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pipeline not called")
	}
}

func TestParseDestination(t *testing.T) {
	for _, c := range []struct {
		in, key string
		ok      bool
	}{
		{"PACS@10.0.0.5:104", "PACS@10.0.0.5:104", true},
		{"ORTHANC@[::1]:4242", "ORTHANC@[::1]:4242", true},
		{"PACS@host", "", false},
		{"@host:104", "", false},
		{"PACS@host:0", "", false},
		{"AVERYLONGAETITLE17@h:1", "", false},
	} {
		d, err := store.ParseDestination(c.in)
		if (err == nil) != c.ok || (c.ok && d.Key() != c.key) {
			t.Errorf("%q: %+v %v", c.in, d, err)
		}
	}
}

type pipelineFunc func(ctx context.Context, in *store.StudyInput) (*store.Results, error)

func (f pipelineFunc) Process(ctx context.Context, in *store.StudyInput) (*store.Results, error) {
	return f(ctx, in)
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStageTimesInEvents: the pipeline's per-stage durations are written to the study's event log.
func TestStageTimesInEvents(t *testing.T) {
	p := pipelineFunc(func(ctx context.Context, in *store.StudyInput) (*store.Results, error) {
		res, err := store.InventoryPipeline{}.Process(ctx, in)
		if err != nil {
			return nil, err
		}
		res.Stages = []store.StageTime{{Stage: "segmentation", Duration: 142 * time.Millisecond}, {Stage: "radiomics", Duration: 68 * time.Millisecond}}
		return res, nil
	})
	n := start(t, t.TempDir(), func(c *store.Config) { c.Pipeline = p })
	uid := root + ".77"
	n.receiveAll(makeStudy(t, uid, "ACC77", 1, 1), "A")
	n.waitState(uid, store.StateDelivered, 5*time.Second)
	var got string
	for _, e := range n.study(uid).Events {
		if e.Type == "stages" {
			got = e.Message
		}
	}
	if want := "segmentation 142 ms, radiomics 68 ms"; got != want {
		t.Fatalf("stages event %q, want %q", got, want)
	}
}
