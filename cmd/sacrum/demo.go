package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/pipeline/node"
	"github.com/sacrum-dev/sacrum/pipeline/report"
	"github.com/sacrum-dev/sacrum/pipeline/synth"
	"github.com/sacrum-dev/sacrum/store"
)

// DemoCommand runs the whole node on one synthetic patient without any configuration.
type DemoCommand struct {
	Stdout io.Writer
	Stderr io.Writer
	// pipeline, when set, replaces the default pipeline section (tests).
	pipeline *PipelineConfig
}

// demoResult is what the demo produced (and what --json prints).
type demoResult struct {
	Dir         string              `json:"dir"`
	Patient     string              `json:"patient_id"`
	StudyUID    string              `json:"study_uid"`
	Sent        int                 `json:"sent"`
	Elapsed     float64             `json:"seconds_send_to_results"`
	SR          string              `json:"sr"`
	SEG         string              `json:"seg"`
	Card        string              `json:"card"`
	CardPNG     string              `json:"card_png"`
	Log         string              `json:"log"`
	Predictions []report.Prediction `json:"predictions"`
	Stages      []node.StageSummary `json:"stages"`
}

// Demo AE titles.
const (
	demoNodeAE = "SACRUM"
	demoPACSAE = "PACS"
	demoSCUAE  = "DEMO"
)

// Run generates the patient, starts the node and a receiving PACS on loopback, sends the study and prints
// the result.
func (c *DemoCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dirFlag := fs.String("dir", "", "working directory (default: a new temporary directory, kept afterwards)")
	seed := fs.Int64("seed", 7, "seed of the synthetic patient")
	timeout := fs.Duration("timeout", 60*time.Second, "give up when the results have not arrived after this long")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	withSEG := fs.Bool("with-seg", false, "also send reader 1's DICOM SEG: the node uses it instead of the segmentation model")
	if err := parseFlags(fs, args, "sacrum demo", true); err != nil {
		return err
	}
	dir := *dirFlag
	if dir == "" {
		d, err := os.MkdirTemp("", "sacrum-demo-")
		if err != nil {
			return fmt.Errorf("sacrum demo: %w", err)
		}
		dir = d
	}
	res, err := c.demo(ctx, dir, *seed, *timeout, *withSEG)
	if err != nil {
		return fmt.Errorf("sacrum demo: %w (files and log in %s)", err, dir)
	}
	if *asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	c.print(res)
	return nil
}

