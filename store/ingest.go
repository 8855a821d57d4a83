package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sacrum-dev/sacrum/dimse"
)

var _ dimse.StoreHandler = (*Store)(nil)

// writeReq is a received instance for the batch writer, or a flush marker (flush only).
type writeReq struct {
	src     string // the received file; the writer moves it to inst.Path
	info    *fileInfo
	inst    Instance
	receive bool          // src is a complete receive file of the SCP, which Open recovers
	done    chan error    // for any other file: Store waits for it to be in place
	flush   chan struct{} // Flush marker
	dup     bool          // an identical instance is already stored: src was dropped
	err     error
}

// Admit refuses new instances with A700 while the disk is below the watermark, so nothing is written.
func (s *Store) Admit(ctx context.Context, req *dimse.StoreRequest) uint16 {
	if !s.ready.Load() {
		return dimse.StatusOutOfResources
	}
	if s.cfg.MinFreeBytes > 0 {
		free, err := freeBytes(s.dir)
		if err != nil || free < uint64(s.cfg.MinFreeBytes) {
			s.metrics.admitRejected.Inc()
			s.log().Warn("refusing instance: disk below watermark", "sop_instance_uid", req.SOPInstanceUID,
				"free_bytes", free, "min_free_bytes", s.cfg.MinFreeBytes)
			return dimse.StatusOutOfResources
		}
	}
	return dimse.StatusSuccess
}

// Store accepts a received file for <data_dir>/studies/<study>/<series>/<sop>.dcm. It parses the
// header (C000 when it cannot, A900 when the SOP Instance UID differs from the command), drops our own
// results routed back, waits until the SCP's fsync is done and queues the file for the batch writer,
// which hashes it, drops an identical duplicate, moves it into place, fsyncs the directories and
// commits the records, once per batch.
//
// Success means the instance is durable: a complete receive file of the SCP (see
// dimse.ReceivedComplete) in IncomingDir or TempDir is durable where it is, and Open ingests it if a
// crash comes before its record, so Store returns at once and the move is off the response path; for
// any other file Store waits until the writer has moved it and synced its directory.
func (s *Store) Store(ctx context.Context, si *dimse.StoredInstance) (uint16, error) {
	if !s.ready.Load() {
		os.Remove(si.Path)
		return dimse.StatusOutOfResources, errors.New("store: closed")
	}
	info, err := readHeader(si.Path)
	if err != nil {
		os.Remove(si.Path)
		return dimse.StatusCannotUnderstand, fmt.Errorf("store: %w", err)
	}
	if si.SOPInstanceUID != "" && si.SOPInstanceUID != info.SOPInstanceUID {
		os.Remove(si.Path)
		return dimse.StatusDataSetDoesNotMatch, fmt.Errorf("store: %s: SOP Instance UID %s in the dataset, %s in the command",
			si.Path, info.SOPInstanceUID, si.SOPInstanceUID)
	}
	now := time.Now()
	if own, err := s.isOwnResult(info); err != nil {
		os.Remove(si.Path)
		return dimse.StatusOutOfResources, err
	} else if own {
		os.Remove(si.Path)
		s.metrics.ownIgnored.Inc()
		s.log().Info("ignored our own result routed back", "sop_instance_uid", info.SOPInstanceUID, "study_uid", info.StudyUID)
		return dimse.StatusSuccess, nil
	}
	if err := si.Durable(); err != nil {
		os.Remove(si.Path)
		return dimse.StatusOutOfResources, fmt.Errorf("store: %w", err)
	}
	req := &writeReq{src: si.Path, info: info, receive: s.isReceiveFile(si.Path), inst: Instance{
		SOPInstanceUID: info.SOPInstanceUID, SOPClassUID: info.SOPClassUID, StudyUID: info.StudyUID,
		SeriesUID: info.SeriesUID, Path: instancePath(info), Received: now.UTC(), CallingAE: si.Assoc.CallingAE,
	}}
	if !req.receive {
		req.done = make(chan error, 1)
	}
	closed := func() (uint16, error) {
		// A receive file left behind is ingested at the next Open; any other file would be removed there.
		return dimse.StatusOutOfResources, errors.New("store: closed")
	}
	select {
	case s.writes <- req:
	case <-s.wrDone:
		return closed()
	}
	if req.done != nil {
		select {
		case err := <-req.done:
			if err != nil {
				return dimse.StatusOutOfResources, fmt.Errorf("store: %w", err)
			}
		case <-s.wrDone:
			return closed()
		}
	}
	return dimse.StatusSuccess, nil
}

