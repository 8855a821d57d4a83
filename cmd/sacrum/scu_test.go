package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/dimse/dimsetest"
)

var updateSCU = flag.Bool("update-scu", false, "rewrite the golden outputs under testdata/echo and testdata/send")

// startSCP runs a C-ECHO/C-STORE SCP (AE SACRUM, allowing SACRUM) until the test ends.
func startSCP(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	addr, _ := dimsetest.StartSCP(t, dimse.ServerConfig{AETitle: "SACRUM", TempDir: filepath.Join(dir, "tmp"),
		Handler: dimse.DirHandler{Dir: dir}, Allow: []dimse.AllowEntry{{AETitle: "SACRUM"}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return addr
}

// TestSCUGolden runs each case under testdata/echo/<case>/ and testdata/send/<case>/: the
// arguments in "args" ({{ADDR}} is the SCP's address), the expected output in "stdout" (with the
// error and exit code appended when the command fails). Files to send are in ./mr (3 MR images)
// and ./notes.txt (not DICOM), relative to a scratch directory.
func TestSCUGolden(t *testing.T) {
	addr := startSCP(t)
	work := t.TempDir()
	if _, err := dimsetest.WriteSeries(filepath.Join(work, "mr"), dimsetest.Series(9, 3, 16, 16)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(work, "notes.txt"), []byte("not DICOM\n"), 0o644)
	testdata, _ := filepath.Abs("testdata")
	t.Chdir(work)
	for _, command := range []string{"echo", "send"} {
		cases, err := os.ReadDir(filepath.Join(testdata, command))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			dir := filepath.Join(testdata, command, c.Name())
			t.Run(command+"/"+c.Name(), func(t *testing.T) {
				raw, err := os.ReadFile(filepath.Join(dir, "args"))
				if err != nil {
					t.Fatal(err)
				}
				args := append([]string{command}, strings.Fields(strings.ReplaceAll(string(raw), "{{ADDR}}", addr))...)
				var out strings.Builder
				m := &Main{Stdout: &out, Stderr: &out}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := m.Run(ctx, args); err != nil {
					code := 1
					var ee *ExitError
					if errors.As(err, &ee) {
						code = ee.Code
					}
					out.WriteString("error: " + err.Error() + "\n")
					out.WriteString("exit: " + string(rune('0'+code)) + "\n")
				}
				got := strings.ReplaceAll(out.String(), addr, "{{ADDR}}")
				checkGolden(t, dir, "stdout", got, *updateSCU, false)
			})
		}
	}
}
