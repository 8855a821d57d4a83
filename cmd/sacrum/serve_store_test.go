package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/sacrum-dev/sacrum/store"
	"github.com/sacrum-dev/sacrum/store/storetest"
)

// These tests run the real binary, DCMTK's storescu as the modality and storescp as the destination.

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// sacrumBinary builds cmd/sacrum once per test run.
func sacrumBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sacrum-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "sacrum")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

func needDCMTK(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: `make setup` installs DCMTK", tool)
		}
	}
}

// serveNode is a `sacrum serve` child process.
type serveNode struct {
	t         *testing.T
	bin       string
	args      []string
	dataDir   string
	dicomPort int
	adminAddr string
	cmd       *exec.Cmd
	log       *os.File
	starts    int
}

func newServeNode(t *testing.T, extra ...string) *serveNode {
	t.Helper()
	n := &serveNode{t: t, bin: sacrumBinary(t), dataDir: t.TempDir(), dicomPort: freePort(t)}
	n.adminAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	n.args = append([]string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", n.dicomPort), "--data-dir", n.dataDir,
		"--allow-aet", "STORESCU", "--admin", n.adminAddr, "--log-level", "warn", "--pipeline", "inventory"}, extra...)
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	n.log = logf
	t.Cleanup(func() {
		n.stop()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("serve log (tail):\n%s", b)
		}
	})
	n.start()
	return n
}

// start runs the node and waits until its admin server answers (the store is open then).
func (n *serveNode) start() {
	n.t.Helper()
	n.cmd = exec.Command(n.bin, n.args...)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	n.cmd.Env = append(os.Environ(), "SACRUM_ADMIN_TOKEN=tok")
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.starts++
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + n.adminAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("node not ready after 20 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *serveNode) kill() {
	n.cmd.Process.Signal(syscall.SIGKILL)
	n.cmd.Wait()
	n.cmd = nil
}

func (n *serveNode) stop() {
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		n.t.Errorf("node did not stop on SIGTERM; killing it")
		n.cmd.Process.Kill()
		<-done
	}
	n.cmd = nil
}

// status runs `sacrum status --json` against the node's admin API.
func (n *serveNode) status(t *testing.T) store.Summary {
	t.Helper()
	out, err := exec.Command(n.bin, "status", "--json", "--admin", n.adminAddr).Output()
	if err != nil {
		t.Fatalf("sacrum status: %v", err)
	}
	var sum store.Summary
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, out)
	}
	return sum
}