// instancePath is where an instance's file lives, relative to the data directory.
func instancePath(info *fileInfo) string {
	return path.Join("studies", info.StudyUID, info.SeriesUID, info.SOPInstanceUID+".dcm")
}

// isReceiveFile reports whether p is a receive file of the SCP in a directory Open recovers from.
func (s *Store) isReceiveFile(p string) bool {
	d := filepath.Dir(p)
	return dimse.IsReceiveFile(filepath.Base(p)) && (d == s.IncomingDir() || d == s.TempDir())
}

// place hashes r's file and moves it to r.inst.Path, unless an identical instance is already stored
// (in the database, or earlier in the batch: placed) in which case the file is dropped. It adds the
// directories to fsync for the move to be durable to dirs.
func (s *Store) place(r *writeReq, placed map[string]*writeReq, dirs *dirSet) error {
	if err := r.info.hash(r.src); err != nil {
		return err
	}
	r.inst.Size, r.inst.SHA256 = r.info.Size, r.info.SHA256
	dup := false
	if p, ok := placed[r.inst.SOPInstanceUID]; ok {
		dup = p.inst.SHA256 == r.inst.SHA256
	} else {
		err := s.db.View(func(tx *bolt.Tx) error {
			var old Instance
			ok, err := getJSON(tx.Bucket(bktInstances), []byte(r.inst.SOPInstanceUID), &old)
			dup = ok && old.SHA256 == r.inst.SHA256 && old.Path == r.inst.Path
			return err
		})
		if err != nil {
			return err
		}
		if dup {
			// The record is only as good as the file it names.
			if fi, err := os.Stat(s.abs(r.inst.Path)); err != nil || fi.Size() != r.inst.Size {
				dup = false
			}
		}
	}
	if dup {
		r.dup = true
		return os.Remove(r.src)
	}
	dst := s.abs(r.inst.Path)
	created, err := mkdirs(s.dir, filepath.Dir(dst))
	if err == nil {
		err = moveFile(r.src, dst)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", r.inst.Path, err)
	}
	dirs.add(created...)
	dirs.add(filepath.Dir(dst), filepath.Dir(r.src))
	placed[r.inst.SOPInstanceUID] = r
	return nil
}

// dirSet is a set of directories to fsync, in the order added (parents of new directories first
// would not matter: all are synced before the records are committed).
type dirSet struct {
	seen  map[string]bool
	order []string
}

func (d *dirSet) add(dirs ...string) {
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	for _, dir := range dirs {
		if !d.seen[dir] {
			d.seen[dir] = true
			d.order = append(d.order, dir)
		}
	}
}

