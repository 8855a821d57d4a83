package report

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	dw "github.com/sacrum-dev/sacrum/pipeline/dcmwrite"
)

// acceptedWarnings are the dciodvfy warnings the objects may produce (each explained in doc.go).
var acceptedWarnings = []*regexp.Regexp{
	// sacrum's private coding scheme; declared in the Coding Scheme Identification Sequence.
	regexp.MustCompile(`^Warning - Unrecognized defined term <99SACRUM> for value 1 of attribute <Coding Scheme Designator>$`),
}

// dciodvfy runs dicom3tools' validator and returns its error and unexpected warning lines.
func dciodvfy(t *testing.T, path string) (errs, warnings []string) {
	t.Helper()
	out, err := exec.Command(needTool(t, "dciodvfy"), path).CombinedOutput()
	if err != nil && len(out) == 0 {
		t.Fatalf("dciodvfy %s: %v", path, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Error"):
			errs = append(errs, line)
		case strings.HasPrefix(line, "Warning"):
			ok := false
			for _, re := range acceptedWarnings {
				ok = ok || re.MatchString(line)
			}
			if !ok {
				warnings = append(warnings, line)
			}
		}
	}
	return errs, warnings
}

// TestDciodvfy checks every object of several result variants with dciodvfy: no errors, and no
// warnings beyond the documented ones.
func TestDciodvfy(t *testing.T) {
	tests := []struct {
		name   string
		modify func(r *Result)
		class  string
	}{
		{"comprehensive 3D SR", func(r *Result) {}, ComprehensiveSR3DStorage},
		{"comprehensive SR", func(r *Result) { r.Options.SRClass = Comprehensive }, ComprehensiveSRStorage},
		{"enhanced SR", func(r *Result) { r.Options.SRClass = Enhanced }, EnhancedSRStorage},
		{"provided segmentation, all frames", func(r *Result) { r.Provided = true; r.Options.AllFrames = true }, ComprehensiveSR3DStorage},
		{"re-processed with predecessor, UID root", func(r *Result) {
			r.UIDRoot = "1.2.826.0.1.3680043.9.9999"
			r.Predecessor = &SOPRef{ComprehensiveSR3DStorage, "1.2.826.0.1.3680043.9.9999.7.1", "1.2.826.0.1.3680043.9.9999.7"}
		}, ComprehensiveSR3DStorage},
		{"UTF-8 patient name, empty optional patient attributes", func(r *Result) {
			r.Source.PatientName = "Müller^Jürgen=山田^太郎"
			r.Source.PatientBirthDate, r.Source.PatientSex, r.Source.AccessionNumber, r.Source.ReferringPhysician = "", "", "", ""
		}, ComprehensiveSR3DStorage},
		{"no T1, no heat map, one endpoint", func(r *Result) {
			r.Source.T1 = SeriesRef{}
			r.Heatmap = nil
			r.Predictions = r.Predictions[:1]
		}, ComprehensiveSR3DStorage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testResult(t, 64, 48, 8)
			tc.modify(r)
			objs, err := Write(context.Background(), t.TempDir(), r)
			if err != nil {
				t.Fatal(err)
			}
			if objs.SR.SOPClassUID != tc.class {
				t.Errorf("SR class %s, want %s", objs.SR.SOPClassUID, tc.class)
			}
			// dcentvfy: the three objects agree on patient and study attributes.
			out, _ := exec.Command(needTool(t, "dcentvfy"), objs.SR.Path, objs.SEG.Path, objs.Card.Path).CombinedOutput()
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "Error") {
					t.Errorf("dcentvfy: %s", line)
				}
			}
			for _, o := range []ObjectRef{objs.SR, objs.SEG, objs.Card} {
				errs, warns := dciodvfy(t, o.Path)
				for _, e := range errs {
					t.Errorf("%s: %s", o.SOPClassUID, e)
				}
				for _, w := range warns {
					t.Errorf("%s: unexpected warning (fix it or document it in doc.go): %s", o.SOPClassUID, w)
				}
			}
		})
	}
}

// TestDsrdump checks that DCMTK renders the SR tree with both endpoints and their values.
func TestDsrdump(t *testing.T) {
	r := testResult(t, 32, 24, 6)
	objs, err := Write(context.Background(), t.TempDir(), r)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(needTool(t, "dsrdump"), objs.SR.Path)
	cmd.Env = append(cmd.Environ(), "TCP_NODELAY=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dsrdump: %v\n%s", err, out)
	}
	text := string(out)
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "E:") {
			t.Errorf("dsrdump error: %s", line)
		}
	}
	want := []string{
		`Comprehensive 3D SR Document`,
		`Completion Flag     : COMPLETE`,
		`Verification Flag   : UNVERIFIED`,
		`<CONTAINER:(,,"Imaging Measurement Report")=SEPARATE>`,
		`<has concept mod CODE:(,,"Procedure reported")=(36031-3,LN,"MR Sacroiliac Joint")>`,
		`<has obs context TEXT:(,,"Tracking Identifier")="ASAS40 response prediction">`,
		`<has obs context TEXT:(,,"Tracking Identifier")="ASAS20 response prediction">`,
		`<has concept mod CODE:(,,"Finding Site")=(39723000,SCT,"Sacroiliac joint")>`,
		`<contains CODE:(,,"Predicted treatment response")=(RESP,99SACRUM,"Predicted responder")>`,
		`<contains CODE:(,,"Predicted treatment response")=(NONRESP,99SACRUM,"Predicted non-responder")>`,
		`<has concept mod CODE:(,,"Model variant")=(DLRONLY,99SACRUM,"DLR score only, clinical inputs missing")>`,
		`<contains IMAGE:(,,"Referenced Segment")=(SG image,,1,...)>`,
	}
	for _, p := range r.Predictions {
		want = append(want, `<contains NUM:(,,"Predicted probability of response")="`+dw.FormatDS(p.Probability)+`" ({probability},UCUM,"probability")>`)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("dsrdump output lacks %s", w)
		}
	}
	if t.Failed() {
		t.Logf("dsrdump output:\n%s", text)
	}
}
