package dimse

import (
	"net"
	"testing"
)

func TestNegotiate(t *testing.T) {
	s, err := NewServer(ServerConfig{AETitle: "SACRUM", TempDir: t.TempDir(), Handler: DirHandler{Dir: t.TempDir()},
		Allow: []AllowEntry{{AETitle: "PACS"}}, MaxPDULength: 32768})
	if err != nil {
		t.Fatal(err)
	}
	peer := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 4000}
	rq := &associateRQ{ProtocolVersion: 1, CalledAE: "SACRUM", CallingAE: "PACS", ApplicationContext: ApplicationContextName,
		PresentationContexts: []presentationContextRQ{
			{ID: 1, AbstractSyntax: MRImageStorage, TransferSyntaxes: []string{ImplicitVRLittleEndian, ExplicitVRLittleEndian}},
			{ID: 3, AbstractSyntax: MRImageStorage, TransferSyntaxes: []string{"1.2.840.10008.1.2.4.70"}},
			{ID: 5, AbstractSyntax: "1.2.840.10008.5.1.4.1.1.2", TransferSyntaxes: []string{ImplicitVRLittleEndian}},
			{ID: 6, AbstractSyntax: VerificationSOPClass, TransferSyntaxes: []string{ImplicitVRLittleEndian}},
			{ID: 1, AbstractSyntax: VerificationSOPClass, TransferSyntaxes: []string{ImplicitVRLittleEndian}},
			{ID: 7, AbstractSyntax: ComprehensiveSRStorage, TransferSyntaxes: []string{DeflatedExplicitVRLittleEndian}},
		},
		UserInfo: userInfo{MaxLength: 0, AsyncOps: &asyncOpsWindow{MaxInvoked: 5, MaxPerformed: 5},
			Roles:        []roleSelection{{SOPClassUID: MRImageStorage, SCU: true, SCP: true}},
			UserIdentity: &userIdentityRQ{Type: 1, PositiveResponseRequired: true, Primary: []byte("alice")}},
	}
	ac, rj, why := s.negotiate(rq, peer, false)
	if rj != nil {
		t.Fatalf("rejected: %+v %s", rj, why)
	}
	want := []presentationContextAC{
		{ID: 1, Result: resultAcceptance, TransferSyntax: ExplicitVRLittleEndian}, // our preference order
		{ID: 3, Result: resultTransferSyntaxesNotSupp, TransferSyntax: ImplicitVRLittleEndian},
		{ID: 5, Result: resultAbstractSyntaxNotSupp, TransferSyntax: ImplicitVRLittleEndian},
		{ID: 6, Result: resultNoReason, TransferSyntax: ImplicitVRLittleEndian}, // even ID
		{ID: 1, Result: resultNoReason, TransferSyntax: ImplicitVRLittleEndian}, // duplicate ID
		{ID: 7, Result: resultAcceptance, TransferSyntax: DeflatedExplicitVRLittleEndian},
	}
	if len(ac.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(ac.Results), len(want))
	}
	for i := range want {
		if ac.Results[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, ac.Results[i], want[i])
		}
	}
	u := ac.UserInfo
	if u.MaxLength != 32768 || u.ImplementationClassUID != defaultImplementationClassUID || u.AsyncOps != nil {
		t.Errorf("user info = %+v (max length ours, no asynchronous operations window)", u)
	}
	if len(u.Roles) != 1 || !u.Roles[0].SCU || u.Roles[0].SCP {
		t.Errorf("roles = %+v, want SCU only", u.Roles)
	}
	if u.UserIdentityResponse == nil || len(u.UserIdentityResponse) != 0 {
		t.Errorf("user identity response = %v, want present and empty", u.UserIdentityResponse)
	}
	rq.UserInfo.UserIdentity.PositiveResponseRequired = false
	if ac, _, _ := s.negotiate(rq, peer, false); ac.UserInfo.UserIdentityResponse != nil {
		t.Error("user identity response sent although none was requested")
	}

	rejects := []struct {
		name   string
		mod    func(*associateRQ)
		over   bool
		want   associateRJ
		reason string
	}{
		{"application context", func(r *associateRQ) { r.ApplicationContext = "1.2.3" }, false, associateRJ{1, 1, 2}, "application context"},
		{"called AE", func(r *associateRQ) { r.CalledAE = "OTHER" }, false, associateRJ{1, 1, 7}, "called AE"},
		{"calling AE", func(r *associateRQ) { r.CallingAE = "UNKNOWN" }, false, associateRJ{1, 1, 3}, "calling AE"},
		{"over limit", func(r *associateRQ) {}, true, associateRJ{2, 3, 2}, "associations"},
	}
	for _, tt := range rejects {
		r := *rq
		tt.mod(&r)
		_, rj, why := s.negotiate(&r, peer, tt.over)
		if rj == nil || *rj != tt.want {
			t.Errorf("%s: reject = %+v (%s), want %+v", tt.name, rj, why, tt.want)
		}
	}
}
