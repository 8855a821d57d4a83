package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// reconcile runs at Open, before any instance is accepted.
func (s *Store) reconcile(now time.Time) error {
	// Runs cut short by the crash go back to the queue first; a rebuilt record of an instance that
	// arrived during such a run then reopens the study as it would have without the crash.
	err := s.db.Update(func(tx *bolt.Tx) error {
		var studies []*Study
		err := tx.Bucket(bktStudies).ForEach(func(k, v []byte) error {
			st := &Study{}
			if err := json.Unmarshal(v, st); err != nil {
				return fmt.Errorf("decode study %s: %w", k, err)
			}
			studies = append(studies, st)
			return nil
		})
		if err != nil {
			return err
		}
		for _, st := range studies {
			if st.State == StateProcessing {
				if err := finishJob(tx, st.Job, "interrupted", "node restarted", now); err != nil {
					return err
				}
				if err := setState(tx, st, StateQueued, now, "node restarted during processing"); err != nil {
					return err
				}
				if err := putStudy(tx, st); err != nil {
					return err
				}
			}
		}
		return s.removeOrphanResults(tx)
	})
	if err != nil {
		return fmt.Errorf("store: requeue interrupted runs: %w", err)
	}
	// Complete receive files may have been acknowledged before their rename into place was durable:
	// ingest them; files the SCP had not finished were not acknowledged: drop them.
	for _, d := range []string{s.TempDir(), s.IncomingDir()} {
		if err := s.recoverReceived(d, now); err != nil {
			return err
		}
	}
	if err := s.rebuildRecords(now); err != nil {
		return err
	}
	// Partial studies are kept; their stable timers continue from their last instance.
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktStudies).ForEach(func(k, v []byte) error {
			st := &Study{}
			if err := json.Unmarshal(v, st); err != nil {
				return fmt.Errorf("decode study %s: %w", k, err)
			}
			switch st.State {
			case StateReceiving:
				s.deadlines[st.UID] = st.LastReceived.Add(s.cfg.stableFor(st.CallingAE))
			case StateRetrying:
				s.retryAt[st.UID] = st.NextAttempt
			}
			return nil
		})
	})
}