func (c *DemoCommand) demo(ctx context.Context, dir string, seed int64, timeout time.Duration, withSEG bool) (*demoResult, error) {
	out := &demoResult{Dir: dir, Log: filepath.Join(dir, "node.log")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(out.Log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	log := slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// One synthetic patient and its clinical record (in the watched clinical CSV folder).
	fmt.Fprintf(c.Stderr, "sacrum demo: generating a synthetic patient in %s\n", dir)
	st, err := synth.GeneratePatient(seed, 0, synth.ImageOptions{})
	if err != nil {
		return nil, err
	}
	paths, err := st.Write(filepath.Join(dir, "patient"))
	if err != nil {
		return nil, err
	}
	var mr []string
	for _, p := range paths {
		if withSEG || filepath.Base(p) != "seg.dcm" { // without the SEG the node segments the study itself
			mr = append(mr, p)
		}
	}
	out.Patient, out.StudyUID = st.Record.PatientID, st.Record.StudyUID
	clinDir := filepath.Join(dir, "clinical")
	if err := os.MkdirAll(clinDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(clinDir, "clinical.csv"))
	if err != nil {
		return nil, err
	}
	err = synth.WriteClinicalCSV(f, []synth.Record{st.Record})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The receiving PACS: an in-process C-STORE SCP keeping every file.
	received := filepath.Join(dir, "pacs")
	pacs, pacsAddr, pacsDone, err := startReceiver(ctx, received, log)
	if err != nil {
		return nil, err
	}
	defer func() { cancel(); <-pacsDone }()

	// The node, on loopback, with the embedded store and the shipped models and bundle.
	cfg := DefaultConfig()
	cfg.Node.AETitle, cfg.Node.Listen, cfg.Node.Allow = demoNodeAE, "127.0.0.1:0", []string{demoSCUAE + "@127.0.0.1"}
	cfg.Store.DataDir = filepath.Join(dir, "node")
	cfg.Store.StableSeconds = 1
	if cfg.Admin.Listen, err = freeLoopback(); err != nil {
		return nil, err
	}
	cfg.Queue.Pipeline, cfg.Queue.MaxAttempts = "analysis", 1
	cfg.Queue.OutboxInitialBackoff = Duration(time.Second)
	cfg.Destinations = []DestinationConfig{{AETitle: demoPACSAE, Host: "127.0.0.1", Port: pacsAddr.(*net.TCPAddr).Port}}
	if c.pipeline != nil {
		cfg.Pipeline = *c.pipeline
	}
	cfg.Pipeline.ClinicalCSVDir, cfg.Pipeline.CardPNG = clinDir, true
	scfg, err := NodeServerConfig(cfg, nil, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Node.Listen)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c.Stderr, "sacrum demo: starting the node (loading models) and a receiving PACS on loopback\n")
	ready := make(chan net.Addr, 1)
	nodeDone := make(chan error, 1)
	go func() { nodeDone <- serveStore(ctx, cfg, scfg, ln, log, func(a net.Addr) { ready <- a }) }()
	var nodeAddr net.Addr
	select {
	case nodeAddr = <-ready:
	case err := <-nodeDone:
		return nil, fmt.Errorf("node: %w", err)
	}
	defer func() { cancel(); <-nodeDone }()

	// Send the study as a modality would, then wait for the results at the PACS.
	start := time.Now()
	fmt.Fprintf(c.Stderr, "sacrum demo: sending %d instances to %s@%s\n", len(mr), demoNodeAE, nodeAddr)
	results, err := dimse.SendFiles(ctx, nodeAddr.String(), dimse.ClientConfig{CallingAE: demoSCUAE, CalledAE: demoNodeAE}, mr)
	if err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	for _, r := range results {
		if !r.OK() {
			return nil, fmt.Errorf("send %s: status 0x%04X %v", r.Path, r.Status, r.Err)
		}
	}
	out.Sent = len(results)
	fmt.Fprintf(c.Stderr, "sacrum demo: waiting for the results (study stable after 1 s, then analysis and delivery)\n")
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for out.SR == "" || out.SEG == "" || out.Card == "" {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-nodeDone:
			nodeDone <- err
			return nil, fmt.Errorf("the node stopped: %v", err)
		case <-deadline.C:
			return nil, fmt.Errorf("no results after %s (see %s and `sacrum status --data-dir %s`)", timeout, out.Log, cfg.Store.DataDir)
		case <-tick.C:
		}
		if err := classify(pacs, out); err != nil {
			return nil, err
		}
		if d, err := studyDetail(ctx, cfg.Admin.Listen, out.StudyUID); err == nil && d.Study.State == store.StateFailed {
			return nil, fmt.Errorf("the study FAILED: %s", d.Study.LastError)
		}
	}
	out.Elapsed = time.Since(start).Seconds()
	sr, err := report.ReadSR(out.SR)
	if err != nil {
		return nil, err
	}
	out.Predictions = sr.Predictions
	if d, err := studyDetail(ctx, cfg.Admin.Listen, out.StudyUID); err == nil && d.Summary != nil {
		var sum node.Summary
		if json.Unmarshal(d.Summary, &sum) == nil {
			out.Stages = sum.Stages
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(cfg.Store.DataDir, "results", "*", "job-*", "card.png"))
	if len(pngs) > 0 {
		out.CardPNG = filepath.Join(pacs, "card.png")
		if err := copyFile(pngs[0], out.CardPNG); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// freeLoopback returns a loopback address whose port was free a moment ago (for the admin API).
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// studyDetail asks the node's admin API about a study.
func studyDetail(ctx context.Context, admin, uid string) (*store.StudyDetail, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/api/v1/studies/"+uid, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("admin API: %s", resp.Status)
	}
	var d store.StudyDetail
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return nil, err
	}
	return &d, nil
}

// startReceiver runs the stand-in PACS: a C-STORE SCP (AE PACS) keeping files as DIR/received/<sop>.dcm.
func startReceiver(ctx context.Context, dir string, log *slog.Logger) (string, net.Addr, chan struct{}, error) {
	keep := filepath.Join(dir, "received")
	if err := os.MkdirAll(keep, 0o755); err != nil {
		return "", nil, nil, err
	}
	srv, err := dimse.NewServer(dimse.ServerConfig{AETitle: demoPACSAE, Allow: []dimse.AllowEntry{{AETitle: "*"}},
		TempDir: filepath.Join(dir, "incoming"), Handler: dimse.DirHandler{Dir: keep}, Logger: log.With("ae", demoPACSAE)})
	if err != nil {
		return "", nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln); err != nil && ctx.Err() == nil {
			log.Error("receiving PACS", "err", err)
		}
	}()
	return keep, ln.Addr(), done, nil
}

