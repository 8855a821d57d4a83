package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names.
var (
	bktMeta       = []byte("meta")
	bktInstances  = []byte("instances")   // SOP Instance UID → Instance
	bktByStudy    = []byte("by_study")    // study UID \x00 SOP Instance UID → series UID
	bktSeries     = []byte("series")      // study UID \x00 series UID → Series
	bktStudies    = []byte("studies")     // study UID → Study
	bktQueue      = []byte("queue")       // study UID → queued time (RFC 3339)
	bktJobs       = []byte("jobs")        // job id → Job
	bktOutbox     = []byte("outbox")      // study UID \x00 entry id → OutboxEntry
	bktOutboxOpen = []byte("outbox_open") // keys of pending outbox entries → nil
	bktEvents     = []byte("events")      // study UID → nested bucket: sequence → Event
	bktOwn        = []byte("own_results") // SOP Instance UID of our results → study UID
	bktClinical   = []byte("clinical")    // accession number → JSON object

	keySchema = []byte("schema_version")
)

// SchemaVersion is the database layout this code writes.
const SchemaVersion = 1

// migration upgrades the database from version i to i+1 (migrations()[i]).
type migration func(tx *bolt.Tx) error

// migrations is the hook for future layout changes: append a function, bump SchemaVersion.
func migrations() []migration {
	return []migration{
		// 0 → 1: the initial layout.
		func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bktInstances, bktByStudy, bktSeries, bktStudies, bktQueue, bktJobs,
				bktOutbox, bktOutboxOpen, bktEvents, bktOwn, bktClinical} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return fmt.Errorf("create bucket %s: %w", b, err)
				}
			}
			return nil
		},
	}
}

// migrate brings the database to SchemaVersion.
func migrate(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bktMeta)
		if err != nil {
			return err
		}
		v := 0
		if b := meta.Get(keySchema); b != nil {
			if len(b) != 8 {
				return fmt.Errorf("store: bad schema version record")
			}
			v = int(binary.BigEndian.Uint64(b))
		}
		if v > SchemaVersion {
			return fmt.Errorf("store: database schema version %d is newer than this program's %d", v, SchemaVersion)
		}
		ms := migrations()
		for ; v < SchemaVersion; v++ {
			if err := ms[v](tx); err != nil {
				return fmt.Errorf("store: migrate schema %d → %d: %w", v, v+1, err)
			}
		}
		return meta.Put(keySchema, u64(uint64(v)))
	})
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode record %q: %w", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func seriesKey(study, series string) []byte { return []byte(study + "\x00" + series) }

// ErrNotFound is returned for an unknown study.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when an action does not apply to the study's state.
var ErrConflict = errors.New("store: not allowed in this state")

func getStudy(tx *bolt.Tx, uid string) (*Study, error) {
	st := &Study{}
	ok, err := getJSON(tx.Bucket(bktStudies), []byte(uid), st)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("study %s: %w", uid, ErrNotFound)
	}
	return st, nil
}

func putStudy(tx *bolt.Tx, st *Study) error {
	return putJSON(tx.Bucket(bktStudies), []byte(st.UID), st)
}

// setState moves a study to a new state and logs the transition.
func setState(tx *bolt.Tx, st *Study, to State, now time.Time, msg string) error {
	from := st.State
	st.State = to
	st.StateSince = now
	if to != StateQueued {
		if err := tx.Bucket(bktQueue).Delete([]byte(st.UID)); err != nil {
			return err
		}
	} else {
		st.QueuedAt = now
		if err := tx.Bucket(bktQueue).Put([]byte(st.UID), []byte(now.UTC().Format(time.RFC3339Nano))); err != nil {
			return err
		}
	}
	text := fmt.Sprintf("%s → %s", from, to)
	if from == "" {
		text = string(to)
	}
	if msg != "" {
		text += ": " + msg
	}
	return addEvent(tx, st.UID, now, "state", text)
}

// addEvent appends to a study's event log.
func addEvent(tx *bolt.Tx, study string, now time.Time, typ, msg string) error {
	b, err := tx.Bucket(bktEvents).CreateBucketIfNotExists([]byte(study))
	if err != nil {
		return fmt.Errorf("event log of %s: %w", study, err)
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return putJSON(b, u64(seq), Event{Time: now.UTC(), Type: typ, Message: msg})
}

func studyEvents(tx *bolt.Tx, study string) ([]Event, error) {
	var out []Event
	b := tx.Bucket(bktEvents).Bucket([]byte(study))
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(k, v []byte) error {
		var e Event
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("decode event of %s: %w", study, err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

func outboxKey(study string, id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(study+"\x00"), id)
}

// studyOutbox lists a study's outbox entries (all jobs) in id order.
func studyOutbox(tx *bolt.Tx, study string) ([]OutboxEntry, error) {
	var out []OutboxEntry
	prefix := []byte(study + "\x00")
	c := tx.Bucket(bktOutbox).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var e OutboxEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("decode outbox entry of %s: %w", study, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// prefixKeys lists the keys of b that start with prefix.
func prefixKeys(b *bolt.Bucket, prefix []byte) [][]byte {
	var out [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, append([]byte(nil), k...))
	}
	return out
}
