package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/report"
)

// runDemo runs `sacrum demo` in a temporary directory (pc replaces the shipped pipeline when not nil).
func runDemo(t *testing.T, pc *PipelineConfig, args ...string) (string, time.Duration) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &DemoCommand{Stdout: &out, Stderr: &errb, pipeline: pc}
	start := time.Now()
	err := c.Run(context.Background(), append([]string{"--dir", t.TempDir()}, args...))
	if err != nil {
		t.Fatalf("sacrum demo: %v\nstderr:\n%s", err, errb.String())
	}
	return out.String(), time.Since(start)
}

// checkDemoOutput checks the structure of the demo's report; the values depend on the shipped models.
func checkDemoOutput(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if !regexp.MustCompile(`^sacrum demo: synthetic patient SYN\d+, 40 instances sent, results at the PACS after \d+\.\d s$`).MatchString(lines[0]) {
		t.Errorf("first line %q", lines[0])
	}
	row := regexp.MustCompile(`^(ASAS40|ASAS20)\s+(DLRC|DLR-only)\s+(\d\.\d{3})\s+(\d\.\d{3})\s+(responder|non-responder)\s+-?\d+\.\d{3}$`)
	var endpoints []string
	for _, l := range lines {
		m := row.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		endpoints = append(endpoints, m[1])
		p, _ := strconv.ParseFloat(m[3], 64)
		thr, _ := strconv.ParseFloat(m[4], 64)
		if !(p > 0 && p < 1) || !(thr > 0 && thr < 1) {
			t.Errorf("%s: probability %v, threshold %v outside (0, 1)", m[1], p, thr)
		}
		if (m[5] == "responder") != (p >= thr) && m[3] != m[4] {
			t.Errorf("%s: %s with probability %v and threshold %v", m[1], m[5], p, thr)
		}
		if m[2] != "DLRC" {
			t.Errorf("%s: variant %s although the clinical CSV was provided", m[1], m[2])
		}
	}
	if strings.Join(endpoints, ",") != "ASAS40,ASAS20" {
		t.Errorf("endpoint rows %v in\n%s", endpoints, out)
	}
	for _, ep := range []string{"ASAS40", "ASAS20"} {
		i := strings.Index(out, "Top features, "+ep)
		if i < 0 {
			t.Fatalf("no top features for %s", ep)
		}
		block := strings.Split(out[i:], "\n\n")[0]
		if n := len(regexp.MustCompile(`(?m)^  \S+\s+\S+\s+[+-]\d+\.\d{3}$`).FindAllString(block, -1)); n < 1 || n > 5 {
			t.Errorf("%s: %d feature rows in\n%s", ep, n, block)
		}
	}
	files := regexp.MustCompile(`(?m)^  (SR|SEG|card|card PNG|node log)\s+(\S+)$`).FindAllStringSubmatch(out, -1)
	if len(files) != 5 {
		t.Fatalf("result files: %v in\n%s", files, out)
	}
	for _, f := range files {
		if _, err := os.Stat(f[2]); err != nil {
			t.Errorf("%s: %v", f[1], err)
		}
		switch f[1] {
		case "SR":
			sr, err := report.ReadSR(f[2])
			if err != nil || len(sr.Predictions) != 2 {
				t.Errorf("SR %s: %v", f[2], err)
			}
		case "card PNG":
			r, err := os.Open(f[2])
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(r)
			r.Close()
			if err != nil || img.Bounds().Dx() != 1024 || img.Bounds().Dy() != 768 {
				t.Errorf("card PNG: %v", err)
			}
		}
	}
	if !strings.Contains(out, report.Disclaimer) {
		t.Error("no research-use statement")
	}
}

// TestDemo is acceptance 3 of issue 8 (after set-up, the demo prints its result within 60 s) with a
// golden-ish check of the output's structure.
func TestDemo(t *testing.T) {
	requireModels(t)
	out, took := runDemo(t, nil)
	checkDemoOutput(t, out)
	if took > 60*time.Second {
		t.Errorf("sacrum demo took %s, goal ≤ 60 s", took)
	}
	js, _ := runDemo(t, nil, "--json", "--seed", "8")
	var r demoResult
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Predictions) != 2 || r.Sent != 40 || r.SR == "" || r.SEG == "" || r.Card == "" || len(r.Stages) == 0 {
		t.Errorf("--json: %+v", r)
	}
}