// classify looks at the files the PACS received and notes the SR, SEG and card.
func classify(dir string, out *demoResult) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".dcm") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		m, _, err := dimse.ReadFileMeta(bufio.NewReader(f))
		f.Close()
		if err != nil {
			return fmt.Errorf("received %s: %w", p, err)
		}
		switch m.MediaStorageSOPClassUID {
		case report.ComprehensiveSR3DStorage, report.ComprehensiveSRStorage, report.EnhancedSRStorage:
			out.SR = p
		case report.SegmentationStorage:
			out.SEG = p
		case report.SecondaryCaptureStorage:
			out.Card = p
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// print writes the summary for people.
func (c *DemoCommand) print(r *demoResult) {
	w := c.Stdout
	fmt.Fprintf(w, "sacrum demo: synthetic patient %s, %d instances sent, results at the PACS after %.1f s\n\n", r.Patient, r.Sent, r.Elapsed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tVARIANT\tPROBABILITY\tTHRESHOLD\tPREDICTION\tDLR SCORE")
	for _, p := range r.Predictions {
		pred := "non-responder"
		if p.Responder {
			pred = "responder"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%s\t%.3f\n", p.Endpoint, p.Variant, p.Probability, p.Threshold, pred, p.DLRScore)
	}
	tw.Flush()
	for _, p := range r.Predictions {
		fmt.Fprintf(w, "\nTop features, %s (SHAP on the log-odds of response):\n", p.Endpoint)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  FEATURE\tVALUE\tSHAP")
		for _, f := range p.TopFeatures {
			fmt.Fprintf(tw, "  %s\t%.4g\t%+.3f\n", f.Name, f.Value, f.SHAP)
		}
		tw.Flush()
	}
	if len(r.Stages) > 0 {
		fmt.Fprintf(w, "\nPipeline stages (ms):")
		for _, st := range r.Stages {
			fmt.Fprintf(w, " %s %.0f;", st.Stage, st.MS)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nResult files (as received by the PACS):\n")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  SR\t%s\n  SEG\t%s\n  card\t%s\n", r.SR, r.SEG, r.Card)
	if r.CardPNG != "" {
		fmt.Fprintf(tw, "  card PNG\t%s\n", r.CardPNG)
	}
	fmt.Fprintf(tw, "  node log\t%s\n", r.Log)
	tw.Flush()
	fmt.Fprintf(w, "\n%s The model is a demonstration trained on synthetic data.\n", report.Disclaimer)
}

// Usage describes the command.
func (c *DemoCommand) Usage() string {
	return `sacrum demo runs the whole node on one synthetic patient, with no configuration: it generates the
patient (T1 and STIR, 256×256×20) and its clinical record in a temporary directory, starts the node on
loopback (embedded bbolt store, the shipped segmentation and deep-feature models, the demonstration model
bundle ` + DefaultBundle + `, the clinical CSV folder watched) and an in-process C-STORE SCP standing in for
the PACS, sends the study with the C-STORE SCU, waits for the SR, SEG and result card to arrive at the PACS,
and prints the SR's predictions (probabilities, model variant, top features) and where the files are.
Research use only, not for diagnostic use.

Usage:

	sacrum demo [--dir DIR] [--seed N] [--timeout 60s] [--with-seg] [--json]

The ONNX Runtime library is found as for sacrum serve (make setup fetches it; make demo does both).

Examples:

	make demo
	sacrum demo --dir /tmp/demo
`
}
