package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/store"
	"github.com/sacrum-dev/sacrum/store/admin"
	"github.com/sacrum-dev/sacrum/store/storetest"
)

var updateStatus = flag.Bool("update-status", false, "rewrite the golden outputs under testdata/status")

// failAccession fails the pipeline for one accession number.
type failAccession string

func (f failAccession) Process(ctx context.Context, in *store.StudyInput) (*store.Results, error) {
	if in.Accession == string(f) {
		return nil, errors.New("segmentation found no sacroiliac joint")
	}
	return store.InventoryPipeline{}.Process(ctx, in)
}

// statusFixture runs a node with a DELIVERED, a FAILED, a REPORTED (destination down) and a RECEIVING
// study; it returns a read-only copy of its database and the address of its admin API.
func statusFixture(t *testing.T) (copyDir, adminAddr string) {
	t.Helper()
	sender := &storetest.Sender{}
	st, err := store.Open(store.Config{
		DataDir: t.TempDir(), StableTime: 100 * time.Millisecond, Tick: 20 * time.Millisecond, MaxAttempts: 2,
		RetryBackoff: 20 * time.Millisecond, StableByAE: map[string]time.Duration{"SLOW": time.Hour},
		Pipeline: failAccession("A-FAIL"), Sender: sender,
		Destinations: []store.Destination{{AE: "PACS", Host: "127.0.0.1", Port: 104}},
		Outbox:       store.OutboxConfig{InitialBackoff: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { st.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })

	const root = "1.2.826.0.1.3680043.10.1428.7"
	send := func(uid, acc, ae string, series, per int) {
		paths, err := storetest.Study(t.TempDir(), uid, acc, series, per)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if s, err := storetest.Receive(ctx, st, p, ae); s != dimse.StatusSuccess {
				t.Fatalf("store %s: 0x%04X %v", p, s, err)
			}
		}
	}
	wait := func(uid string, want store.State) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			d, err := st.Detail(uid, false)
			if err == nil && d.Study.State == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("study %s did not reach %s", uid, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	send(root+".1", "A-OK", "MOD", 2, 2)
	wait(root+".1", store.StateDelivered)
	send(root+".2", "A-FAIL", "MOD", 1, 3)
	wait(root+".2", store.StateFailed)
	sender.SetDown(true)
	send(root+".3", "A-DOWN", "MOD", 1, 1)
	wait(root+".3", store.StateReported)
	deadline := time.Now().Add(5 * time.Second)
	for d, _ := st.Detail(root+".3", false); d.Study.Attempts < 1; d, _ = st.Detail(root+".3", false) {
		if time.Now().After(deadline) {
			t.Fatal("no delivery attempt")
		}
		time.Sleep(10 * time.Millisecond)
	}
	send(root+".4", "A-WAIT", "SLOW", 1, 1)
	st.Flush()

	copyDir = t.TempDir()
	var db bytes.Buffer
	if err := st.Backup(&db); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(copyDir, store.DBFile), db.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.Handler(st, admin.Config{}))
	t.Cleanup(srv.Close)
	return copyDir, strings.TrimPrefix(srv.URL, "http://")
}

var (
	reRandomUID = regexp.MustCompile(`2\.25\.[0-9]+`)
	reTime      = regexp.MustCompile(`"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"`)
)

// TestStatusGolden runs each case of testdata/status/<case>/: args (one per line; DATADIR and ADMIN
// stand for the fixture's database copy and admin address) and the expected stdout, or "error".
// Random result UIDs and timestamps are masked.
func TestStatusGolden(t *testing.T) {
	dataDir, adminAddr := statusFixture(t)
	now := time.Now().Add(50 * time.Hour)
	goldenCases(t, "status", func(t *testing.T, dir, rawArgs string) {
		args := []string{}
		for _, a := range strings.Fields(rawArgs) {
			a = strings.ReplaceAll(a, "DATADIR", dataDir)
			a = strings.ReplaceAll(a, "ADMIN", adminAddr)
			args = append(args, a)
		}
		var stdout, stderr bytes.Buffer
		c := &StatusCommand{Stdout: &stdout, Stderr: &stderr, Now: func() time.Time { return now }}
		runErr := c.Run(context.Background(), args)
		got, file := stdout.String(), "stdout"
		if runErr != nil {
			got, file = runErr.Error()+"\n", "error"
		}
		got = strings.ReplaceAll(got, dataDir, "DATADIR")
		got = strings.ReplaceAll(got, adminAddr, "ADMIN")
		got = reRandomUID.ReplaceAllString(got, "2.25.X")
		got = reTime.ReplaceAllString(got, `"TIME"`)
		if *updateStatus {
			resetGolden(dir, "stdout", "error")
		}
		checkGolden(t, dir, file, got, *updateStatus, false)
	})
}
