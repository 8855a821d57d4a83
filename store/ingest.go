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

// writeReq is an instance record waiting for the batch writer, or a flush marker (done only).
type writeReq struct {
	inst Instance
	info *fileInfo
	dirs []string // to fsync before the record is committed (the rename into place)
	done chan struct{}
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

// Store moves a received file to <data_dir>/studies/<study>/<series>/<sop>.dcm and queues its record
// for the batch writer. Success means the file is durable: a complete receive file of the SCP (see
// dimse.ReceivedComplete) in IncomingDir or TempDir is durable before the rename, and Open recovers it
// if the rename is lost to a crash, so the writer fsyncs the directories once per batch, before the
// records (group commit, off the response path); any other file is renamed and its directory fsynced
// before Store returns. A record lost to a crash is rebuilt from the file at the next Open. An identical
// duplicate is acknowledged and dropped.
func (s *Store) Store(ctx context.Context, si *dimse.StoredInstance) (uint16, error) {
	if !s.ready.Load() {
		os.Remove(si.Path)
		return dimse.StatusOutOfResources, errors.New("store: closed")
	}
	info, err := readFileInfo(si.Path)
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
	rel := path.Join("studies", info.StudyUID, info.SeriesUID, info.SOPInstanceUID+".dcm")
	req := &writeReq{info: info, inst: Instance{
		SOPInstanceUID: info.SOPInstanceUID, SOPClassUID: info.SOPClassUID, StudyUID: info.StudyUID,
		SeriesUID: info.SeriesUID, Path: rel, Size: info.Size, SHA256: info.SHA256,
		Received: now.UTC(), CallingAE: si.Assoc.CallingAE,
	}}

	// Outside ingestMu: other associations' fsyncs proceed meanwhile.
	if err := si.Durable(); err != nil {
		os.Remove(si.Path)
		return dimse.StatusOutOfResources, fmt.Errorf("store: %w", err)
	}
	s.ingestMu.Lock()
	dup, err := s.isDuplicate(info)
	if err != nil {
		s.ingestMu.Unlock()
		os.Remove(si.Path)
		return dimse.StatusOutOfResources, err
	}
	if dup {
		s.ingestMu.Unlock()
		os.Remove(si.Path)
		s.metrics.duplicates.Inc()
		return dimse.StatusSuccess, nil
	}
	dst := s.abs(rel)
	created, err := mkdirs(s.dir, filepath.Dir(dst))
	if err == nil {
		err = moveFile(si.Path, dst)
	}
	if err != nil {
		s.ingestMu.Unlock()
		os.Remove(si.Path)
		return dimse.StatusOutOfResources, fmt.Errorf("store: %s: %w", rel, err)
	}
	s.pending[info.SOPInstanceUID] = req
	s.ingestMu.Unlock()

	// The rename is durable once its directory is; new directories need their parents synced too.
	if !s.cfg.NoSync && s.isReceiveFile(si.Path) {
		req.dirs = append(created, filepath.Dir(dst), filepath.Dir(si.Path))
	} else if !s.cfg.NoSync {
		for _, d := range created {
			if err := syncDir(d); err != nil {
				return dimse.StatusOutOfResources, fmt.Errorf("store: %w", err)
			}
		}
		if err := s.dirSync.sync(filepath.Dir(dst)); err != nil {
			return dimse.StatusOutOfResources, fmt.Errorf("store: %w", err)
		}
	}
	s.metrics.instances.Inc()
	s.metrics.bytes.Add(float64(info.Size))
	s.writes <- req
	return dimse.StatusSuccess, nil
}

// isReceiveFile reports whether p is a receive file of the SCP in a directory Open recovers from.
func (s *Store) isReceiveFile(p string) bool {
	d := filepath.Dir(p)
	return dimse.IsReceiveFile(filepath.Base(p)) && (d == s.IncomingDir() || d == s.TempDir())
}

// isDuplicate reports whether an identical instance (same SOP Instance UID and checksum) is already stored.
// Called with ingestMu held.
func (s *Store) isDuplicate(info *fileInfo) (bool, error) {
	if p, ok := s.pending[info.SOPInstanceUID]; ok {
		return p.inst.SHA256 == info.SHA256, nil
	}
	var dup bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var old Instance
		ok, err := getJSON(tx.Bucket(bktInstances), []byte(info.SOPInstanceUID), &old)
		dup = ok && old.SHA256 == info.SHA256
		return err
	})
	return dup, err
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

// commitInterval spaces the writer's commits: each one fsyncs directories and the database, and on a
// busy disk fewer, larger commits leave more of the journal to the SCP's fsyncs on the response path.
const commitInterval = 5 * time.Millisecond

// writer commits instance records in batches: whatever queued up during the previous commit (and up
// to commitInterval after it) goes into the next one.
func (s *Store) writer() {
	defer s.writerWG.Done()
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
		if wait := time.Until(last.Add(commitInterval)); wait > 0 && first.done == nil {
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

func (s *Store) commit(batch []*writeReq) {
	// Renames into place become durable before the records naming the new paths.
	synced := map[string]bool{}
	for _, r := range batch {
		for _, d := range r.dirs {
			if synced[d] {
				continue
			}
			synced[d] = true
			if err := syncDir(d); err != nil {
				s.log().Error("fsync directory of received instances", "err", err)
			}
		}
	}
	now := time.Now()
	touched := map[string]*Study{}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, r := range batch {
			if r.done != nil {
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
		// The files are durable; the next Open rebuilds these records from them.
		s.log().Error("commit instance records", "err", err, "instances", len(batch))
	}
	s.ingestMu.Lock()
	for _, r := range batch {
		if r.done == nil && s.pending[r.inst.SOPInstanceUID] == r {
			delete(s.pending, r.inst.SOPInstanceUID)
		}
	}
	s.ingestMu.Unlock()
	s.afterInstances(touched)
	for _, r := range batch {
		if r.done != nil {
			close(r.done)
		}
	}
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

// Flush waits until every instance acknowledged so far has its record committed.
func (s *Store) Flush() {
	r := &writeReq{done: make(chan struct{})}
	s.writes <- r
	<-r.done
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
