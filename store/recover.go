package store

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sacrum-dev/sacrum/dimse"
)

// recoverReceived runs at Open on a receive directory of the SCP. A complete receive file (completion
// marker valid: the SCP may have answered success for it) is ingested like a new arrival; anything else
// there (partial or unused receive files, leftovers) was never acknowledged and is removed.
func (s *Store) recoverReceived(dir string, now time.Time) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("store: scan %s: %w", dir, err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.Type().IsRegular() && dimse.IsReceiveFile(e.Name()) {
			ok, err := dimse.ReceivedComplete(p)
			if err != nil {
				s.log().Warn("unreadable receive file removed", "path", p, "err", err)
			}
			if ok {
				if err := s.recoverFile(p, now); err != nil {
					return err
				}
				continue
			}
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("store: clean %s: %w", dir, err)
		}
	}
	return nil
}

// recoverFile ingests a complete receive file: moved into place (directories fsynced) and recorded,
// unless it is an identical duplicate or one of our own results.
func (s *Store) recoverFile(p string, now time.Time) error {
	info, err := readHeader(p)
	if err != nil {
		// The SCP answered C000 for it (the store could not parse it) or it was damaged.
		s.log().Error("complete receive file is not an instance; removed", "path", p, "err", err)
		return os.Remove(p)
	}
	if own, err := s.isOwnResult(info); err != nil {
		return err
	} else if own {
		return os.Remove(p)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	r := &writeReq{src: p, info: info, receive: true, inst: Instance{SOPInstanceUID: info.SOPInstanceUID,
		SOPClassUID: info.SOPClassUID, StudyUID: info.StudyUID, SeriesUID: info.SeriesUID,
		Path: instancePath(info), Received: fi.ModTime().UTC()}}
	dirs := &dirSet{}
	if err := s.place(r, map[string]*writeReq{}, dirs); err != nil {
		return fmt.Errorf("store: recover %s: %w", p, err)
	}
	if r.dup {
		return nil
	}
	if !s.cfg.NoSync {
		if err := dirs.sync(); err != nil {
			return fmt.Errorf("store: recover %s: %w", p, err)
		}
	}
	in := r.inst
	err = s.db.Update(func(tx *bolt.Tx) error {
		if _, err := applyInstance(tx, &in, info, now); err != nil {
			return err
		}
		return addEvent(tx, in.StudyUID, now, "recovered", "received instance recovered "+in.SOPInstanceUID)
	})
	if err != nil {
		return fmt.Errorf("store: record recovered %s: %w", p, err)
	}
	s.log().Info("received instance recovered", "sop_instance_uid", in.SOPInstanceUID, "study_uid", in.StudyUID)
	return nil
}
