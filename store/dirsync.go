package store

import "sync"

// dirSyncer coalesces fsyncs of one directory requested by concurrent Stores (group commit): a caller
// needs a sync that started after its rename; if one is running it waits for the next, which a single
// caller runs for everybody waiting.
type dirSyncer struct {
	mu    sync.Mutex
	cond  *sync.Cond
	dirs  map[string]*dirState
	fsync func(dir string) error // syncDir; replaced in tests
}

type dirState struct {
	started, done uint64 // sync generations
	running       bool
	err           error // of the latest completed sync
	refs          int
}

func newDirSyncer() *dirSyncer {
	d := &dirSyncer{dirs: map[string]*dirState{}, fsync: syncDir}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// sync returns once dir has been fsynced by a sync that started after the call.
func (d *dirSyncer) sync(dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.dirs[dir]
	if st == nil {
		st = &dirState{}
		d.dirs[dir] = st
	}
	st.refs++
	need := st.started + 1
	for st.done < need {
		if st.running {
			d.cond.Wait()
			continue
		}
		st.running = true
		st.started++
		gen := st.started
		d.mu.Unlock()
		err := d.fsync(dir)
		d.mu.Lock()
		st.running, st.done, st.err = false, gen, err
		d.cond.Broadcast()
	}
	err := st.err
	if st.refs--; st.refs == 0 {
		delete(d.dirs, dir)
	}
	return err
}
