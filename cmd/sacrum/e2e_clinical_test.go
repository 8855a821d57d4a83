package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/pipeline/report"
	"github.com/sacrum-dev/sacrum/store"
)

// TestClinicalWait: a complete study waits up to pipeline.clinical_wait for its clinical inputs; values PUT
// through the admin API during the wait are used (DLRC), and without them the run ends after the wait with
// the DLR-only variant, which the summary and the SR state.
func TestClinicalWait(t *testing.T) {
	requireModels(t)
	dest := startDestination(t, func(dir string) dimse.StoreHandler { return dimse.DirHandler{Dir: dir, NoSync: true} })
	node := startNode(t, fmt.Sprintf(`
node:
  ae_title: SACRUM
  allow: [E2E]
store:
  data_dir: %%DATA%%
  stable_seconds: 0.5
admin:
  listen: %%ADMIN%%
  token: e2e-token
queue:
  pipeline: analysis
  max_attempts: 1
destinations:
  - {ae_title: PACS, host: 127.0.0.1, port: %d}
pipeline:
  clinical_wait: 6s
`, dest))

	// Clinical inputs arrive during the wait.
	mr, st := e2ePatient(t, 31)
	send(t, node.addr, mr)
	node.waitState(t, st.Record.StudyUID, 30*time.Second, store.StateProcessing)
	time.Sleep(time.Second)
	r := st.Record
	body, _ := json.Marshal(map[string]any{"age": r.Age, "sex": r.Sex, "hla_b27": r.HLAB27, "disease_duration_y": r.DiseaseDurationY,
		"crp_mg_l": r.CRP, "esr_mm_h": r.ESR, "basdai": r.BASDAI, "asdas_crp": r.ASDASCRP, "basfi": r.BASFI})
	req, _ := http.NewRequest(http.MethodPut, "http://"+node.admin+"/api/v1/clinical/"+r.Accession, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer e2e-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT clinical: %s", resp.Status)
	}
	node.waitState(t, r.StudyUID, 30*time.Second, store.StateDelivered)
	if v, wait := variantAndWait(t, node, r.StudyUID); v != "DLRC" || wait > 5500*time.Millisecond {
		t.Errorf("inputs during the wait: variant %s after waiting %s", v, wait)
	}

	// No clinical inputs: DLR-only after the whole wait.
	mr, st = e2ePatient(t, 32)
	send(t, node.addr, mr)
	node.waitState(t, st.Record.StudyUID, 30*time.Second, store.StateDelivered)
	if v, wait := variantAndWait(t, node, st.Record.StudyUID); v != "DLR-only" || wait < 5900*time.Millisecond {
		t.Errorf("no inputs: variant %s after waiting %s", v, wait)
	}
}

// variantAndWait reads the study summary: the ASAS40 variant (checked against the SR) and the time from the
// start of the run to the end of the clinical wait (the wait is counted from the start of the run).
func variantAndWait(t *testing.T, n *e2eNode, uid string) (string, time.Duration) {
	t.Helper()
	d := n.detail(t, uid)
	var sum struct {
		Predictions []struct {
			Variant         string   `json:"variant"`
			MissingClinical []string `json:"missing_clinical"`
		} `json:"predictions"`
		Stages []struct {
			Stage string  `json:"stage"`
			MS    float64 `json:"ms"`
		} `json:"stages"`
	}
	if err := json.Unmarshal(d.Summary, &sum); err != nil {
		t.Fatal(err)
	}
	var wait time.Duration
	for _, s := range sum.Stages {
		wait += time.Duration(s.MS * float64(time.Millisecond))
		if s.Stage == "clinical_wait" {
			break
		}
	}
	for _, o := range d.Results {
		if o.SOPClassUID == report.ComprehensiveSR3DStorage {
			sr, err := report.ReadSR(filepath.Join(n.dataDir, o.Path))
			if err != nil {
				t.Fatal(err)
			}
			if sr.Predictions[0].Variant != sum.Predictions[0].Variant {
				t.Errorf("SR variant %s, summary %s", sr.Predictions[0].Variant, sum.Predictions[0].Variant)
			}
		}
	}
	if sum.Predictions[0].Variant == "DLR-only" && len(sum.Predictions[0].MissingClinical) == 0 {
		t.Error("DLR-only without the missing inputs named")
	}
	return sum.Predictions[0].Variant, wait
}