// sync fsyncs every directory (all of them, even after a failure) and returns the failures.
func (d *dirSet) sync() error {
	var errs []error
	for _, dir := range d.order {
		if err := syncDir(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// isOwnResult reports whether an instance is one of our result objects routed back to us.
func (s *Store) isOwnResult(info *fileInfo) (bool, error) {
	if s.cfg.OwnManufacturer != "" && info.Manufacturer == s.cfg.OwnManufacturer &&
		(s.cfg.OwnDeviceSerial == "" || info.DeviceSerial == s.cfg.OwnDeviceSerial) {
		return true, nil
	}
	var own bool
	err := s.db.View(func(tx *bolt.Tx) error {
		own = tx.Bucket(bktOwn).Get([]byte(info.SOPInstanceUID)) != nil
		return nil
	})
	return own, err
}

// commitInterval spaces the writer's commits. Each one fsyncs directories and the database (several
// device cache flushes); spacing them leaves the disk to the SCP's fsyncs on the response path. Store
// of a file that is not a receive file, and Flush, do not wait for it.
const commitInterval = 25 * time.Millisecond

// writer places and records instances in batches: whatever queued up during the previous commit (and
// up to commitInterval after it) goes into the next one.
func (s *Store) writer() {
	defer s.writerWG.Done()
	defer close(s.wrDone)
	var last time.Time
	for {
		var first *writeReq
		select {
		case first = <-s.writes:
		case <-s.stopW:
			// Drain what is queued, then stop.
			for {
				select {
				case r := <-s.writes:
					s.commit([]*writeReq{r})
				default:
					return
				}
			}
		}
		if wait := time.Until(last.Add(commitInterval)); wait > 0 && first.done == nil && first.flush == nil {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.stopW:
				t.Stop()
			}
		}
		batch := []*writeReq{first}
	fill:
		for len(batch) < 512 {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(batch)
		last = time.Now()
	}
}

// commit places a batch of instances, makes the moves durable and then commits their records.
func (s *Store) commit(batch []*writeReq) {
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	placed := map[string]*writeReq{}
	dirs := &dirSet{}
	var records []*writeReq
	for _, r := range batch {
		if r.flush != nil {
			continue
		}
		if r.err = s.place(r, placed, dirs); r.err != nil {
			s.placeFailed(r)
			continue
		}
		if r.dup {
			s.metrics.duplicates.Inc()
			continue
		}
		records = append(records, r)
	}
	if !s.cfg.NoSync {
		if err := dirs.sync(); err != nil {
			// A receive file whose move is lost is recovered at the next Open; any other file's
			// Store is told.
			s.log().Error("fsync directory of received instances", "err", err)
			for _, r := range records {
				if r.done != nil && r.err == nil {
					r.err = err
				}
			}
		}
	}
	now := time.Now()
	touched := map[string]*Study{}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, r := range records {
			if r.err != nil {
				continue
			}
			st, err := applyInstance(tx, &r.inst, r.info, now)
			if err != nil {
				return fmt.Errorf("record %s: %w", r.inst.SOPInstanceUID, err)
			}
			if st != nil {
				touched[st.UID] = st
			}
		}
		return nil
	})
	if err != nil {
		// The files are durable in place; the next Open rebuilds these records from them.
		s.log().Error("commit instance records", "err", err, "instances", len(records))
	}
	for _, r := range records {
		if r.err == nil {
			s.metrics.instances.Inc()
			s.metrics.bytes.Add(float64(r.inst.Size))
		}
	}
	s.afterInstances(touched)
	for _, r := range batch {
		switch {
		case r.flush != nil:
			close(r.flush)
		case r.done != nil:
			r.done <- r.err
		}
	}
}

// placeFailed reports an instance the writer could not place. A receive file stays where it is, complete
// and durable, and is ingested at the next Open; any other file is removed and its Store fails.
func (s *Store) placeFailed(r *writeReq) {
	if r.receive {
		s.log().Error("instance not moved into place; it is ingested at the next start", "sop_instance_uid",
			r.inst.SOPInstanceUID, "path", r.src, "err", r.err)
		return
	}
	os.Remove(r.src)
	s.log().Error("instance not moved into place", "sop_instance_uid", r.inst.SOPInstanceUID, "err", r.err)
}

// afterInstances updates the stable timers of studies that received instances, and stops runs of
// studies that were reopened.
func (s *Store) afterInstances(touched map[string]*Study) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for uid, st := range touched {
		if st.State != StateReceiving {
			continue
		}
		s.deadlines[uid] = st.LastReceived.Add(s.cfg.stableFor(st.CallingAE))
		if cancel, ok := s.running[uid]; ok {
			cancel()
		}
	}
	if len(touched) > 0 {
		poke(s.wake)
	}
}

// Flush waits until every instance acknowledged so far is in place with its record committed.
// After Close it returns at once.
func (s *Store) Flush() {
	r := &writeReq{flush: make(chan struct{})}
	select {
	case s.writes <- r:
	case <-s.wrDone:
		return
	}
	select {
	case <-r.flush:
	case <-s.wrDone:
	}
}

