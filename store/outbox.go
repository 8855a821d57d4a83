package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// maxPerAssociation bounds the files sent over one association.
const maxPerAssociation = 100

// outboxLoop sends due outbox entries until ctx is cancelled.
func (s *Store) outboxLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		if err := s.sendDue(ctx, &wg, time.Now()); err != nil {
			s.log().Error("outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wakeOut:
		}
	}
}

// sendDue expires entries older than the maximum age and starts one send per destination with due entries.
func (s *Store) sendDue(ctx context.Context, wg *sync.WaitGroup, now time.Time) error {
	dests := map[string]Destination{}
	for _, d := range s.cfg.Destinations {
		dests[d.Key()] = d
	}
	due := map[string][]OutboxEntry{}
	var fix [][]byte // entries to expire, cancel, or drop from the index
	// Scan read-only: an idle outbox must not cost a write transaction (and its fsync) per tick.
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktOutboxOpen).ForEach(func(k, _ []byte) error {
			var e OutboxEntry
			ok, err := getJSON(tx.Bucket(bktOutbox), k, &e)
			if err != nil {
				return err
			}
			_, known := dests[e.Dest]
			switch {
			case !ok || e.State != OutboxPending || !known || now.Sub(e.Created) > s.cfg.Outbox.MaxAge:
				fix = append(fix, append([]byte(nil), k...))
			case !now.Before(e.NextAttempt) && len(due[e.Dest]) < maxPerAssociation:
				due[e.Dest] = append(due[e.Dest], e)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(fix) > 0 {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for _, k := range fix {
				var e OutboxEntry
				ok, err := getJSON(tx.Bucket(bktOutbox), k, &e)
				if err != nil {
					return err
				}
				if !ok || e.State != OutboxPending {
					if err := tx.Bucket(bktOutboxOpen).Delete(k); err != nil {
						return err
					}
					continue
				}
				if _, known := dests[e.Dest]; !known {
					e.LastError = "destination no longer configured"
					if err := updateOutbox(tx, &e, OutboxCancelled); err != nil {
						return err
					}
					if err := s.checkDelivered(tx, e.StudyUID, now); err != nil {
						return err
					}
					continue
				}
				if err := s.expire(tx, &e, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for key, entries := range due {
		s.mu.Lock()
		busy := s.sending[key]
		if !busy {
			s.sending[key] = true
		}
		s.mu.Unlock()
		if busy {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.send(ctx, dests[key], entries)
			s.mu.Lock()
			delete(s.sending, key)
			s.mu.Unlock()
		}()
	}
	return nil
}

func (s *Store) expire(tx *bolt.Tx, e *OutboxEntry, now time.Time) error {
	e.LastError = fmt.Sprintf("not delivered within %s (%d attempts; last error: %s)", s.cfg.Outbox.MaxAge, e.Attempts, e.LastError)
	if err := updateOutbox(tx, e, OutboxExpired); err != nil {
		return err
	}
	st, err := getStudy(tx, e.StudyUID)
	if err != nil {
		return err
	}
	if st.State != StateReported || st.Job != e.Job {
		return nil
	}
	st.LastError = fmt.Sprintf("deliver %s to %s: %s", e.SOPInstanceUID, e.Dest, e.LastError)
	st.FailedStage = "deliver"
	if err := setState(tx, st, StateFailed, now, st.LastError); err != nil {
		return err
	}
	return putStudy(tx, st)
}

// send sends entries over one association and records every outcome. A failure status from the peer
// counts as a failure.
func (s *Store) send(ctx context.Context, d Destination, entries []OutboxEntry) {
	paths := make([]string, len(entries))
	for i, e := range entries {
		paths[i] = s.abs(e.Path)
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.Outbox.Timeout)
	results, sendErr := s.cfg.Sender.Send(sctx, d, paths)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: the entries stay pending and are retried after restart
	}
	now := time.Now()
	key := d.Key()
	err := s.db.Update(func(tx *bolt.Tx) error {
		studies := map[string]bool{}
		sent, failed, lastWhy := map[string]int{}, map[string][]string{}, map[string]string{}
		for i, e := range entries {
			k := outboxKey(e.StudyUID, e.ID)
			cur := OutboxEntry{}
			if ok, err := getJSON(tx.Bucket(bktOutbox), k, &cur); err != nil {
				return err
			} else if !ok || cur.State != OutboxPending {
				continue // superseded or cancelled meanwhile
			}
			studies[cur.StudyUID] = true
			cur.Attempts++
			var why string
			switch {
			case sendErr != nil:
				why = sendErr.Error()
			case i >= len(results):
				why = "no response for this file"
			case !results[i].OK():
				if results[i].Err != nil {
					why = results[i].Err.Error()
				} else {
					why = fmt.Sprintf("peer answered status 0x%04X", results[i].Status)
				}
				cur.LastStatus = results[i].Status
			}
			if why == "" {
				cur.SentAt, cur.LastError, cur.LastStatus = now.UTC(), "", results[i].Status
				if err := updateOutbox(tx, &cur, OutboxSent); err != nil {
					return err
				}
				s.metrics.outboxSends.WithLabelValues(key).Inc()
				sent[cur.StudyUID]++
				continue
			}
			s.metrics.outboxFailures.WithLabelValues(key).Inc()
			wait := backoff(cur.Attempts, s.cfg.Outbox.InitialBackoff, s.cfg.Outbox.MaxBackoff)
			cur.LastError, cur.NextAttempt = why, now.Add(wait).UTC()
			if err := updateOutbox(tx, &cur, OutboxPending); err != nil {
				return err
			}
			lastWhy[cur.StudyUID] = why
			failed[cur.StudyUID] = append(failed[cur.StudyUID], fmt.Sprintf("%s (attempt %d, next in %s): %s",
				cur.SOPInstanceUID, cur.Attempts, wait, why))
		}
		uids := make([]string, 0, len(studies))
		for uid := range studies {
			uids = append(uids, uid)
		}
		sort.Strings(uids)
		for _, uid := range uids {
			if n := sent[uid]; n > 0 {
				if err := addEvent(tx, uid, now, "deliver", fmt.Sprintf("sent %d result objects to %s", n, key)); err != nil {
					return err
				}
			}
			if f := failed[uid]; len(f) > 0 {
				msg := fmt.Sprintf("send to %s failed: %s", key, strings.Join(f, "; "))
				if err := addEvent(tx, uid, now, "deliver", msg); err != nil {
					return err
				}
				if err := s.noteDeliveryFailure(tx, uid, fmt.Sprintf("deliver to %s: %s", key, lastWhy[uid])); err != nil {
					return err
				}
			}
			if err := s.checkDelivered(tx, uid, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log().Error("record delivery", "destination", key, "err", err)
	}
}

// noteDeliveryFailure counts a failed delivery round on the study (shown by status as attempts and last error).
func (s *Store) noteDeliveryFailure(tx *bolt.Tx, uid, msg string) error {
	st, err := getStudy(tx, uid)
	if err != nil {
		return err
	}
	if st.State != StateReported {
		return nil
	}
	st.Attempts++
	st.LastError = msg
	st.FailedStage = "deliver"
	return putStudy(tx, st)
}

// checkDelivered marks a REPORTED study DELIVERED once no entry of its current results is pending.
func (s *Store) checkDelivered(tx *bolt.Tx, uid string, now time.Time) error {
	st, err := getStudy(tx, uid)
	if err != nil {
		return err
	}
	if st.State != StateReported {
		return nil
	}
	entries, err := studyOutbox(tx, uid)
	if err != nil {
		return err
	}
	n := 0
	for _, e := range entries {
		if e.Job != st.Job {
			continue
		}
		switch e.State {
		case OutboxPending, OutboxExpired:
			return nil
		case OutboxSent:
			n++
		}
	}
	st.DeliveredAt = now.UTC()
	st.LastError, st.FailedStage = "", ""
	if err := setState(tx, st, StateDelivered, now, fmt.Sprintf("%d result objects acknowledged by every destination", n)); err != nil {
		return err
	}
	return putStudy(tx, st)
}

// OutboxSummary counts outbox entries by state (for tests and status).
func (s *Store) OutboxSummary() (map[string]int, error) {
	out := map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktOutbox).ForEach(func(k, v []byte) error {
			var e OutboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out[e.State]++
			return nil
		})
	})
	return out, err
}