func (n *serveNode) waitStudy(t *testing.T, uid string, timeout time.Duration, ok func(store.StudySummary) bool) store.StudySummary {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last store.StudySummary
	for {
		for _, s := range n.status(t).Studies {
			if s.StudyUID == uid {
				last = s
				if ok(s) {
					return s
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("study %s: condition not met after %s; last %+v", uid, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// storescu sends files over one association and returns those answered with success (from -v output).
func runStorescu(port int, files []string) (map[string]bool, error) {
	args := append([]string{"-v", "-aet", "STORESCU", "-aec", "SACRUM", "127.0.0.1", fmt.Sprint(port)}, files...)
	cmd := exec.Command("storescu", args...)
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	out, err := cmd.CombinedOutput()
	ok := map[string]bool{}
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if f, found := strings.CutPrefix(line, "I: Sending file: "); found {
			cur = f
		} else if strings.HasPrefix(line, "I: Received Store Response (Success)") && cur != "" {
			ok[cur] = true
		}
	}
	if err != nil {
		return ok, fmt.Errorf("storescu: %v: %s", err, tailLines(out, 3))
	}
	return ok, nil
}

func tailLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// storescp runs DCMTK's storescp as a destination until the test ends.
func startStorescp(t *testing.T, port int, dir string) func() {
	t.Helper()
	cmd := exec.Command("storescp", "-aet", "DEST", "-od", dir, fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
			cmd.Wait()
			cmd.Process = nil
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("storescp not listening: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receivedSRs lists the SOP Instance UIDs of SR files storescp wrote to dir.
func receivedSRs(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "SR*"))
	for _, f := range files {
		out[strings.TrimPrefix(filepath.Base(f), "SRt.")] = f
	}
	return out
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// datasetBytes returns a Part 10 file without its preamble and file meta information.
func datasetBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// 128-byte preamble, "DICM", then (0002,0000) UL with explicit VR: 8-byte header + 4-byte length.
	if len(b) < 144 || string(b[128:132]) != "DICM" || b[132] != 2 || b[134] != 0 {
		t.Fatalf("%s: not a Part 10 file with a group length", path)
	}
	n := int(b[140]) | int(b[141])<<8 | int(b[142])<<16 | int(b[143])<<24
	if 144+n > len(b) {
		t.Fatalf("%s: meta group length %d beyond the file", path, n)
	}
	return b[144+n:]
}

func writeConfigFile(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeCrashSafety is acceptance test 1: 50 studies over several associations while the node is
// killed with SIGKILL at random moments; every acknowledged instance survives and every study is
// delivered exactly once with one set of results.
func TestServeCrashSafety(t *testing.T) {
	needDCMTK(t, "storescu", "storescp")
	destDir := t.TempDir()
	destPort := freePort(t)
	startStorescp(t, destPort, destDir)
	n := newServeNode(t, "--stable-seconds", "3", "--dest", fmt.Sprintf("DEST@127.0.0.1:%d", destPort))

	const studies, series, perSeries = 50, 2, 3
	const root = "1.2.826.0.1.3680043.10.1428.5"
	srcDir := t.TempDir()
	files := map[string][]string{} // study UID → files
	var uids []string
	for i := 1; i <= studies; i++ {
		uid := fmt.Sprintf("%s.%d", root, i)
		paths, err := storetest.Study(filepath.Join(srcDir, fmt.Sprint(i)), uid, fmt.Sprintf("CR%03d", i), series, perSeries)
		if err != nil {
			t.Fatal(err)
		}
		files[uid] = paths
		uids = append(uids, uid)
	}

	// Senders: 4 workers, one association per study, retrying what was not acknowledged.
	var mu sync.Mutex
	acked := map[string]bool{}
	interrupted := 0 // associations that did not get every file acknowledged
	work := make(chan string, studies)
	for _, uid := range uids {
		work <- uid
	}
	close(work)
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for uid := range work {
				for ctx.Err() == nil {
					var todo []string
					mu.Lock()
					for _, f := range files[uid] {
						if !acked[f] {
							todo = append(todo, f)
						}
					}
					mu.Unlock()
					if len(todo) == 0 {
						break
					}
					ok, _ := runStorescu(n.dicomPort, todo)
					mu.Lock()
					if len(ok) < len(todo) {
						interrupted++
					}
					for f := range ok {
						acked[f] = true
					}
					mu.Unlock()
					if len(ok) < len(todo) {
						time.Sleep(100 * time.Millisecond)
					}
				}
			}
		}()
	}
	sendDone := make(chan struct{})
	go func() { wg.Wait(); close(sendDone) }()

	// Kill at random moments while sending, then twice more while processing and delivering.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 0
	mu2 := sync.Mutex{}
	killRestart := func() {
		mu2.Lock()
		defer mu2.Unlock()
		n.kill()
		kills++
		n.start()
	}
sending:
	for {
		select {
		case <-sendDone:
			break sending
		case <-time.After(time.Duration(200+rng.IntN(800)) * time.Millisecond):
			killRestart()
		}
	}
	if ctx.Err() != nil {
		t.Fatal("senders did not finish in time")
	}
	for i := 0; i < 3; i++ {
		time.Sleep(time.Duration(2500+rng.IntN(1500)) * time.Millisecond)
		killRestart()
	}
	for kills < 5 {
		time.Sleep(300 * time.Millisecond)
		killRestart()
	}
	t.Logf("%d kills; %d of %d instances acknowledged", kills, len(acked), studies*series*perSeries)

	// Every study ends DELIVERED.
	deadline := time.Now().Add(90 * time.Second)
	for {
		sum := n.status(t)
		if sum.Counts[store.StateDelivered] == studies {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all delivered: %v", sum.Counts)
		}
		time.Sleep(200 * time.Millisecond)
	}
	n.stop()

	r, err := store.OpenReader(n.dataDir, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sent := receivedSRs(t, destDir)
	recovered, requeued := 0, 0
	for _, uid := range uids {
		d, err := r.Detail(uid, false)
		if err != nil {
			t.Fatalf("%s: %v", uid, err)
		}
		byUID := map[string]store.Instance{}
		for _, in := range d.Instances {
			byUID[in.SOPInstanceUID] = in
		}
		for i, f := range files[uid] {
			sop := fmt.Sprintf("%s.%d.%d", uid, i/perSeries+1, i%perSeries+1)
			if !acked[f] {
				continue
			}
			in, ok := byUID[sop]
			if !ok {
				t.Errorf("acknowledged instance %s has no record", sop)
				continue
			}
			// The record's checksum is the stored file's; the dataset is the one sent (the SCP writes
			// its own file meta information).
			stored := filepath.Join(n.dataDir, in.Path)
			if got := fileSHA256(t, stored); in.SHA256 != got {
				t.Errorf("instance %s: record checksum %s, file %s", sop, in.SHA256, got)
			}
			if !bytes.Equal(datasetBytes(t, stored), datasetBytes(t, f)) {
				t.Errorf("instance %s: stored dataset differs from the one sent", sop)
			}
		}
		if d.Study.Instances != series*perSeries {
			t.Errorf("%s: %d instances", uid, d.Study.Instances)
		}
		delivered := 0
		for _, e := range d.Events {
			if e.Type == "recovered" {
				recovered++
			}
			if strings.Contains(e.Message, "node restarted during processing") {
				requeued++
			}
			if e.Type == "state" && strings.Contains(e.Message, "→ DELIVERED") {
				delivered++
			}
		}
		if delivered != 1 || d.Study.Runs != 1 || len(d.Results) != 1 || len(d.Delivery) != 1 || d.Delivery[0].State != store.OutboxSent {
			t.Errorf("%s: delivered %d times, %d runs, %d results, outbox %+v", uid, delivered, d.Study.Runs, len(d.Results), d.Delivery)
			continue
		}
		if _, ok := sent[d.Results[0].SOPInstanceUID]; !ok {
			t.Errorf("%s: result %s not at the destination", uid, d.Results[0].SOPInstanceUID)
		}
	}
	t.Logf("%d interrupted associations, %d records rebuilt from files, %d runs requeued after a kill",
		interrupted, recovered, requeued)
	if len(sent) != studies {
		t.Errorf("destination holds %d SRs, want %d", len(sent), studies)
	}
}

// TestServeDestinationDown is acceptance test 2: the outbox retries with backoff while storescp is
// down, status shows attempts and the last error, and delivery happens once it is up.
func TestServeDestinationDown(t *testing.T) {
	needDCMTK(t, "storescu", "storescp")
	destPort := freePort(t)
	cfg := writeConfigFile(t, `
queue:
  outbox_initial_backoff: 200ms
  outbox_max_backoff: 800ms
`)
	n := newServeNode(t, "--config", cfg, "--stable-seconds", "0.5", "--dest", fmt.Sprintf("DEST@127.0.0.1:%d", destPort))
	uid := "1.2.826.0.1.3680043.10.1428.4.1"
	paths, err := storetest.Study(t.TempDir(), uid, "DOWN1", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := runStorescu(n.dicomPort, paths); err != nil || len(ok) != 2 {
		t.Fatalf("storescu: %v %v", ok, err)
	}
	s := n.waitStudy(t, uid, 20*time.Second, func(s store.StudySummary) bool { return s.Attempts >= 3 })
	if s.State != store.StateReported || !strings.Contains(s.LastError, "connection refused") || s.Results[0].Delivered {
		t.Fatalf("while down: %+v", s)
	}
	// Backoff: 200, 400, 800, 800 ms… — a few attempts per second at most.
	time.Sleep(2 * time.Second)
	s2 := n.waitStudy(t, uid, time.Second, func(store.StudySummary) bool { return true })
	if grew := s2.Attempts - s.Attempts; grew < 1 || grew > 5 {
		t.Errorf("attempts grew by %d in 2 s with backoff 200 ms → 800 ms", grew)
	}
	out, err := exec.Command(n.bin, "status", "--admin", n.adminAddr).Output()
	if err != nil || !strings.Contains(string(out), "REPORTED") || !strings.Contains(string(out), "connection refused") {
		t.Errorf("status table does not show the failure: %v\n%s", err, out)
	}
	destDir := t.TempDir()
	startStorescp(t, destPort, destDir)
	s = n.waitStudy(t, uid, 20*time.Second, func(s store.StudySummary) bool { return s.State == store.StateDelivered })
	if !s.Results[0].Delivered || s.LastError != "" {
		t.Errorf("delivered: %+v", s)
	}
	if _, ok := receivedSRs(t, destDir)[s.Results[0].SOPInstanceUID]; !ok {
		t.Errorf("storescp did not receive %s", s.Results[0].SOPInstanceUID)
	}
}

// TestServeCompletenessAndReopen is acceptance test 3: three associations with pauses shorter than
// the stable time give one run; a later instance reopens the study and the second run's SR replaces
// the first and names it.
func TestServeCompletenessAndReopen(t *testing.T) {
	needDCMTK(t, "storescu", "storescp")
	destDir, destPort := t.TempDir(), freePort(t)
	startStorescp(t, destPort, destDir)
	n := newServeNode(t, "--stable-seconds", "3", "--dest", fmt.Sprintf("DEST@127.0.0.1:%d", destPort))
	uid := "1.2.826.0.1.3680043.10.1428.3.1"
	paths, err := storetest.Study(t.TempDir(), uid, "PAUSE1", 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if ok, err := runStorescu(n.dicomPort, paths[2*i:2*i+2]); err != nil || len(ok) != 2 {
			t.Fatalf("association %d: %v %v", i+1, ok, err)
		}
		if i < 2 {
			time.Sleep(time.Second)
		}
	}
	first := n.waitStudy(t, uid, 20*time.Second, func(s store.StudySummary) bool { return s.State == store.StateDelivered })
	if first.Runs != 1 || first.Instances != 6 || len(first.Results) != 1 {
		t.Fatalf("first: %+v", first)
	}
	late := filepath.Join(t.TempDir(), "late.dcm")
	if err := storetest.WriteMR(late, storetest.MR{StudyUID: uid, SeriesUID: uid + ".9", SOPInstanceUID: uid + ".9.1",
		Accession: "PAUSE1", StudyDate: "20260101", SeriesNumber: 9, InstanceNumber: 1}); err != nil {
		t.Fatal(err)
	}
	if ok, err := runStorescu(n.dicomPort, []string{late}); err != nil || len(ok) != 1 {
		t.Fatalf("late instance: %v %v", ok, err)
	}
	second := n.waitStudy(t, uid, 20*time.Second, func(s store.StudySummary) bool { return s.Runs == 2 && s.State == store.StateDelivered })
	if second.Instances != 7 || len(second.Results) != 1 || second.Results[0].SOPInstanceUID == first.Results[0].SOPInstanceUID {
		t.Fatalf("second: %+v", second)
	}
	srs := receivedSRs(t, destDir)
	if len(srs) != 2 {
		t.Fatalf("destination holds %d SRs, want 2", len(srs))
	}
	ds, err := dicom.ParseFile(srs[second.Results[0].SOPInstanceUID], nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ds.FindElementByTagNested(tag.ReferencedSOPInstanceUID)
	if err != nil || e.Value.GetValue().([]string)[0] != first.Results[0].SOPInstanceUID {
		t.Errorf("second SR does not name the first: %v %v", e, err)
	}
}

// TestServeWatermark is acceptance test 4: below min_free_bytes C-STORE answers A700 and no file stays.
func TestServeWatermark(t *testing.T) {
	needDCMTK(t, "storescu")
	cfg := writeConfigFile(t, "store:\n  min_free_bytes: 4611686018427387904\n")
	n := newServeNode(t, "--config", cfg)
	paths, err := storetest.Study(t.TempDir(), "1.2.826.0.1.3680043.10.1428.2.1", "FULL1", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-v", "-nh", "-aet", "STORESCU", "-aec", "SACRUM", "127.0.0.1", fmt.Sprint(n.dicomPort)}, paths...)
	cmd := exec.Command("storescu", args...)
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	out, _ := cmd.CombinedOutput()
	if c := strings.Count(string(out), "Received Store Response (Refused: OutOfResources)"); c != 2 {
		t.Errorf("want 2 A700 responses, storescu said:\n%s", out)
	}
	var left []string
	filepath.WalkDir(n.dataDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(p) != store.DBFile {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("files in the data directory: %q", left)
	}
	if sum := n.status(t); len(sum.Studies) != 0 {
		t.Errorf("studies recorded: %+v", sum.Studies)
	}
	if resp, err := http.Get("http://" + n.adminAddr + "/readyz"); err != nil || resp.StatusCode != 503 {
		t.Errorf("readyz below the watermark: %v %v", resp, err)
	}
}

// TestServeStoreConfig checks that every store, queue, destinations and admin key reaches store.Config.
func TestServeStoreConfig(t *testing.T) {
	path := writeConfigFile(t, `
store:
  data_dir: /tmp/x
  stable_seconds: 12.5
  stable_seconds_by_ae: {SLOWPACS: 120}
  min_free_bytes: 1000000
  retention_days: 2
admin:
  listen: 127.0.0.1:9999
  token: abc
  show_phi: true
destinations:
  - {ae_title: PACS, host: 10.0.0.5, port: 104}
  - {ae_title: ARCH, host: arch.example, port: 2762, tls: {insecure: true}}
queue:
  pipeline: none
  workers: 4
  job_timeout: 10m
  max_attempts: 5
  retry_backoff: 1m
  outbox_initial_backoff: 2s
  outbox_max_backoff: 1h
  outbox_max_age: 48h
  outbox_timeout: 30s
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := storeConfig(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"stable", sc.StableTime, 12500 * time.Millisecond},
		{"stable by AE", sc.StableByAE["SLOWPACS"], 2 * time.Minute},
		{"min free", sc.MinFreeBytes, int64(1000000)},
		{"retention", sc.Retention, 48 * time.Hour},
		{"workers", sc.Workers, 4},
		{"job timeout", sc.JobTimeout, 10 * time.Minute},
		{"attempts", sc.MaxAttempts, 5},
		{"retry backoff", sc.RetryBackoff, time.Minute},
		{"outbox initial", sc.Outbox.InitialBackoff, 2 * time.Second},
		{"outbox max", sc.Outbox.MaxBackoff, time.Hour},
		{"outbox age", sc.Outbox.MaxAge, 48 * time.Hour},
		{"outbox timeout", sc.Outbox.Timeout, 30 * time.Second},
		{"pipeline", sc.Pipeline == nil, true},
		{"destinations", len(sc.Destinations), 2},
		{"dest 0", sc.Destinations[0].Key(), "PACS@10.0.0.5:104"},
		{"dest 1 tls", sc.Destinations[1].TLS != nil && sc.Destinations[1].TLS.ServerName == "arch.example", true},
		{"token", cfg.Admin.Token, "abc"},
		{"show phi", cfg.Admin.ShowPHI, true},
		{"admin listen", cfg.Admin.Listen, "127.0.0.1:9999"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	defCfg := DefaultConfig()
	defCfg.Store.DataDir = t.TempDir() // the analysis pipeline keeps the node UID there
	def, err := storeConfig(defCfg, nil, nil)
	if err != nil || def.StableTime != 30*time.Second || def.Pipeline == nil || len(def.Destinations) != 0 {
		t.Errorf("defaults: %+v %v", def, err)
	}
	if _, err := LoadConfig(writeConfigFile(t, "queue:\n  pipeline: magic\n")); err != nil {
		t.Fatal(err)
	}
	bad, _ := LoadConfig(writeConfigFile(t, "queue:\n  pipeline: magic\n"))
	if _, err := storeConfig(bad, nil, nil); err == nil {
		t.Error("unknown pipeline accepted")
	}
}

// TestServeAssociationMetrics: /metrics of a running node counts accepted and rejected associations,
// open connections and received instances.
func TestServeAssociationMetrics(t *testing.T) {
	needDCMTK(t, "storescu")
	n := newServeNode(t)
	paths, err := storetest.Study(t.TempDir(), "1.2.826.0.1.3680043.10.1428.1.1", "MET1", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := runStorescu(n.dicomPort, paths); err != nil || len(ok) != 2 {
		t.Fatalf("storescu: %v %v", ok, err)
	}
	wrong := exec.Command("storescu", "-aet", "STORESCU", "-aec", "NOTSACRUM", "127.0.0.1", fmt.Sprint(n.dicomPort), paths[0])
	wrong.Env = append(os.Environ(), "TCP_NODELAY=1")
	if err := wrong.Run(); err == nil {
		t.Fatal("association with a wrong called AE title succeeded")
	}
	want := map[string]float64{
		"sacrum_associations_accepted_total": 1,
		"sacrum_associations_rejected_total": 1,
		"sacrum_associations_active":         0,
		"sacrum_instances_received_total":    2,
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + n.adminAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("metrics do not parse: %v", err)
		}
		got := map[string]float64{}
		for name := range want {
			if f, ok := fams[name]; ok && len(f.Metric) == 1 {
				m := f.Metric[0]
				if m.Counter != nil {
					got[name] = m.Counter.GetValue()
				} else if m.Gauge != nil {
					got[name] = m.Gauge.GetValue()
				}
			}
		}
		same := true
		for k, v := range want {
			same = same && got[k] == v
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics %v, want %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
