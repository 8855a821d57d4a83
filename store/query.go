package store

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Summary is the queue overview served by GET /api/v1/studies and printed by sacrum status.
type Summary struct {
	Counts  map[State]int  `json:"counts"`
	Studies []StudySummary `json:"studies"`
}

// StudySummary is one study in the overview. Attempts and LastError belong to the current stage:
// pipeline runs until the study is REPORTED, delivery rounds afterwards.
type StudySummary struct {
	StudyUID      string          `json:"study_uid"`
	Accession     string          `json:"accession"`
	StudyDate     string          `json:"study_date"`
	PatientName   string          `json:"patient_name,omitempty"`
	State         State           `json:"state"`
	StateSince    time.Time       `json:"state_since"`
	Instances     int             `json:"instances"`
	Series        int             `json:"series"`
	Attempts      int             `json:"attempts"`
	LastError     string          `json:"last_error"`
	FirstReceived time.Time       `json:"first_received"`
	LastReceived  time.Time       `json:"last_received"`
	Runs          int             `json:"runs"`
	Results       []ResultSummary `json:"results"`
}

// ResultSummary is one result object and whether every destination has it.
type ResultSummary struct {
	SOPClassUID    string `json:"sop_class_uid"`
	SOPInstanceUID string `json:"sop_instance_uid"`
	Delivered      bool   `json:"delivered"`
}

// StudyDetail is everything about one study (GET /api/v1/studies/{uid}).
type StudyDetail struct {
	Study     StudySummary    `json:"study"`
	Series    []Series        `json:"series"`
	Instances []Instance      `json:"instances"`
	Events    []Event         `json:"events"`
	Results   []ResultObject  `json:"results"`
	Summary   json.RawMessage `json:"summary,omitempty"`
	Delivery  []OutboxEntry   `json:"delivery"`
	Jobs      []Job           `json:"jobs"`
}

// Summary lists studies (only those in state, if not empty), newest first. Patient names are
// included only with showPHI.
func (s *Store) Summary(state State, showPHI bool) (*Summary, error) {
	return summary(s.db, state, showPHI)
}

// Detail returns one study with its series, instances, events, results and delivery attempts.
func (s *Store) Detail(uid string, showPHI bool) (*StudyDetail, error) {
	return detail(s.db, uid, showPHI)
}

func (s *Store) stateCounts() (map[State]int, int, error) {
	counts := map[State]int{}
	pending := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		pending = tx.Bucket(bktOutboxOpen).Stats().KeyN
		return tx.Bucket(bktStudies).ForEach(func(k, v []byte) error {
			var st struct {
				State State `json:"state"`
			}
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			counts[st.State]++
			return nil
		})
	})
	return counts, pending, err
}

// Reader reads a store's database without the node: sacrum status uses it when no node answers.
type Reader struct{ db *bolt.DB }

// OpenReader opens <dataDir>/sacrum.db read-only. It fails after timeout when a running node holds the
// database.
func OpenReader(dataDir string, timeout time.Duration) (*Reader, error) {
	p := filepath.Join(dataDir, DBFile)
	db, err := bolt.Open(p, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", p, err)
	}
	return &Reader{db: db}, nil
}

// Summary is Store.Summary on a read-only database.
func (r *Reader) Summary(state State, showPHI bool) (*Summary, error) {
	return summary(r.db, state, showPHI)
}

// Detail is Store.Detail on a read-only database.
func (r *Reader) Detail(uid string, showPHI bool) (*StudyDetail, error) {
	return detail(r.db, uid, showPHI)
}

// Close closes the database.
func (r *Reader) Close() error { return r.db.Close() }

