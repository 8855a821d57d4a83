package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateSynth = flag.Bool("update-synth", false, "rewrite the golden outputs under testdata/synth")

// TestSynthGolden runs each case of testdata/synth/<case>/: "args" (one per line; $OUT is a fresh
// directory, $FILE a regular file), and the expected "stdout" (with the output directory written as $OUT)
// and generated clinical.csv/truth.csv, or the expected "error" and exit code in "exit".
func TestSynthGolden(t *testing.T) {
	goldenCases(t, "synth", func(t *testing.T, dir, rawArgs string) {
		tmp := t.TempDir()
		out := filepath.Join(tmp, "out")
		file := filepath.Join(tmp, "file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"synth"}
		for _, a := range strings.Split(strings.TrimSpace(rawArgs), "\n") {
			args = append(args, strings.NewReplacer("$OUT", out, "$FILE", file).Replace(a))
		}
		var stdout, stderr bytes.Buffer
		m := &Main{Stdout: &stdout, Stderr: &stderr}
		runErr := m.Run(context.Background(), args)
		got := map[string]string{}
		if runErr != nil {
			got["error"] = strings.NewReplacer(out, "$OUT", file, "$FILE").Replace(runErr.Error()) + "\n"
			code := 1
			var ee *ExitError
			if errors.As(runErr, &ee) {
				code = ee.Code
			}
			got["exit"] = fmt.Sprintf("%d\n", code)
		} else {
			got["stdout"] = strings.ReplaceAll(stdout.String(), out, "$OUT")
			for _, name := range []string{"clinical.csv", "truth.csv"} {
				b, err := os.ReadFile(filepath.Join(out, name))
				if err != nil {
					t.Fatal(err)
				}
				got[name] = string(b)
			}
		}
		if *updateSynth {
			resetGolden(dir, "stdout", "error", "exit", "clinical.csv", "truth.csv")
		}
		for name, s := range got {
			checkGolden(t, dir, name, s, *updateSynth, false)
		}
		if *updateSynth {
			return
		}
		for _, name := range []string{"stdout", "error"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil && got[name] == "" {
				t.Errorf("expected %s, but the command gave %v", name, runErr)
			}
		}
	})
}

// TestSynthLayout checks the files of a one-patient run against the documented layout.
func TestSynthLayout(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	if err := m.Run(context.Background(), []string{"synth", "--out", out, "--matrix", "64", "--slices", "5", "--seed", "3"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"clinical.csv", "truth.csv", "SYNTHETIC.md", "patients/SYN0001/seg.dcm",
		"patients/SYN0001/labels/reader1.nii.gz", "patients/SYN0001/labels/reader2.nii.gz"}
	for s := 1; s <= 5; s++ {
		want = append(want, fmt.Sprintf("patients/SYN0001/dicom/2/%d.dcm", s), fmt.Sprintf("patients/SYN0001/dicom/3/%d.dcm", s))
	}
	for _, p := range want {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("missing %s", p)
		}
	}
	n := 0
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n++
		}
		return nil
	})
	if n != len(want) {
		t.Errorf("%d files, want %d", n, len(want))
	}
	if !strings.Contains(stderr.String(), "1/1 patients") {
		t.Errorf("no progress bar on stderr: %q", stderr.String())
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSynthSend is acceptance 4: --send delivers the study (MR and, with --with-seg, the SEG) to DCMTK storescp.
func TestSynthSend(t *testing.T) {
	bin, err := exec.LookPath("storescp")
	if err != nil {
		t.Fatalf("storescp not found: `make setup` installs it (Debian package dcmtk)")
	}
	recv := t.TempDir()
	port := freePort(t)
	scp := exec.Command(bin, "-aet", "STORESCP", "-od", recv, "--accept-all", fmt.Sprint(port))
	scp.Env = append(os.Environ(), "TCP_NODELAY=1")
	var scpOut bytes.Buffer
	scp.Stdout, scp.Stderr = &scpOut, &scpOut
	if err := scp.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		scp.Process.Kill()
		scp.Wait()
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("storescp did not listen: %s", scpOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := t.TempDir()
	var stdout bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &bytes.Buffer{}}
	err = m.Run(context.Background(), []string{"synth", "--out", out, "--patients", "2", "--matrix", "64", "--slices", "4",
		"--send", addr, "--aec", "STORESCP", "--aet", "SYNTHSCU", "--with-seg"})
	if err != nil {
		t.Fatalf("%v\nstorescp: %s", err, scpOut.String())
	}
	got, _ := filepath.Glob(filepath.Join(recv, "*"))
	var mr, seg int
	for _, p := range got {
		switch {
		case strings.HasPrefix(filepath.Base(p), "MR."):
			mr++
		case strings.HasPrefix(filepath.Base(p), "SG."): // storescp names SEG files SG.<uid>
			seg++
		}
	}
	if mr != 2*2*4 || seg != 2 {
		t.Errorf("storescp received %d MR and %d SEG files, want 16 and 2 (%v)", mr, seg, got)
	}
	if !strings.Contains(stdout.String(), "18 files to STORESCP@"+addr) {
		t.Errorf("stdout does not report the sent files:\n%s", stdout.String())
	}
}
