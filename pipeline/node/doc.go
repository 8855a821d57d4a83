// Package node is the pipeline `sacrum serve` runs for each complete study (it implements store.Pipeline):
//
//	StudyInput files (without our own result objects routed back: report.IsOwnObject)
//	→ study.Analyzer: series selection, volumes, label map (model or provided SEG), radiomics + deep features
//	→ clinical inputs (CSV folder and the admin API's JSON; wait up to clinical_wait for missing ones)
//	→ learn.Bundle.Predict for every endpoint (ASAS40, ASAS20): DLRC, or DLR-only when a clinical input the
//	  bundle needs is missing (the SR, card and summary say so and name the missing inputs)
//	→ top SHAP contributions, class-activation heat map Σ_k w_k·A_k of the first endpoint's (ASAS40) DLR score
//	  over its deep features (w_k = LASSO coefficient / training SD; none when the score uses no deep feature)
//	→ report.Write: SR (naming the previous run's SR as predecessor), SEG and result card in StudyInput.OutDir
//	→ store.Results with the objects, a JSON summary and per-stage durations (store puts them in /metrics).
//
// # Clinical inputs
//
// Two sources, merged per accession number: every *.csv file in Config.ClinicalCSVDir with an "accession"
// column (later files by name override earlier ones; clinical.csv of `sacrum synth` can be dropped there as it
// is), overridden by the JSON object stored with PUT /api/v1/clinical/{accession}. Values are encoded by the
// bundle (learn.Bundle.EncodeClinical: numbers, categorical levels such as sex F/M); a value that is present
// but unreadable fails the run with a message naming the variable.
//
// Waiting is done inside Process, after the imaging (so the wait overlaps nothing the node could do
// earlier): while a clinical input is missing, the sources are read again every ClinicalPoll until
// ClinicalWait after the run started, then the DLR-only variant is used. The store's worker is busy while a
// study waits, so queue.workers bounds how many studies can wait at once, and queue.job_timeout must exceed
// clinical_wait. Config.Clinical lets the pipeline read the store's clinical bucket again during the wait
// (StudyInput.Clinical is a snapshot taken when the job started).
//
// Imports: the standard library, github.com/suyashkumar/dicom (patient module and own-object check),
// pipeline/image, pipeline/dcmread, pipeline/volume, pipeline/study, pipeline/learn, pipeline/report and store (for the
// Pipeline interface and its types; store must not import pipeline/).
package node
