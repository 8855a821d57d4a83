package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/pipeline/synth"
	"github.com/sacrum-dev/sacrum/store"
)

// BenchmarkEndToEnd is acceptance 4 of issue 8: from study completion (the RECEIVING → COMPLETE event) to the
// last result object acknowledged by the destination, for a 2-series 256×256×20 study with its clinical
// inputs present, through `sacrum serve` with the shipped models and bundle and a local C-STORE SCP that
// fsyncs. Reported: the median latency and the median of each part (queue, each pipeline stage, commit,
// delivery). Run it on 2 cores:
//
//	go test -run '^$' -bench EndToEnd -benchtime 5x -cpu 2 ./cmd/sacrum
func BenchmarkEndToEnd(b *testing.B) {
	requireModels(b)
	dest := startDestination(b, func(dir string) dimse.StoreHandler { return dimse.DirHandler{Dir: dir} })
	var recs []synth.Record
	var studies [][]string
	for i := 0; i < b.N; i++ {
		mr, st := e2ePatient(b, int64(100+i))
		studies = append(studies, mr)
		recs = append(recs, st.Record)
	}
	clin := b.TempDir()
	f, err := os.Create(filepath.Join(clin, "clinical.csv"))
	if err != nil {
		b.Fatal(err)
	}
	if err := synth.WriteClinicalCSV(f, recs); err != nil {
		b.Fatal(err)
	}
	f.Close()
	node := startNode(b, fmt.Sprintf(`
node:
  ae_title: SACRUM
  allow: [E2E]
store:
  data_dir: %%DATA%%
  stable_seconds: 0.5
admin:
  listen: %%ADMIN%%
queue:
  pipeline: analysis
  max_attempts: 1
destinations:
  - {ae_title: PACS, host: 127.0.0.1, port: %d}
pipeline:
  clinical_csv_dir: %s
`, dest, clin))
	parts := map[string][]float64{}
	var order []string
	add := func(name string, d time.Duration) {
		if _, ok := parts[name]; !ok {
			order = append(order, name)
		}
		parts[name] = append(parts[name], float64(d)/float64(time.Millisecond))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		send(b, node.addr, studies[i])
		node.waitState(b, recs[i].StudyUID, 60*time.Second, store.StateDelivered)
		d := node.detail(b, recs[i].StudyUID)
		var complete, processing, reported time.Time
		for _, e := range d.Events {
			switch {
			case strings.HasPrefix(e.Message, "RECEIVING → COMPLETE"):
				complete = e.Time
			case strings.HasPrefix(e.Message, "QUEUED → PROCESSING"):
				processing = e.Time
			case strings.HasPrefix(e.Message, "PROCESSING → REPORTED"):
				reported = e.Time
			}
		}
		var acked time.Time
		for _, e := range d.Delivery {
			if e.SentAt.After(acked) {
				acked = e.SentAt
			}
		}
		if complete.IsZero() || processing.IsZero() || reported.IsZero() || acked.IsZero() {
			b.Fatalf("study %s: events incomplete: %+v", recs[i].StudyUID, d.Events)
		}
		var sum struct {
			Stages []struct {
				Stage string  `json:"stage"`
				MS    float64 `json:"ms"`
			} `json:"stages"`
		}
		if err := json.Unmarshal(d.Summary, &sum); err != nil {
			b.Fatal(err)
		}
		add("total", acked.Sub(complete))
		add("queue", processing.Sub(complete))
		var pipeline float64
		for _, s := range sum.Stages {
			add(s.Stage, time.Duration(s.MS*float64(time.Millisecond)))
			pipeline += s.MS
		}
		add("run_overhead_commit", reported.Sub(processing)-time.Duration(pipeline*float64(time.Millisecond)))
		add("delivery", acked.Sub(reported))
	}
	b.StopTimer()
	for _, name := range order {
		b.ReportMetric(median(parts[name]), name+"-ms")
	}
	if m := median(parts["total"]); m > 2000 {
		b.Errorf("median completion → acknowledged %.0f ms, goal ≤ 2000 ms", m)
	}
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
