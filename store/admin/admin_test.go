package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/store"
	"github.com/sacrum-dev/sacrum/store/admin"
	"github.com/sacrum-dev/sacrum/store/storetest"
)

const root = "1.2.826.0.1.3680043.10.1428.8"

// failOn fails the pipeline for one accession number.
type failOn string

func (f failOn) Process(ctx context.Context, in *store.StudyInput) (*store.Results, error) {
	if in.Accession == string(f) {
		return nil, errors.New("no sacroiliac joint found")
	}
	return store.InventoryPipeline{}.Process(ctx, in)
}

// fixture runs a store holding one DELIVERED, one FAILED and one RECEIVING study, and an admin server.
func fixture(t *testing.T, showPHI bool) (*httptest.Server, *store.Store) {
	t.Helper()
	reg := prometheus.NewRegistry()
	st, err := store.Open(store.Config{
		DataDir: t.TempDir(), StableTime: 100 * time.Millisecond, Tick: 20 * time.Millisecond,
		StableByAE: map[string]time.Duration{"SLOW": time.Hour}, MaxAttempts: 1,
		Pipeline: failOn("ACC-FAIL"), Sender: &storetest.Sender{}, Registerer: reg,
		Destinations: []store.Destination{{AE: "PACS", Host: "127.0.0.1", Port: 104}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { st.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	st.Metrics().AssociationAccepted(dimse.AssociationInfo{CallingAE: "MOD", CalledAE: "SACRUM"})
	st.Metrics().ConnectionOpened()
	for i, acc := range []string{"ACC-OK", "ACC-FAIL", "ACC-WAIT"} {
		paths, err := storetest.Study(t.TempDir(), root+"."+string(rune('1'+i)), acc, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		ae := "MOD"
		if acc == "ACC-WAIT" {
			ae = "SLOW"
		}
		for _, p := range paths {
			if s, err := storetest.Receive(ctx, st, p, ae); s != dimse.StatusSuccess {
				t.Fatalf("store: 0x%04X %v", s, err)
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		sum, err := st.Summary("", false)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Counts[store.StateDelivered] == 1 && sum.Counts[store.StateFailed] == 1 && sum.Counts[store.StateReceiving] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fixture states %v", sum.Counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv := httptest.NewServer(admin.Handler(st, admin.Config{Token: "s3cret", ShowPHI: showPHI, Gatherer: reg}))
	t.Cleanup(srv.Close)
	return srv, st
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsParse(t *testing.T) {
	srv, _ := fixture(t, false)
	code, body := get(t, srv.URL+"/metrics")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	value := func(name, label, lv string) float64 {
		f, ok := fams[name]
		if !ok {
			t.Fatalf("metric %s missing", name)
		}
		for _, m := range f.Metric {
			match := label == ""
			for _, l := range m.Label {
				match = match || (l.GetName() == label && l.GetValue() == lv)
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		t.Fatalf("metric %s{%s=%q} missing", name, label, lv)
		return 0
	}
	for _, c := range []struct {
		name, label, lv string
		want            float64
	}{
		{"sacrum_instances_received_total", "", "", 6},
		{"sacrum_studies", "state", "DELIVERED", 1},
		{"sacrum_studies", "state", "FAILED", 1},
		{"sacrum_studies", "state", "RECEIVING", 1},
		{"sacrum_queue_depth", "", "", 0},
		{"sacrum_associations_accepted_total", "", "", 1},
		{"sacrum_associations_active", "", "", 1},
		{"sacrum_pipeline_duration_seconds", "", "", 2},
		{"sacrum_pipeline_stage_duration_seconds", "stage", "inventory", 1},
		{"sacrum_outbox_sends_total", "destination", "PACS@127.0.0.1:104", 1},
	} {
		if got := value(c.name, c.label, c.lv); got != c.want {
			t.Errorf("%s{%s=%q} = %v, want %v", c.name, c.label, c.lv, got, c.want)
		}
	}
	if v := value("sacrum_bytes_received_total", "", ""); v < 6*128 {
		t.Errorf("bytes received %v", v)
	}
}

func TestAPIByStateAndDetail(t *testing.T) {
	srv, _ := fixture(t, false)
	for _, c := range []struct {
		state string
		accs  []string
	}{
		{"", []string{"ACC-WAIT", "ACC-FAIL", "ACC-OK"}},
		{"DELIVERED", []string{"ACC-OK"}},
		{"failed", []string{"ACC-FAIL"}},
		{"QUEUED", nil},
	} {
		code, body := get(t, srv.URL+"/api/v1/studies?state="+c.state)
		if code != 200 {
			t.Fatalf("%s: %d %s", c.state, code, body)
		}
		var sum store.Summary
		if err := json.Unmarshal([]byte(body), &sum); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range sum.Studies {
			got = append(got, s.Accession)
			if s.PatientName != "" {
				t.Errorf("patient name served without show_phi")
			}
		}
		if strings.Join(got, ",") != strings.Join(c.accs, ",") {
			t.Errorf("state %q: %v, want %v", c.state, got, c.accs)
		}
		if sum.Counts[store.StateDelivered] != 1 {
			t.Errorf("counts %v", sum.Counts)
		}
	}
	if code, _ := get(t, srv.URL+"/api/v1/studies?state=BOGUS"); code != 400 {
		t.Errorf("bad state: %d", code)
	}
	code, body := get(t, srv.URL+"/api/v1/studies/"+root+".2")
	var d store.StudyDetail
	if code != 200 || json.Unmarshal([]byte(body), &d) != nil {
		t.Fatalf("detail: %d %s", code, body)
	}
	if d.Study.State != store.StateFailed || len(d.Instances) != 2 || len(d.Series) != 1 || len(d.Events) < 4 ||
		!strings.Contains(d.Study.LastError, "no sacroiliac joint") {
		t.Errorf("detail %+v", d.Study)
	}
	if code, _ := get(t, srv.URL+"/api/v1/studies/1.2.3"); code != 404 {
		t.Errorf("unknown study: %d", code)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _ := get(t, srv.URL+p); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
}

func TestActionsNeedToken(t *testing.T) {
	srv, st := fixture(t, false)
	failed := root + ".2"
	do := func(method, path, token, body string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/api/v1/studies/" + failed + "/retry", "", "", 401},
		{"POST", "/api/v1/studies/" + failed + "/retry", "wrong", "", 401},
		{"POST", "/api/v1/studies/" + failed + "/cancel", "", "", 401},
		{"PUT", "/api/v1/clinical/ACC-OK", "", `{"crp": 3}`, 401},
		{"POST", "/api/v1/studies/" + root + ".1/cancel", "s3cret", "", 409}, // delivered
		{"POST", "/api/v1/studies/1.2.3/retry", "s3cret", "", 404},
		{"PUT", "/api/v1/clinical/ACC-OK", "s3cret", `{"crp": 3}`, 204},
		{"PUT", "/api/v1/clinical/ACC-OK", "s3cret", `not json`, 400},
		{"POST", "/api/v1/studies/" + root + ".3/cancel", "s3cret", "", 200},
	} {
		if got := do(c.method, c.path, c.token, c.body); got != c.want {
			t.Errorf("%s %s token %q: %d, want %d", c.method, c.path, c.token, got, c.want)
		}
	}
	if d, _ := st.Detail(root+".3", false); d.Study.State != store.StateCancelled {
		t.Errorf("cancel did not apply: %s", d.Study.State)
	}
	if d, _ := st.Detail(failed, false); d.Study.State != store.StateFailed {
		t.Errorf("unauthorised retry applied: %s", d.Study.State)
	}
	if v, _ := st.Clinical("ACC-OK"); string(v) != `{"crp": 3}` {
		t.Errorf("clinical %q", v)
	}
}

func TestQueuePageInChromium(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := exec.LookPath(chromium); err != nil {
		t.Fatalf("%s not found: `make setup` installs Debian chromium", chromium)
	}
	for _, showPHI := range []bool{false, true} {
		srv, _ := fixture(t, showPHI)
		opts := append([]chromedp.ExecAllocatorOption{}, chromedp.ExecPath(chromium), chromedp.Headless,
			chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
		actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel2 := chromedp.NewContext(actx)
		// A timeout on the first Run's context would stop the browser mid-way; cancel the tab instead.
		timer := time.AfterFunc(60*time.Second, cancel2)
		err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#studies")))
		var rows []string
		var table, footer string
		if err == nil {
			rows, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("tr.study")).map(r => r.innerText)`))
		}
		if err == nil {
			table, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#studies")))
		}
		if err == nil {
			footer, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("footer")))
		}
		timer.Stop()
		cancel2()
		cancel()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		if len(rows) != 3 {
			t.Fatalf("rows %q", rows)
		}
		for _, want := range []string{"ACC-OK", "DELIVERED", "ACC-FAIL", "FAILED", "ACC-WAIT", "RECEIVING", "20260101", "no sacroiliac joint"} {
			if !strings.Contains(table, want) {
				t.Errorf("show_phi=%v: page lacks %q", showPHI, want)
			}
		}
		if got := strings.Contains(table, "SYNTH"); got != showPHI {
			t.Errorf("show_phi=%v: patient names shown=%v", showPHI, got)
		}
		if !strings.Contains(footer, "Research use only") {
			t.Errorf("footer %q", footer)
		}
	}
}
