// Package store keeps what the node received and what it made of it: a bbolt database of instances,
// series, studies, jobs, outbox entries and a per-study event log, plus the instance files under
// <data_dir>/studies/<study>/<series>/<sop>.dcm and result objects under <data_dir>/results/.
//
// It implements dimse.StoreHandler (instances become durable before C-STORE success is sent), the study
// lifecycle RECEIVING → COMPLETE → QUEUED → PROCESSING → REPORTED → DELIVERED (plus RETRYING, FAILED,
// CANCELLED), a bounded worker pool that runs a Pipeline, and an outbox that sends result objects to
// every configured destination with exponential backoff.
//
// Crash safety: the SCP answers success once the received file is durable in its receive directory
// (one fsync: a pre-created file with a completion marker, see dimse.ReceivedComplete); on the response
// path the store only parses and checks the header. Its batch writer, off the response path, hashes
// the files, moves them into place, fsyncs the directories and then commits the records (group
// commit), so a record always names a durable file. Open ingests complete receive
// files a crash left behind and removes partial ones, rebuilds records lost to a crash from their files,
// sends studies that were PROCESSING back to QUEUED, and retries undelivered outbox entries.
//
// Imports: the standard library, go.etcd.io/bbolt, github.com/suyashkumar/dicom,
// github.com/prometheus/client_golang and dimse/ (for the handler contract and the SCU). It must not
// import pipeline/: the pipeline plugs in through the Pipeline interface.
package store
