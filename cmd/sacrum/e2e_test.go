package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/pipeline/dcmwrite"
	"github.com/sacrum-dev/sacrum/pipeline/infer"
	"github.com/sacrum-dev/sacrum/pipeline/synth"
	"github.com/sacrum-dev/sacrum/store"
)

// Helpers of the end-to-end tests (e2e_orthanc_test.go, e2e_failure_test.go): a sacrum node in-process with
// a configuration file, Orthanc as a child process, and their APIs.

// loopbackPort returns a loopback port that was free a moment ago.
func loopbackPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// e2eNode is a running `sacrum serve`.
type e2eNode struct {
	addr    string // DICOM
	admin   string // admin HTTP
	dataDir string
	log     *lockedBuffer // ingest_test.go
	done    chan error
}

// startNode runs `sacrum serve --config` with the given YAML (listen, data_dir and admin are filled in).
func startNode(t testing.TB, yaml string) *e2eNode {
	t.Helper()
	dir := t.TempDir()
	n := &e2eNode{admin: fmt.Sprintf("127.0.0.1:%d", loopbackPort(t)), dataDir: filepath.Join(dir, "data"), log: &lockedBuffer{},
		done: make(chan error, 1)}
	yaml = strings.NewReplacer("%DATA%", n.dataDir, "%ADMIN%", n.admin).Replace(yaml)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	cmd := &ServeCommand{Stdout: io.Discard, Stderr: n.log, Ready: func(a net.Addr) { ready <- a }}
	go func() {
		n.done <- cmd.Run(ctx, []string{"--config", cfgPath, "--listen", "127.0.0.1:0", "--log-level", "debug"})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-n.done:
		case <-time.After(20 * time.Second):
			t.Error("sacrum serve did not stop")
		}
	})
	select {
	case a := <-ready:
		n.addr = a.String()
	case err := <-n.done:
		t.Fatalf("sacrum serve: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("sacrum serve did not start")
	}
	// The admin server starts beside the SCP; wait until it answers.
	waitFor(t, 10*time.Second, "admin API", func() bool {
		r, err := http.Get("http://" + n.admin + "/healthz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	})
	return n
}

func (n *e2eNode) port() int {
	_, p, _ := net.SplitHostPort(n.addr)
	var x int
	fmt.Sscan(p, &x)
	return x
}

// status runs `sacrum status --admin ADDR --json`.
func (n *e2eNode) status(t testing.TB) *store.Summary {
	t.Helper()
	var out bytes.Buffer
	cmd := &StatusCommand{Stdout: &out, Stderr: io.Discard}
	if err := cmd.Run(context.Background(), []string{"--admin", n.admin, "--json"}); err != nil {
		t.Fatalf("sacrum status: %v", err)
	}
	var s store.Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("sacrum status --json: %v\n%s", err, out.String())
	}
	return &s
}

// study returns the status of one study (nil if unknown).
func (n *e2eNode) study(t testing.TB, uid string) *store.StudySummary {
	for _, s := range n.status(t).Studies {
		if s.StudyUID == uid {
			return &s
		}
	}
	return nil
}

// detail is GET /api/v1/studies/{uid}.
func (n *e2eNode) detail(t testing.TB, uid string) *store.StudyDetail {
	t.Helper()
	var d store.StudyDetail
	getJSON(t, "http://"+n.admin+"/api/v1/studies/"+uid, &d)
	return &d
}

// waitState waits until the study is in one of the states.
func (n *e2eNode) waitState(t testing.TB, uid string, timeout time.Duration, states ...store.State) *store.StudySummary {
	t.Helper()
	var last *store.StudySummary
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if last = n.study(t, uid); last != nil {
			for _, s := range states {
				if last.State == s {
					return last
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("study %s: %+v, want state %v after %s\nnode log:\n%s", uid, last, states, timeout, tail(n.log.String(), 3000))
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func waitFor(t testing.TB, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", url, r.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// e2ePatient writes a synthetic patient (256×256×20, both series) and returns its MR files and record.
func e2ePatient(t testing.TB, seed int64) ([]string, *synth.Study) {
	t.Helper()
	st, err := synth.GeneratePatient(seed, 0, synth.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	paths, err := st.Write(filepath.Join(t.TempDir(), "patient"))
	if err != nil {
		t.Fatal(err)
	}
	var mr []string
	for _, p := range paths {
		if filepath.Base(p) != "seg.dcm" {
			mr = append(mr, p)
		}
	}
	return mr, st
}

// extraInstance writes one more MR instance of the study in a new series (a localizer that series
// selection rejects): it reopens the study without changing the analysis.
func extraInstance(t testing.TB, st *synth.Study) string {
	t.Helper()
	s := st.Series()[0]
	s.Role, s.Number, s.Description, s.Protocol = "localizer", 99, "LOCALIZER", "LOCALIZER"
	p := filepath.Join(t.TempDir(), "extra.dcm")
	if err := dcmwrite.WriteFile(p, dcmwrite.FileMeta{SOPClassUID: dcmwrite.MRImageStorage, SOPInstanceUID: st.InstanceUID(s.Role, 0)}, st.MRDataset(s, 0)); err != nil {
		t.Fatal(err)
	}
	return p
}

// clinicalDir writes the patient's clinical record as the watched CSV folder.
func clinicalDir(t testing.TB, st *synth.Study) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "clinical.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := synth.WriteClinicalCSV(f, []synth.Record{st.Record}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// requireModels fails the test when the shipped models or the demonstration bundle are missing.
func requireModels(t testing.TB) {
	t.Helper()
	for _, f := range []string{"models/seg-sij-unet/model.yaml", "models/deep-encoder/model.yaml", DefaultBundle + "/bundle.json"} {
		if _, err := infer.FindFile(f); err != nil {
			t.Fatalf("shipped model missing: %v (models/README.md says how they are made)", err)
		}
	}
	if _, err := infer.FindLibrary(""); err != nil {
		t.Fatalf("%v (`make setup` fetches the ONNX Runtime library)", err)
	}
}

// orthanc is Debian's Orthanc running on loopback.
type orthanc struct {
	http      string
	dicomPort int
	log       string
}

// startOrthanc starts /usr/sbin/Orthanc with a temporary configuration and the Lua routing script.
func startOrthanc(t *testing.T, dicomPort int, modalities map[string][3]any, lua string) *orthanc {
	t.Helper()
	bin := "/usr/sbin/Orthanc"
	if _, err := os.Stat(bin); err != nil {
		if p, err2 := exec.LookPath("Orthanc"); err2 == nil {
			bin = p
		} else {
			t.Fatalf("Orthanc is not installed (%v): `make setup` installs Debian's orthanc", err)
		}
	}
	dir := t.TempDir()
	o := &orthanc{dicomPort: dicomPort, log: filepath.Join(dir, "orthanc.log")}
	httpPort := loopbackPort(t)
	o.http = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	luaPath := filepath.Join(dir, "route.lua")
	if err := os.WriteFile(luaPath, []byte(lua), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"Name": "sacrum-e2e", "StorageDirectory": filepath.Join(dir, "storage"), "IndexDirectory": filepath.Join(dir, "index"),
		"HttpPort": httpPort, "DicomPort": o.dicomPort, "DicomAet": "ORTHANC", "RemoteAccessAllowed": false,
		"AuthenticationEnabled": false, "DicomModalities": modalities, "LuaScripts": []string{luaPath},
		"DicomAlwaysAllowStore": true, "DicomCheckCalledAet": false, "Plugins": []string{},
		"ConcurrentJobs": 1, "DicomScuTimeout": 30, "StableAge": 3600,
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	cfgPath := filepath.Join(dir, "orthanc.json")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(o.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--logdir="+dir, cfgPath)
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Orthanc: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	waitFor(t, 30*time.Second, "Orthanc's REST API", func() bool {
		r, err := http.Get(o.http + "/system")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	})
	return o
}

// post sends a request to Orthanc's REST API and decodes the JSON answer.
func (o *orthanc) post(t *testing.T, path string, body []byte, v any) {
	t.Helper()
	r, err := http.Post(o.http+path, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("POST %s: %s: %s", path, r.Status, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("POST %s: %v: %s", path, err, b)
		}
	}
}

// upload stores files into Orthanc (POST /instances) and returns the Orthanc study ID.
func (o *orthanc) upload(t *testing.T, paths []string) string {
	t.Helper()
	var study string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ ParentStudy, Status string }
		o.post(t, "/instances", b, &r)
		study = r.ParentStudy
	}
	return study
}

// orthancSeries is one series of a study as Orthanc's REST API lists it.
type orthancSeries struct {
	ID            string
	Instances     []string
	MainDicomTags map[string]string
}

func (o *orthanc) series(t *testing.T, study string) []orthancSeries {
	t.Helper()
	var s []orthancSeries
	getJSON(t, o.http+"/studies/"+study+"/series", &s)
	return s
}

// byModality counts the instances per modality.
func byModality(series []orthancSeries) map[string][]string {
	out := map[string][]string{}
	for _, s := range series {
		m := s.MainDicomTags["Modality"]
		out[m] = append(out[m], s.Instances...)
	}
	return out
}

func (o *orthanc) file(t *testing.T, instance string) string {
	t.Helper()
	r, err := http.Get(o.http + "/instances/" + instance + "/file")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("GET instance %s: %s", instance, r.Status)
	}
	p := filepath.Join(t.TempDir(), instance+".dcm")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
