package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// State is a study's lifecycle state.
type State string

// Study states. RECEIVING → COMPLETE (no instance for the stable time) → QUEUED → PROCESSING → REPORTED
// (results made, outbox filled) → DELIVERED (every destination acknowledged every result object).
// A failed run goes to RETRYING (backoff, then QUEUED) until the attempts are used up, then FAILED.
// CANCELLED is set by an administrator. New instances reopen any state back to RECEIVING.
const (
	StateReceiving  State = "RECEIVING"
	StateComplete   State = "COMPLETE"
	StateQueued     State = "QUEUED"
	StateProcessing State = "PROCESSING"
	StateReported   State = "REPORTED"
	StateDelivered  State = "DELIVERED"
	StateRetrying   State = "RETRYING"
	StateFailed     State = "FAILED"
	StateCancelled  State = "CANCELLED"
)

// States lists every state in lifecycle order (for tables and metrics).
var States = []State{StateReceiving, StateComplete, StateQueued, StateProcessing, StateReported,
	StateDelivered, StateRetrying, StateFailed, StateCancelled}

// ParseState validates a state name.
func ParseState(s string) (State, error) {
	for _, st := range States {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("store: unknown state %q", s)
}

// Pipeline turns a complete study into result objects. The real pipeline lives in pipeline/; store only
// calls this interface. Process must write its Part 10 result files under in.OutDir.
type Pipeline interface {
	Process(ctx context.Context, in *StudyInput) (*Results, error)
}

// StudyInput is what a pipeline run gets.
type StudyInput struct {
	StudyUID     string
	Accession    string
	StudyDate    string
	Instances    []InputInstance
	Clinical     json.RawMessage // JSON object stored by PUT /api/v1/clinical/{accession}; nil if none
	Predecessors []ResultObject  // results of the previous run of this study (the new SR names them)
	OutDir       string          // empty directory for the result files
	Job          uint64          // job number (unique per database)
}

// InputInstance is one received instance of the study.
type InputInstance struct {
	Path           string
	SeriesUID      string
	SOPClassUID    string
	SOPInstanceUID string
	Modality       string
	SeriesNumber   string
	SeriesDesc     string
}

// Results is what a pipeline run made.
type Results struct {
	Objects []ResultObject  // Part 10 files under StudyInput.OutDir
	Summary json.RawMessage // JSON summary shown by the API; may be nil
	Stages  []StageTime     // per-stage durations for /metrics
}

// StageTime is the duration of one pipeline stage.
type StageTime struct {
	Stage    string
	Duration time.Duration
}

// ResultObject is one result object (SR, SEG, SC) made by a run.
type ResultObject struct {
	Path           string `json:"path"`
	SOPClassUID    string `json:"sop_class_uid"`
	SOPInstanceUID string `json:"sop_instance_uid"`
	SeriesUID      string `json:"series_uid,omitempty"`
}

// Instance is the record of one received instance, keyed by SOP Instance UID.
type Instance struct {
	SOPInstanceUID string    `json:"sop_instance_uid"`
	SOPClassUID    string    `json:"sop_class_uid"`
	StudyUID       string    `json:"study_uid"`
	SeriesUID      string    `json:"series_uid"`
	Path           string    `json:"path"` // relative to the data directory
	Size           int64     `json:"size"`
	SHA256         string    `json:"sha256"`
	Received       time.Time `json:"received"`
	CallingAE      string    `json:"calling_ae"`
}

// Series is the record of one series, keyed by study UID and series UID.
type Series struct {
	StudyUID     string    `json:"study_uid"`
	SeriesUID    string    `json:"series_uid"`
	Modality     string    `json:"modality"`
	SeriesNumber string    `json:"series_number"`
	Description  string    `json:"description"`
	Instances    int       `json:"instances"`
	Bytes        int64     `json:"bytes"`
	LastReceived time.Time `json:"last_received"`
}

// Study is the record of one study, keyed by Study Instance UID.
type Study struct {
	UID           string    `json:"study_uid"`
	Accession     string    `json:"accession"`
	StudyDate     string    `json:"study_date"`
	PatientName   string    `json:"patient_name,omitempty"` // shown only with show_phi
	State         State     `json:"state"`
	StateSince    time.Time `json:"state_since"`
	Instances     int       `json:"instances"`
	Series        int       `json:"series"`
	Bytes         int64     `json:"bytes"`
	FirstReceived time.Time `json:"first_received"`
	LastReceived  time.Time `json:"last_received"`
	CallingAE     string    `json:"calling_ae"` // of the latest instance; selects the stable time
	// Revision counts instance changes; a run whose revision is stale when it ends is discarded.
	Revision     uint64          `json:"revision"`
	Attempts     int             `json:"attempts"`
	LastError    string          `json:"last_error,omitempty"`
	FailedStage  string          `json:"failed_stage,omitempty"` // "process" or "deliver"
	NextAttempt  time.Time       `json:"next_attempt,omitzero"`
	Job          uint64          `json:"job,omitempty"` // current or last job
	Runs         int             `json:"runs"`          // pipeline runs that produced results
	Results      []ResultObject  `json:"results,omitempty"`
	Summary      json.RawMessage `json:"summary,omitempty"`
	DeliveredAt  time.Time       `json:"delivered_at,omitzero"`
	Purged       bool            `json:"purged,omitempty"`
	QueuedAt     time.Time       `json:"queued_at,omitzero"`
	ResultsSince time.Time       `json:"results_since,omitzero"`
}

// Job is one pipeline run of a study.
type Job struct {
	ID       uint64    `json:"id"`
	StudyUID string    `json:"study_uid"`
	Revision uint64    `json:"revision"`
	State    string    `json:"state"` // running, done, failed, discarded, interrupted, cancelled
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	Error    string    `json:"error,omitempty"`
	Dir      string    `json:"dir"` // results directory relative to the data directory
}

// Outbox entry states.
const (
	OutboxPending    = "pending"
	OutboxSent       = "sent"
	OutboxExpired    = "expired"
	OutboxSuperseded = "superseded"
	OutboxCancelled  = "cancelled"
)

// OutboxEntry is one result object to send to one destination.
type OutboxEntry struct {
	ID             uint64    `json:"id"`
	StudyUID       string    `json:"study_uid"`
	Job            uint64    `json:"job"`
	Dest           string    `json:"dest"` // Destination.Key()
	Path           string    `json:"path"` // relative to the data directory
	SOPClassUID    string    `json:"sop_class_uid"`
	SOPInstanceUID string    `json:"sop_instance_uid"`
	State          string    `json:"state"`
	Attempts       int       `json:"attempts"`
	LastError      string    `json:"last_error,omitempty"`
	LastStatus     uint16    `json:"last_status,omitempty"`
	Created        time.Time `json:"created"`
	NextAttempt    time.Time `json:"next_attempt"`
	SentAt         time.Time `json:"sent_at,omitzero"`
}

// Event is one entry of a study's append-only event log.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Message string    `json:"message"`
}