// rebuildRecords gives every received file a record (records are committed in batches after success
// was answered, so a crash may lose the newest ones) and drops records whose file is gone.
func (s *Store) rebuildRecords(now time.Time) error {
	root := filepath.Join(s.dir, "studies")
	var missing []string
	err := s.db.View(func(tx *bolt.Tx) error {
		ib := tx.Bucket(bktInstances)
		return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if strings.HasSuffix(p, ".part") {
				return os.Remove(p)
			}
			name := strings.TrimSuffix(d.Name(), ".dcm")
			rel, _ := filepath.Rel(s.dir, p)
			var in Instance
			ok, err := getJSON(ib, []byte(name), &in)
			if err != nil {
				return err
			}
			if !ok || in.Path != filepath.ToSlash(rel) {
				missing = append(missing, p)
				return nil
			}
			if fi, err := d.Info(); err == nil && fi.Size() != in.Size {
				missing = append(missing, p)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("store: scan %s: %w", root, err)
	}
	for _, p := range missing {
		info, err := readFileInfo(p)
		if err != nil {
			// Only complete, parsed files are ever renamed here, so this is damage from outside.
			s.log().Error("unreadable instance file left in place", "path", p, "err", err)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.dir, p)
		in := Instance{SOPInstanceUID: info.SOPInstanceUID, SOPClassUID: info.SOPClassUID, StudyUID: info.StudyUID,
			SeriesUID: info.SeriesUID, Path: filepath.ToSlash(rel), Size: info.Size, SHA256: info.SHA256,
			Received: fi.ModTime().UTC()}
		err = s.db.Update(func(tx *bolt.Tx) error {
			if _, err := applyInstance(tx, &in, info, now); err != nil {
				return err
			}
			return addEvent(tx, in.StudyUID, now, "recovered", "record rebuilt from file "+in.SOPInstanceUID)
		})
		if err != nil {
			return fmt.Errorf("store: rebuild record of %s: %w", p, err)
		}
	}
	// Records whose file disappeared (removed by hand) are dropped so the counts stay true.
	return s.db.Update(func(tx *bolt.Tx) error {
		var gone []Instance
		err := tx.Bucket(bktInstances).ForEach(func(k, v []byte) error {
			var in Instance
			if err := json.Unmarshal(v, &in); err != nil {
				return fmt.Errorf("decode instance %s: %w", k, err)
			}
			if _, err := os.Stat(s.abs(in.Path)); errors.Is(err, os.ErrNotExist) {
				gone = append(gone, in)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, in := range gone {
			if err := unaccount(tx, &in); err != nil {
				return err
			}
			if err := tx.Bucket(bktInstances).Delete([]byte(in.SOPInstanceUID)); err != nil {
				return err
			}
			if err := addEvent(tx, in.StudyUID, now, "missing", "file of instance "+in.SOPInstanceUID+" is gone; record dropped"); err != nil {
				return err
			}
		}
		return nil
	})
}

// removeOrphanResults deletes result directories of runs that never committed.
func (s *Store) removeOrphanResults(tx *bolt.Tx) error {
	root := filepath.Join(s.dir, "results")
	studies, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, sd := range studies {
		jobs, err := os.ReadDir(filepath.Join(root, sd.Name()))
		if err != nil {
			return err
		}
		for _, jd := range jobs {
			var j Job
			id, ok := parseJobDir(jd.Name())
			keep := false
			if ok {
				found, err := getJSON(tx.Bucket(bktJobs), u64(id), &j)
				if err != nil {
					return err
				}
				keep = found && j.State == "done"
			}
			if !keep {
				if err := os.RemoveAll(filepath.Join(root, sd.Name(), jd.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func jobDir(study string, id uint64) string {
	return path.Join("results", study, fmt.Sprintf("job-%d", id))
}

func parseJobDir(name string) (uint64, bool) {
	var id uint64
	if _, err := fmt.Sscanf(name, "job-%d", &id); err != nil || fmt.Sprintf("job-%d", id) != name {
		return 0, false
	}
	return id, true
}

func finishJob(tx *bolt.Tx, id uint64, state, msg string, now time.Time) error {
	if id == 0 {
		return nil
	}
	b := tx.Bucket(bktJobs)
	var j Job
	ok, err := getJSON(b, u64(id), &j)
	if err != nil || !ok {
		return err
	}
	j.State, j.Error, j.Finished = state, msg, now.UTC()
	return putJSON(b, u64(id), &j)
}

// Run runs the scheduler (stable timers, retries, dispatch to the worker pool), the outbox and
// retention until ctx is cancelled. Call Close afterwards.
func (s *Store) Run(ctx context.Context) error {
	s.runWG.Add(2)
	go func() { defer s.runWG.Done(); s.outboxLoop(ctx) }()
	defer s.runWG.Done()
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	var lastPurge time.Time
	for {
		now := time.Now()
		if err := s.schedule(ctx, now); err != nil {
			s.log().Error("scheduler", "err", err)
		}
		if s.cfg.Retention > 0 && now.Sub(lastPurge) > time.Minute {
			lastPurge = now
			if err := s.purge(now); err != nil {
				s.log().Error("retention", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// schedule completes stable studies, requeues due retries and starts queued jobs on free workers.
func (s *Store) schedule(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	var due []string
	for uid, d := range s.deadlines {
		if !now.Before(d) {
			due = append(due, uid)
		}
	}
	s.mu.Unlock()
	sort.Strings(due)
	for _, uid := range due {
		if err := s.complete(uid, now); err != nil {
			return err
		}
	}
	if err := s.requeueRetries(now); err != nil {
		return err
	}
	return s.dispatch(ctx, now)
}

// complete moves a study that has been stable long enough from RECEIVING to COMPLETE and QUEUED.
func (s *Store) complete(uid string, now time.Time) error {
	s.Flush() // records of acknowledged instances decide LastReceived
	var next time.Time
	err := s.db.Update(func(tx *bolt.Tx) error {
		st, err := getStudy(tx, uid)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || st.State != StateReceiving {
			return err
		}
		stable := s.cfg.stableFor(st.CallingAE)
		if d := st.LastReceived.Add(stable); now.Before(d) {
			next = d
			return nil
		}
		msg := fmt.Sprintf("no instance for %s (%d instances, %d series)", stable, st.Instances, st.Series)
		if err := setState(tx, st, StateComplete, now, msg); err != nil {
			return err
		}
		if s.cfg.Pipeline == nil {
			if err := addEvent(tx, uid, now, "queue", "no pipeline configured; study stays COMPLETE"); err != nil {
				return err
			}
		} else if err := setState(tx, st, StateQueued, now, ""); err != nil {
			return err
		}
		return putStudy(tx, st)
	})
	if err != nil {
		return fmt.Errorf("complete study %s: %w", uid, err)
	}
	s.mu.Lock()
	if next.IsZero() {
		delete(s.deadlines, uid)
	} else {
		s.deadlines[uid] = next
	}
	s.mu.Unlock()
	return nil
}

func (s *Store) requeueRetries(now time.Time) error {
	s.mu.Lock()
	var due []string
	for uid, at := range s.retryAt {
		if !now.Before(at) {
			due = append(due, uid)
			delete(s.retryAt, uid)
		}
	}
	s.mu.Unlock()
	if len(due) == 0 {
		return nil
	}
	sort.Strings(due)
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, uid := range due {
			st, err := getStudy(tx, uid)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if st.State != StateRetrying {
				continue // reopened or cancelled meanwhile
			}
			st.NextAttempt = time.Time{}
			if err := setState(tx, st, StateQueued, now, fmt.Sprintf("attempt %d", st.Attempts+1)); err != nil {
				return err
			}
			if err := putStudy(tx, st); err != nil {
				return err
			}
		}
		return nil
	})
}

// queued lists QUEUED studies, oldest first.
func queued(tx *bolt.Tx) []string {
	type q struct{ uid, at string }
	var qs []q
	tx.Bucket(bktQueue).ForEach(func(k, v []byte) error {
		qs = append(qs, q{string(k), string(v)})
		return nil
	})
	sort.Slice(qs, func(i, j int) bool { return qs[i].at < qs[j].at || qs[i].at == qs[j].at && qs[i].uid < qs[j].uid })
	out := make([]string, len(qs))
	for i := range qs {
		out[i] = qs[i].uid
	}
	return out
}

// dispatch starts jobs for queued studies while workers are free.
func (s *Store) dispatch(ctx context.Context, now time.Time) error {
	if s.cfg.Pipeline == nil {
		return nil
	}
	for {
		s.mu.Lock()
		free := s.cfg.Workers - len(s.running)
		closed := s.closed
		s.mu.Unlock()
		if free <= 0 || closed || ctx.Err() != nil {
			return nil
		}
		var in *StudyInput
		var job Job
		// A write transaction fsyncs even when it changes nothing: look first.
		queuedAny := false
		s.db.View(func(tx *bolt.Tx) error {
			k, _ := tx.Bucket(bktQueue).Cursor().First()
			queuedAny = k != nil
			return nil
		})
		if !queuedAny {
			return nil
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			for _, uid := range queued(tx) {
				s.mu.Lock()
				_, busy := s.running[uid]
				s.mu.Unlock()
				if busy {
					continue // its cancelled run is still winding down
				}
				st, err := getStudy(tx, uid)
				if err != nil {
					return err
				}
				if st.State != StateQueued {
					if err := tx.Bucket(bktQueue).Delete([]byte(uid)); err != nil {
						return err
					}
					continue
				}
				id, err := tx.Bucket(bktJobs).NextSequence()
				if err != nil {
					return err
				}
				job = Job{ID: id, StudyUID: uid, Revision: st.Revision, State: "running", Started: now.UTC(), Dir: jobDir(uid, id)}
				if err := putJSON(tx.Bucket(bktJobs), u64(id), &job); err != nil {
					return err
				}
				st.Job = id
				if err := setState(tx, st, StateProcessing, now, fmt.Sprintf("job %d, attempt %d", id, st.Attempts+1)); err != nil {
					return err
				}
				if err := putStudy(tx, st); err != nil {
					return err
				}
				in, err = s.studyInput(tx, st, &job)
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("dispatch: %w", err)
		}
		if in == nil {
			return nil
		}
		jctx, cancel := context.WithTimeout(ctx, s.cfg.JobTimeout)
		s.mu.Lock()
		s.running[in.StudyUID] = cancel
		s.mu.Unlock()
		s.runWG.Add(1)
		go func() {
			defer s.runWG.Done()
			s.work(jctx, cancel, job, in)
		}()
	}
}

// studyInput assembles a pipeline run's input.
func (s *Store) studyInput(tx *bolt.Tx, st *Study, job *Job) (*StudyInput, error) {
	in := &StudyInput{StudyUID: st.UID, Accession: st.Accession, StudyDate: st.StudyDate, Job: job.ID,
		OutDir: s.abs(job.Dir)}
	for _, r := range st.Results {
		r.Path = s.abs(r.Path)
		in.Predecessors = append(in.Predecessors, r)
	}
	series := map[string]Series{}
	for _, k := range prefixKeys(tx.Bucket(bktSeries), []byte(st.UID+"\x00")) {
		var se Series
		if _, err := getJSON(tx.Bucket(bktSeries), k, &se); err != nil {
			return nil, err
		}
		series[se.SeriesUID] = se
	}
	for _, k := range prefixKeys(tx.Bucket(bktByStudy), []byte(st.UID+"\x00")) {
		sop := strings.TrimPrefix(string(k), st.UID+"\x00")
		var inst Instance
		if ok, err := getJSON(tx.Bucket(bktInstances), []byte(sop), &inst); err != nil || !ok {
			return nil, fmt.Errorf("instance %s of study %s: record missing (%v)", sop, st.UID, err)
		}
		se := series[inst.SeriesUID]
		in.Instances = append(in.Instances, InputInstance{Path: s.abs(inst.Path), SeriesUID: inst.SeriesUID,
			SOPClassUID: inst.SOPClassUID, SOPInstanceUID: inst.SOPInstanceUID, Modality: se.Modality,
			SeriesNumber: se.SeriesNumber, SeriesDesc: se.Description})
	}
	if st.Accession != "" {
		if v := tx.Bucket(bktClinical).Get([]byte(st.Accession)); v != nil {
			in.Clinical = append(json.RawMessage(nil), v...)
		}
	}
	return in, nil
}

// work runs one job and records its outcome.
func (s *Store) work(ctx context.Context, cancel context.CancelFunc, job Job, in *StudyInput) {
	defer cancel()
	start := time.Now()
	res, err := s.runPipeline(ctx, in)
	elapsed := time.Since(start)
	s.metrics.pipelineDuration.Observe(elapsed.Seconds())
	if res != nil {
		for _, st := range res.Stages {
			s.metrics.stageDuration.WithLabelValues(st.Stage).Observe(st.Duration.Seconds())
		}
	}
	if err == nil {
		err = checkResults(in.OutDir, res)
	}
	if err != nil {
		os.RemoveAll(in.OutDir)
	}
	now := time.Now()
	var discarded bool
	var nextRetry time.Time
	dbErr := s.db.Update(func(tx *bolt.Tx) error {
		st, err2 := getStudy(tx, job.StudyUID)
		if err2 != nil {
			return err2
		}
		if st.State != StateProcessing || st.Job != job.ID || st.Revision != job.Revision {
			discarded = true
			return finishJob(tx, job.ID, "discarded", fmt.Sprintf("study became %s during the run", st.State), now)
		}
		if err != nil {
			s.metrics.pipelineRuns.WithLabelValues("failed").Inc()
			if err := s.failRun(tx, st, job.ID, err, now); err != nil {
				return err
			}
			if st.State == StateRetrying {
				nextRetry = st.NextAttempt
			}
			return nil
		}
		s.metrics.pipelineRuns.WithLabelValues("ok").Inc()
		return s.report(tx, st, &job, res, now)
	})
	if dbErr != nil {
		s.log().Error("record job outcome", "study_uid", job.StudyUID, "job", job.ID, "err", dbErr)
	}
	if discarded || dbErr != nil {
		os.RemoveAll(in.OutDir)
	}
	s.mu.Lock()
	delete(s.running, job.StudyUID)
	if dbErr == nil && !nextRetry.IsZero() {
		s.retryAt[job.StudyUID] = nextRetry
	}
	s.mu.Unlock()
	poke(s.wake)
	poke(s.wakeOut)
}

// runPipeline calls the pipeline, turning a panic into an error and not waiting for a pipeline that
// ignores its context for long after the timeout.
func (s *Store) runPipeline(ctx context.Context, in *StudyInput) (*Results, error) {
	if err := os.MkdirAll(in.OutDir, 0o750); err != nil {
		return nil, err
	}
	type out struct {
		res *Results
		err error
	}
	ch := make(chan out, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- out{nil, fmt.Errorf("pipeline panic: %v", p)}
			}
		}()
		r, err := s.cfg.Pipeline.Process(ctx, in)
		ch <- out{r, err}
	}()
	select {
	case o := <-ch:
		if o.err == nil && ctx.Err() != nil {
			o.err = ctx.Err()
		}
		return o.res, o.err
	case <-ctx.Done():
		select {
		case o := <-ch:
			if o.err == nil {
				o.err = ctx.Err()
			}
			return o.res, o.err
		case <-time.After(5 * time.Second):
			return nil, fmt.Errorf("pipeline did not stop after %w", ctx.Err())
		}
	}
}

// checkResults verifies that every result object is a file inside the job directory and fsyncs them.
func checkResults(dir string, res *Results) error {
	if res == nil {
		return errors.New("pipeline returned no results")
	}
	for _, o := range res.Objects {
		rel, err := filepath.Rel(dir, o.Path)
		if err != nil || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
			return fmt.Errorf("result %s is outside the job directory %s", o.Path, dir)
		}
		if !validUID(o.SOPInstanceUID) || o.SOPClassUID == "" {
			return fmt.Errorf("result %s: bad SOP Class/Instance UID %q/%q", o.Path, o.SOPClassUID, o.SOPInstanceUID)
		}
		f, err := os.Open(o.Path)
		if err != nil {
			return fmt.Errorf("result object: %w", err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("fsync result %s: %w", o.Path, err)
		}
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return err
	}
	return syncDir(filepath.Dir(filepath.Dir(dir)))
}

func (s *Store) failRun(tx *bolt.Tx, st *Study, job uint64, runErr error, now time.Time) error {
	if err := finishJob(tx, job, "failed", runErr.Error(), now); err != nil {
		return err
	}
	st.Attempts++
	st.LastError = runErr.Error()
	st.FailedStage = "process"
	if st.Attempts >= s.cfg.MaxAttempts {
		if err := setState(tx, st, StateFailed, now, fmt.Sprintf("attempt %d of %d: %v", st.Attempts, s.cfg.MaxAttempts, runErr)); err != nil {
			return err
		}
		return putStudy(tx, st)
	}
	wait := backoff(st.Attempts, s.cfg.RetryBackoff, 16*s.cfg.RetryBackoff)
	st.NextAttempt = now.Add(wait)
	if err := setState(tx, st, StateRetrying, now, fmt.Sprintf("attempt %d failed, next in %s: %v", st.Attempts, wait, runErr)); err != nil {
		return err
	}
	return putStudy(tx, st)
}

// report records a successful run: its results replace the previous ones, and the outbox gets one
// entry per result object and destination.
func (s *Store) report(tx *bolt.Tx, st *Study, job *Job, res *Results, now time.Time) error {
	if err := finishJob(tx, job.ID, "done", "", now); err != nil {
		return err
	}
	if len(res.Stages) > 0 {
		// The per-stage timings go into the study's event log too, for admins reading one study.
		var b strings.Builder
		for i, stg := range res.Stages {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %d ms", stg.Stage, stg.Duration.Milliseconds())
		}
		if err := addEvent(tx, st.UID, now, "stages", b.String()); err != nil {
			return err
		}
	}
	// Undelivered results of an earlier run are superseded by this run's.
	old, err := studyOutbox(tx, st.UID)
	if err != nil {
		return err
	}
	for _, e := range old {
		if e.State == OutboxPending || e.State == OutboxExpired {
			if err := updateOutbox(tx, &e, OutboxSuperseded); err != nil {
				return err
			}
		}
	}
	var objs []ResultObject
	for _, o := range res.Objects {
		rel, _ := filepath.Rel(s.dir, o.Path)
		o.Path = filepath.ToSlash(rel)
		objs = append(objs, o)
		if err := tx.Bucket(bktOwn).Put([]byte(o.SOPInstanceUID), []byte(st.UID)); err != nil {
			return err
		}
	}
	replaced := len(st.Results)
	st.Results, st.Summary, st.ResultsSince = objs, res.Summary, now.UTC()
	st.Runs++
	st.Attempts, st.LastError, st.FailedStage, st.NextAttempt = 0, "", "", time.Time{}
	msg := fmt.Sprintf("job %d made %d result objects", job.ID, len(objs))
	if replaced > 0 {
		msg += fmt.Sprintf(", replacing %d from the previous run", replaced)
	}
	if err := setState(tx, st, StateReported, now, msg); err != nil {
		return err
	}
	ob := tx.Bucket(bktOutbox)
	for _, d := range s.cfg.Destinations {
		for _, o := range objs {
			id, err := ob.NextSequence()
			if err != nil {
				return err
			}
			e := OutboxEntry{ID: id, StudyUID: st.UID, Job: job.ID, Dest: d.Key(), Path: o.Path,
				SOPClassUID: o.SOPClassUID, SOPInstanceUID: o.SOPInstanceUID, State: OutboxPending,
				Created: now.UTC(), NextAttempt: now.UTC()}
			if err := updateOutbox(tx, &e, OutboxPending); err != nil {
				return err
			}
		}
	}
	if len(s.cfg.Destinations) == 0 || len(objs) == 0 {
		st.DeliveredAt = now.UTC()
		if err := setState(tx, st, StateDelivered, now, "nothing to send (no destinations configured or no result objects)"); err != nil {
			return err
		}
	}
	return putStudy(tx, st)
}

// updateOutbox stores an entry with a new state and keeps the index of pending entries.
func updateOutbox(tx *bolt.Tx, e *OutboxEntry, state string) error {
	e.State = state
	k := outboxKey(e.StudyUID, e.ID)
	if state == OutboxPending {
		if err := tx.Bucket(bktOutboxOpen).Put(k, nil); err != nil {
			return err
		}
	} else if err := tx.Bucket(bktOutboxOpen).Delete(k); err != nil {
		return err
	}
	return putJSON(tx.Bucket(bktOutbox), k, e)
}

// Retry queues a study again: a study whose delivery failed gets its expired outbox entries back,
// any other study not currently being received or processed is processed again.
func (s *Store) Retry(uid string) error {
	now := time.Now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		st, err := getStudy(tx, uid)
		if err != nil {
			return err
		}
		switch st.State {
		case StateReceiving, StateQueued, StateProcessing:
			return fmt.Errorf("study %s is %s: %w", uid, st.State, ErrConflict)
		}
		st.Attempts, st.NextAttempt = 0, time.Time{}
		if st.State == StateFailed && st.FailedStage == "deliver" && len(st.Results) > 0 {
			entries, err := studyOutbox(tx, uid)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if e.Job == st.Job && (e.State == OutboxExpired || e.State == OutboxCancelled) {
					e.Attempts, e.Created, e.NextAttempt = 0, now.UTC(), now.UTC()
					if err := updateOutbox(tx, &e, OutboxPending); err != nil {
						return err
					}
				}
			}
			st.FailedStage = ""
			if err := setState(tx, st, StateReported, now, "delivery retried by administrator"); err != nil {
				return err
			}
			return putStudy(tx, st)
		}
		st.FailedStage = ""
		if err := setState(tx, st, StateQueued, now, "retried by administrator"); err != nil {
			return err
		}
		return putStudy(tx, st)
	})
	if err == nil {
		poke(s.wake)
		poke(s.wakeOut)
	}
	return err
}

// Cancel stops a study: it leaves the queue, its running job is cancelled and its pending outbox
// entries are dropped. New instances reopen it.
func (s *Store) Cancel(uid string) error {
	now := time.Now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		st, err := getStudy(tx, uid)
		if err != nil {
			return err
		}
		if st.State == StateCancelled || st.State == StateDelivered {
			return fmt.Errorf("study %s is %s: %w", uid, st.State, ErrConflict)
		}
		entries, err := studyOutbox(tx, uid)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.State == OutboxPending {
				if err := updateOutbox(tx, &e, OutboxCancelled); err != nil {
					return err
				}
			}
		}
		if st.State == StateProcessing {
			if err := finishJob(tx, st.Job, "cancelled", "cancelled by administrator", now); err != nil {
				return err
			}
		}
		if err := setState(tx, st, StateCancelled, now, "cancelled by administrator"); err != nil {
			return err
		}
		return putStudy(tx, st)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.deadlines, uid)
	if cancel, ok := s.running[uid]; ok {
		cancel()
	}
	s.mu.Unlock()
	return nil
}

// PutClinical stores the clinical variables (a JSON object) of an accession number for the pipeline.
func (s *Store) PutClinical(accession string, v json.RawMessage) error {
	var obj map[string]any
	if err := json.Unmarshal(v, &obj); err != nil {
		return fmt.Errorf("clinical data of %s: want a JSON object: %w", accession, err)
	}
	if accession == "" || len(accession) > 64 {
		return fmt.Errorf("clinical data: bad accession number")
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktClinical).Put([]byte(accession), append([]byte(nil), v...))
	})
}

// Clinical returns the stored clinical variables of an accession number (nil if none).
func (s *Store) Clinical(accession string) (json.RawMessage, error) {
	var out json.RawMessage
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bktClinical).Get([]byte(accession)); v != nil {
			out = append(json.RawMessage(nil), v...)
		}
		return nil
	})
	return out, err
}

// purge removes the instances of studies delivered longer than the retention time ago; the study
// record, its results and its event log stay.
func (s *Store) purge(now time.Time) error {
	var uids []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktStudies).ForEach(func(k, v []byte) error {
			st := &Study{}
			if err := json.Unmarshal(v, st); err != nil {
				return err
			}
			if st.State == StateDelivered && !st.Purged && now.Sub(st.DeliveredAt) >= s.cfg.Retention {
				uids = append(uids, st.UID)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, uid := range uids {
		if err := s.purgeStudy(uid, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) purgeStudy(uid string, now time.Time) error {
	s.ingestMu.Lock() // no instance of this study may be moved in while its directory goes
	defer s.ingestMu.Unlock()
	return s.db.Update(func(tx *bolt.Tx) error {
		st, err := getStudy(tx, uid)
		if err != nil {
			return err
		}
		if st.State != StateDelivered {
			return nil
		}
		n := 0
		for _, k := range prefixKeys(tx.Bucket(bktByStudy), []byte(uid+"\x00")) {
			sop := strings.TrimPrefix(string(k), uid+"\x00")
			if err := tx.Bucket(bktInstances).Delete([]byte(sop)); err != nil {
				return err
			}
			if err := tx.Bucket(bktByStudy).Delete(k); err != nil {
				return err
			}
			n++
		}
		for _, k := range prefixKeys(tx.Bucket(bktSeries), []byte(uid+"\x00")) {
			if err := tx.Bucket(bktSeries).Delete(k); err != nil {
				return err
			}
		}
		if err := os.RemoveAll(filepath.Join(s.dir, "studies", uid)); err != nil {
			return err
		}
		st.Purged = true
		st.Instances, st.Series, st.Bytes = 0, 0, 0
		if err := addEvent(tx, uid, now, "purged", fmt.Sprintf("%d instances removed after retention %s", n, s.cfg.Retention)); err != nil {
			return err
		}
		return putStudy(tx, st)
	})
}