func summary(db *bolt.DB, state State, showPHI bool) (*Summary, error) {
	out := &Summary{Counts: map[State]int{}, Studies: []StudySummary{}}
	for _, st := range States {
		out.Counts[st] = 0
	}
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktStudies)
		if b == nil {
			return fmt.Errorf("store: database has no studies bucket")
		}
		return b.ForEach(func(k, v []byte) error {
			st := &Study{}
			if err := json.Unmarshal(v, st); err != nil {
				return fmt.Errorf("decode study %s: %w", k, err)
			}
			out.Counts[st.State]++
			if state != "" && st.State != state {
				return nil
			}
			sum, err := summarize(tx, st, showPHI)
			if err != nil {
				return err
			}
			out.Studies = append(out.Studies, *sum)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out.Studies, func(i, j int) bool {
		a, b := out.Studies[i], out.Studies[j]
		if !a.FirstReceived.Equal(b.FirstReceived) {
			return a.FirstReceived.After(b.FirstReceived)
		}
		return a.StudyUID < b.StudyUID
	})
	return out, nil
}

func summarize(tx *bolt.Tx, st *Study, showPHI bool) (*StudySummary, error) {
	sum := &StudySummary{StudyUID: st.UID, Accession: st.Accession, StudyDate: st.StudyDate, State: st.State,
		StateSince: st.StateSince, Instances: st.Instances, Series: st.Series, Attempts: st.Attempts,
		LastError: st.LastError, FirstReceived: st.FirstReceived, LastReceived: st.LastReceived, Runs: st.Runs,
		Results: []ResultSummary{}}
	if showPHI {
		sum.PatientName = strings.ReplaceAll(st.PatientName, "^", " ")
	}
	if len(st.Results) == 0 {
		return sum, nil
	}
	entries, err := studyOutbox(tx, st.UID)
	if err != nil {
		return nil, err
	}
	for _, r := range st.Results {
		rs := ResultSummary{SOPClassUID: r.SOPClassUID, SOPInstanceUID: r.SOPInstanceUID}
		sent, other := 0, 0
		for _, e := range entries {
			if e.Job == st.Job && e.SOPInstanceUID == r.SOPInstanceUID {
				if e.State == OutboxSent {
					sent++
				} else {
					other++
				}
			}
		}
		rs.Delivered = st.State == StateDelivered || (sent > 0 && other == 0)
		sum.Results = append(sum.Results, rs)
	}
	return sum, nil
}

func detail(db *bolt.DB, uid string, showPHI bool) (*StudyDetail, error) {
	d := &StudyDetail{Series: []Series{}, Instances: []Instance{}, Events: []Event{}, Results: []ResultObject{},
		Delivery: []OutboxEntry{}, Jobs: []Job{}}
	err := db.View(func(tx *bolt.Tx) error {
		st, err := getStudy(tx, uid)
		if err != nil {
			return err
		}
		sum, err := summarize(tx, st, showPHI)
		if err != nil {
			return err
		}
		d.Study = *sum
		d.Results = append(d.Results, st.Results...)
		d.Summary = st.Summary
		sb := tx.Bucket(bktSeries)
		for _, k := range prefixKeys(sb, []byte(uid+"\x00")) {
			var se Series
			if _, err := getJSON(sb, k, &se); err != nil {
				return err
			}
			d.Series = append(d.Series, se)
		}
		for _, k := range prefixKeys(tx.Bucket(bktByStudy), []byte(uid+"\x00")) {
			var in Instance
			if ok, err := getJSON(tx.Bucket(bktInstances), []byte(strings.TrimPrefix(string(k), uid+"\x00")), &in); err != nil {
				return err
			} else if ok {
				d.Instances = append(d.Instances, in)
			}
		}
		if d.Events, err = studyEvents(tx, uid); err != nil {
			return err
		}
		if d.Delivery, err = studyOutbox(tx, uid); err != nil {
			return err
		}
		return tx.Bucket(bktJobs).ForEach(func(k, v []byte) error {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return err
			}
			if j.StudyUID == uid {
				d.Jobs = append(d.Jobs, j)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if d.Events == nil {
		d.Events = []Event{}
	}
	if d.Delivery == nil {
		d.Delivery = []OutboxEntry{}
	}
	return d, nil
}

// Backup writes a consistent copy of the database to w (a hot backup; the node keeps running).
func (s *Store) Backup(w io.Writer) error {
	return s.db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
}

// Purge removes instances of studies delivered more than the retention time before now (Run calls it
// every minute).
func (s *Store) Purge(now time.Time) error {
	if s.cfg.Retention <= 0 {
		return nil
	}
	return s.purge(now)
}
