package main

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/dimse/dimsetest"
	"github.com/sacrum-dev/sacrum/pipeline/infer"
	"github.com/sacrum-dev/sacrum/pipeline/learn"
	"github.com/sacrum-dev/sacrum/store"
)

// rejectSR is a destination that stores everything but refuses SRs (as an archive without SR support).
type rejectSR struct{ dimse.DirHandler }

func (h rejectSR) Admit(ctx context.Context, req *dimse.StoreRequest) uint16 {
	if strings.HasPrefix(req.SOPClassUID, "1.2.840.10008.5.1.4.1.1.88.") {
		return dimse.StatusOutOfResources
	}
	return dimse.StatusSuccess
}

// startDestination runs a C-STORE SCP with the handler on loopback and returns its port.
func startDestination(t testing.TB, h func(dir string) dimse.StoreHandler) int {
	t.Helper()
	dir := t.TempDir()
	addr, _ := dimsetest.StartSCP(t, dimse.ServerConfig{AETitle: "PACS", Allow: []dimse.AllowEntry{{AETitle: "*"}},
		TempDir: filepath.Join(dir, "tmp"), Handler: h(dir), NoFsync: true})
	return int(netip.MustParseAddrPort(addr).Port())
}

func send(t testing.TB, addr string, paths []string) {
	t.Helper()
	res, err := dimse.SendFiles(context.Background(), addr, dimse.ClientConfig{CallingAE: "E2E", CalledAE: "SACRUM"}, paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.OK() {
			t.Fatalf("send %s: status 0x%04X %v", r.Path, r.Status, r.Err)
		}
	}
}

const failureConfig = `
node:
  ae_title: SACRUM
  allow: [E2E]
store:
  data_dir: %%DATA%%
  stable_seconds: 1
admin:
  listen: %%ADMIN%%
queue:
  pipeline: analysis
  max_attempts: 2
  retry_backoff: 1s
  outbox_initial_backoff: 1s
  outbox_max_age: 4s
destinations:
  - {ae_title: PACS, host: 127.0.0.1, port: %d}
pipeline:
  bundle: %s
`

// TestFailurePaths is acceptance 5 of issue 8: a study without a usable STIR series, a model error and a
// destination that rejects the SR end in a visible RETRYING/FAILED state with the reason in `sacrum status`,
// and nothing is reported as delivered that the destination did not acknowledge.
func TestFailurePaths(t *testing.T) {
	requireModels(t)
	dest := startDestination(t, func(dir string) dimse.StoreHandler { return rejectSR{dimse.DirHandler{Dir: dir, NoSync: true}} })
	node := startNode(t, fmt.Sprintf(failureConfig, dest, DefaultBundle))

	// A study without a STIR series: RETRYING with the reason, then FAILED after the second attempt.
	t1, st := e2ePatient(t, 21)
	t1 = slices.DeleteFunc(t1, func(p string) bool { return filepath.Base(filepath.Dir(p)) != "2" }) // series 2 = T1
	send(t, node.addr, t1)
	s := node.waitState(t, st.Record.StudyUID, 30*time.Second, store.StateRetrying, store.StateFailed)
	if !strings.Contains(s.LastError, "no STIR series") {
		t.Errorf("no STIR: %s with last error %q", s.State, s.LastError)
	}
	s = node.waitState(t, st.Record.StudyUID, 30*time.Second, store.StateFailed)
	if s.Attempts != 2 || !strings.Contains(s.LastError, "no STIR series") || len(s.Results) != 0 {
		t.Errorf("no STIR: %+v", s)
	}

	// A destination that refuses the SR: delivery attempts with the status, then FAILED; the SEG and the
	// card are delivered, the SR is not.
	mr, st2 := e2ePatient(t, 22)
	send(t, node.addr, mr)
	s = node.waitState(t, st2.Record.StudyUID, 60*time.Second, store.StateReported, store.StateFailed, store.StateDelivered)
	waitFor(t, 30*time.Second, "a failed delivery round", func() bool {
		s = node.study(t, st2.Record.StudyUID)
		return s.Attempts > 0 || s.State == store.StateFailed
	})
	if !strings.Contains(strings.ToLower(s.LastError), "a700") && !strings.Contains(s.LastError, "out of resources") {
		t.Errorf("refused SR: last error %q", s.LastError)
	}
	s = node.waitState(t, st2.Record.StudyUID, 30*time.Second, store.StateFailed)
	if !strings.Contains(s.LastError, "deliver") || len(s.Results) != 3 {
		t.Fatalf("refused SR: %+v", s)
	}
	for _, r := range s.Results {
		isSR := strings.HasPrefix(r.SOPClassUID, "1.2.840.10008.5.1.4.1.1.88.")
		if r.Delivered == isSR {
			t.Errorf("result %s (%s): delivered %v", r.SOPInstanceUID, r.SOPClassUID, r.Delivered)
		}
	}
	if s.State == store.StateDelivered {
		t.Error("study reported as delivered")
	}
}

// TestModelError: a bundle whose DLR score needs a feature the node does not compute fails every run with
// that reason.
func TestModelError(t *testing.T) {
	requireModels(t)
	path, err := infer.FindFile(DefaultBundle + "/bundle.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := learn.LoadBundle(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Endpoints {
		e.Lasso.Inputs[0] = "left_not_a_feature"
		e.Lasso.Scaler.Names[0] = "left_not_a_feature"
	}
	bad := t.TempDir()
	if err := b.Save(bad); err != nil {
		t.Fatal(err)
	}
	dest := startDestination(t, func(dir string) dimse.StoreHandler { return dimse.DirHandler{Dir: dir, NoSync: true} })
	node := startNode(t, fmt.Sprintf(failureConfig, dest, bad))
	mr, st := e2ePatient(t, 23)
	send(t, node.addr, mr)
	s := node.waitState(t, st.Record.StudyUID, 60*time.Second, store.StateFailed)
	if !strings.Contains(s.LastError, `feature "left_not_a_feature" missing`) || len(s.Results) != 0 {
		t.Errorf("model error: %+v", s)
	}
}
