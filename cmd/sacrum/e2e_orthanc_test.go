package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/report"
	"github.com/sacrum-dev/sacrum/store"
)

// routeMR is the usual site routing: Orthanc forwards every MR instance to sacrum as it arrives (one
// association per instance); results (SR, SEG, OT) stay in Orthanc.
const routeMR = `
function OnStoredInstance(instanceId, tags, metadata, origin)
  if tags['Modality'] == 'MR' then
    SendToModality(instanceId, 'sacrum')
  end
end
`

// TestOrthancEndToEnd is acceptance 2 of issue 8: a synthetic study stored into Orthanc is routed to sacrum,
// whose SR, SEG and result card come back into the same study; our own objects routed back are ignored;
// sending the study again adds no SR; an instance added later gives one new SR naming its predecessor.
func TestOrthancEndToEnd(t *testing.T) {
	requireModels(t)
	mr, st := e2ePatient(t, 11)
	orthancPort := loopbackPort(t)
	node := startNode(t, fmt.Sprintf(`
node:
  ae_title: SACRUM
  allow: [ORTHANC@127.0.0.1]
store:
  data_dir: %%DATA%%
  stable_seconds: 2
admin:
  listen: %%ADMIN%%
  token: e2e-token
queue:
  pipeline: analysis
  max_attempts: 1
  outbox_initial_backoff: 1s
destinations:
  - {ae_title: ORTHANC, host: 127.0.0.1, port: %d}
pipeline:
  clinical_csv_dir: %s
`, orthancPort, clinicalDir(t, st)))
	o := startOrthanc(t, orthancPort, map[string][3]any{"sacrum": {"SACRUM", "127.0.0.1", node.port()}}, routeMR)
	uid := st.Record.StudyUID

	// 1. The study goes in; results come back into the same Orthanc study.
	study := o.upload(t, mr)
	s := node.waitState(t, uid, 90*time.Second, store.StateDelivered, store.StateFailed)
	if s.State != store.StateDelivered || s.Instances != len(mr) || s.Runs != 1 || len(s.Results) != 3 {
		t.Fatalf("study %+v: want DELIVERED, %d instances, one run with 3 results", s, len(mr))
	}
	mods := byModality(o.series(t, study))
	if len(mods["MR"]) != len(mr) || len(mods["SR"]) != 1 || len(mods["SEG"]) != 1 || len(mods["OT"]) != 1 {
		t.Fatalf("Orthanc study holds %v instances per modality, want %d MR and one SR, SEG and OT", counts(mods), len(mr))
	}
	sr1, err := report.ReadSR(o.file(t, mods["SR"][0]))
	if err != nil {
		t.Fatal(err)
	}
	if sr1.StudyInstanceUID != uid || len(sr1.Predictions) != 2 || len(sr1.Predecessors) != 0 {
		t.Fatalf("first SR: study %s, %d predictions, predecessors %v", sr1.StudyInstanceUID, len(sr1.Predictions), sr1.Predecessors)
	}
	for _, p := range sr1.Predictions {
		if !(p.Probability > 0 && p.Probability < 1) || p.Variant != "DLRC" || math.IsNaN(p.DLRScore) {
			t.Errorf("%s: probability %v, variant %s (clinical CSV was provided)", p.Endpoint, p.Probability, p.Variant)
		}
	}

	// 2. Our own results routed back by the PACS are acknowledged and ignored.
	o.post(t, "/modalities/sacrum/store", []byte(fmt.Sprintf(`["%s","%s","%s"]`, mods["SR"][0], mods["SEG"][0], mods["OT"][0])), nil)
	// 3. The same study sent again: identical duplicates change nothing.
	o.post(t, "/modalities/sacrum/store", []byte(`"`+study+`"`), nil)
	time.Sleep(4 * time.Second) // longer than the stable time: a reopened study would be processing now
	s = node.study(t, uid)
	if s.State != store.StateDelivered || s.Runs != 1 || s.Instances != len(mr) {
		t.Fatalf("after routing back and resending: %+v, want DELIVERED after one run with %d instances", s, len(mr))
	}
	if n := len(byModality(o.series(t, study))["SR"]); n != 1 {
		t.Fatalf("%d SRs in Orthanc after resending the study, want 1", n)
	}

	// 4. An instance added later reopens the study: one new SR naming the first.
	o.upload(t, []string{extraInstance(t, st)})
	waitFor(t, 90*time.Second, "the second run", func() bool {
		s = node.study(t, uid)
		return s != nil && s.Runs == 2 && s.State == store.StateDelivered
	})
	mods = byModality(o.series(t, study))
	if len(mods["SR"]) != 2 {
		t.Fatalf("%d SRs after the added instance, want 2", len(mods["SR"]))
	}
	var sr2 *report.SRSummary
	for _, id := range mods["SR"] {
		s, err := report.ReadSR(o.file(t, id))
		if err != nil {
			t.Fatal(err)
		}
		if s.SOPInstanceUID != sr1.SOPInstanceUID {
			sr2 = s
		}
	}
	if sr2 == nil || len(sr2.Predecessors) != 1 || sr2.Predecessors[0] != sr1.SOPInstanceUID {
		t.Fatalf("second SR %+v does not name the first (%s) as predecessor", sr2, sr1.SOPInstanceUID)
	}
	for i, p := range sr2.Predictions {
		if math.Abs(p.Probability-sr1.Predictions[i].Probability) > 1e-12 {
			t.Errorf("%s: the localizer changed the probability: %v → %v", p.Endpoint, sr1.Predictions[i].Probability, p.Probability)
		}
	}
	d := node.detail(t, uid)
	stages := map[string]bool{}
	var sum struct {
		Stages []struct{ Stage string } `json:"stages"`
	}
	if err := json.Unmarshal(d.Summary, &sum); err != nil {
		t.Fatal(err)
	}
	for _, x := range sum.Stages {
		stages[x.Stage] = true
	}
	metrics := httpText(t, "http://"+node.admin+"/metrics")
	for _, want := range []string{"segmentation", "radiomics", "predict", "report"} {
		if !stages[want] {
			t.Errorf("study summary has no stage %s: %+v", want, sum.Stages)
		}
		if !strings.Contains(metrics, `sacrum_pipeline_stage_duration_seconds_count{stage="`+want+`"} 2`) {
			t.Errorf("/metrics has no duration of stage %s for the two runs", want)
		}
	}
}

func httpText(t *testing.T, url string) string {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("GET %s: %v %s", url, err, r.Status)
	}
	return string(b)
}

func counts(m map[string][]string) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}
