// Package store keeps what the node received and what it made of it: a bbolt database of instances,
// series, studies, jobs, outbox entries and a per-study event log, plus the instance files under
// <data_dir>/studies/<study>/<series>/<sop>.dcm and result objects under <data_dir>/results/.
//
// It implements dimse.StoreHandler (instances become durable before C-STORE success is sent), the study
// lifecycle RECEIVING → COMPLETE → QUEUED → PROCESSING → REPORTED → DELIVERED (plus RETRYING, FAILED,
// CANCELLED), a bounded worker pool that runs a Pipeline, and an outbox that sends result objects to
// every configured destination with exponential backoff.
//
// Crash safety: a received file is fsynced and renamed into place (directory fsynced) before success is
// answered; its database record is committed in batches shortly after. Open reconciles files and records,
// so a record lost to a crash is rebuilt from its file, studies that were PROCESSING go back to QUEUED,
// and undelivered outbox entries are retried.
//
// Imports: the standard library, go.etcd.io/bbolt, github.com/suyashkumar/dicom,
// github.com/prometheus/client_golang and dimse/ (for the handler contract and the SCU). It must not
// import pipeline/: the pipeline plugs in through the Pipeline interface.
package store
