package store

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDirSyncerCoalesces: callers arriving while a sync runs share the next one.
func TestDirSyncerCoalesces(t *testing.T) {
	d := newDirSyncer()
	release := make(chan struct{})
	var syncs atomic.Int32
	d.fsync = func(string) error {
		if syncs.Add(1) == 1 {
			<-release
		}
		return nil
	}
	var wg sync.WaitGroup
	call := func() {
		defer wg.Done()
		if err := d.sync("/x"); err != nil {
			t.Error(err)
		}
	}
	wg.Add(1)
	go call()
	waitRefs := func(n int) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			d.mu.Lock()
			refs := 0
			if st := d.dirs["/x"]; st != nil {
				refs = st.refs
			}
			d.mu.Unlock()
			if refs == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("refs %d, want %d", refs, n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitRefs(1)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go call()
	}
	waitRefs(11)
	close(release)
	wg.Wait()
	// The first sync may have started before the other renames: they need one more, shared.
	if n := syncs.Load(); n != 2 {
		t.Errorf("%d fsyncs for 11 callers, want 2", n)
	}
	if len(d.dirs) != 0 {
		t.Errorf("state kept for %d directories", len(d.dirs))
	}
}