// applyInstance records an instance and updates its series and study; it reopens a study that was
// already past RECEIVING. It returns the study, or nil when the record was already there unchanged.
func applyInstance(tx *bolt.Tx, in *Instance, info *fileInfo, now time.Time) (*Study, error) {
	ib := tx.Bucket(bktInstances)
	var old Instance
	hadOld, err := getJSON(ib, []byte(in.SOPInstanceUID), &old)
	if err != nil {
		return nil, err
	}
	if hadOld && old.SHA256 == in.SHA256 && old.Path == in.Path {
		return nil, nil
	}
	if hadOld {
		// A changed instance replaces the old one: take the old one out of its series and study counts.
		if err := unaccount(tx, &old); err != nil {
			return nil, err
		}
	}
	if err := putJSON(ib, []byte(in.SOPInstanceUID), in); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bktByStudy).Put(seriesKey(in.StudyUID, in.SOPInstanceUID), []byte(in.SeriesUID)); err != nil {
		return nil, err
	}

	sb := tx.Bucket(bktSeries)
	var se Series
	newSeries := false
	if ok, err := getJSON(sb, seriesKey(in.StudyUID, in.SeriesUID), &se); err != nil {
		return nil, err
	} else if !ok {
		newSeries = true
		se = Series{StudyUID: in.StudyUID, SeriesUID: in.SeriesUID}
	}
	if info != nil {
		se.Modality, se.SeriesNumber, se.Description = info.Modality, info.SeriesNumber, info.SeriesDesc
	}
	se.Instances++
	se.Bytes += in.Size
	if in.Received.After(se.LastReceived) {
		se.LastReceived = in.Received
	}
	if err := putJSON(sb, seriesKey(in.StudyUID, in.SeriesUID), &se); err != nil {
		return nil, err
	}

	st := &Study{}
	found, err := getJSON(tx.Bucket(bktStudies), []byte(in.StudyUID), st)
	if err != nil {
		return nil, err
	}
	if !found {
		st = &Study{UID: in.StudyUID, FirstReceived: in.Received}
		if err := setState(tx, st, StateReceiving, now, "first instance from "+in.CallingAE); err != nil {
			return nil, err
		}
	}
	if info != nil {
		if info.Accession != "" {
			st.Accession = info.Accession
		}
		if info.StudyDate != "" {
			st.StudyDate = info.StudyDate
		}
		if info.PatientName != "" {
			st.PatientName = info.PatientName
		}
	}
	if newSeries {
		st.Series++
	}
	st.Instances++
	st.Bytes += in.Size
	st.Revision++
	st.Purged = false
	if in.Received.Before(st.FirstReceived) || st.FirstReceived.IsZero() {
		st.FirstReceived = in.Received
	}
	if in.Received.After(st.LastReceived) {
		st.LastReceived = in.Received
		st.CallingAE = in.CallingAE
	}
	if st.State != StateReceiving {
		msg := fmt.Sprintf("reopened: instance %s arrived", in.SOPInstanceUID)
		st.Attempts, st.LastError, st.FailedStage, st.NextAttempt = 0, "", "", time.Time{}
		if err := setState(tx, st, StateReceiving, now, msg); err != nil {
			return nil, err
		}
	}
	return st, putStudy(tx, st)
}

// unaccount removes an instance from its series' and study's counts (before it is replaced or purged).
func unaccount(tx *bolt.Tx, old *Instance) error {
	sb := tx.Bucket(bktSeries)
	var se Series
	if ok, err := getJSON(sb, seriesKey(old.StudyUID, old.SeriesUID), &se); err != nil {
		return err
	} else if ok {
		se.Instances--
		se.Bytes -= old.Size
		if err := putJSON(sb, seriesKey(old.StudyUID, old.SeriesUID), &se); err != nil {
			return err
		}
	}
	st := &Study{}
	if ok, err := getJSON(tx.Bucket(bktStudies), []byte(old.StudyUID), st); err != nil {
		return err
	} else if ok {
		st.Instances--
		st.Bytes -= old.Size
		if err := putStudy(tx, st); err != nil {
			return err
		}
	}
	return tx.Bucket(bktByStudy).Delete(seriesKey(old.StudyUID, old.SOPInstanceUID))
}

// mkdirs creates dir and missing parents below root; it returns the parents of created directories,
// which must be fsynced for the new entries to be durable.
func mkdirs(root, dir string) ([]string, error) {
	var created []string
	for d := dir; d != root && d != "." && d != string(filepath.Separator); d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		created = append(created, filepath.Dir(d))
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return created, nil
}

// moveFile renames src to dst, copying (and fsyncing) when they are on different file systems.
func moveFile(src, dst string) error {
	err := os.Rename(src, dst)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".part"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Remove(src)
}

// freeBytes is the space available to unprivileged users on dir's file system.
func freeBytes(dir string) (uint64, error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return fs.Bavail * uint64(fs.Bsize), nil
}
