package dimse

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// TestTransitionTable checks cells of PS3.8 Table 9-10.
func TestTransitionTable(t *testing.T) {
	tests := []struct {
		evt  event
		sta  state
		want action
	}{
		{Evt1, Sta1, AE1}, {Evt2, Sta4, AE2}, {Evt3, Sta5, AE3}, {Evt4, Sta5, AE4}, {Evt5, Sta1, AE5},
		{Evt6, Sta2, AE6}, {Evt7, Sta3, AE7}, {Evt8, Sta3, AE8}, {Evt9, Sta6, DT1}, {Evt9, Sta8, AR7},
		{Evt10, Sta6, DT2}, {Evt10, Sta7, AR6}, {Evt11, Sta6, AR1}, {Evt12, Sta6, AR2}, {Evt12, Sta7, AR8},
		{Evt13, Sta7, AR3}, {Evt13, Sta10, AR10}, {Evt13, Sta11, AR3}, {Evt14, Sta8, AR4}, {Evt14, Sta9, AR9},
		{Evt14, Sta12, AR4}, {Evt15, Sta4, AA2}, {Evt15, Sta6, AA1}, {Evt15, Sta12, AA1},
		{Evt16, Sta2, AA2}, {Evt16, Sta6, AA3}, {Evt16, Sta13, AA2}, {Evt17, Sta2, AA5}, {Evt17, Sta6, AA4},
		{Evt17, Sta13, AR5}, {Evt18, Sta2, AA2}, {Evt18, Sta13, AA2}, {Evt19, Sta2, AA1}, {Evt19, Sta6, AA8},
		{Evt19, Sta13, AA7}, {Evt6, Sta13, AA7}, {Evt3, Sta2, AA1}, {Evt3, Sta6, AA8}, {Evt3, Sta13, AA6},
		{Evt10, Sta13, AA6}, {Evt12, Sta13, AA6}, {Evt13, Sta6, AA8}, {Evt4, Sta12, AA8}, {Evt6, Sta6, AA8},
	}
	for _, tt := range tests {
		if got := transitions[transitionKey{tt.evt, tt.sta}]; got != tt.want {
			t.Errorf("%s in %s: %s, want %s", tt.evt, tt.sta, got, tt.want)
		}
	}
	// Cells PS3.8 leaves empty are not transitions.
	for _, k := range []transitionKey{{Evt1, Sta6}, {Evt9, Sta2}, {Evt11, Sta7}, {Evt14, Sta6}, {Evt18, Sta6}, {Evt3, Sta4}, {Evt15, Sta1}, {Evt15, Sta2}} {
		if a, ok := transitions[k]; ok {
			t.Errorf("%s in %s: %s, want no transition", k.evt, k.sta, a)
		}
	}
	// Receiving any PDU or a closed transport is defined in every state with a connection.
	for _, e := range []event{Evt3, Evt4, Evt6, Evt10, Evt12, Evt13, Evt16, Evt17, Evt19} {
		for s := Sta2; s <= Sta13; s++ {
			if _, ok := transitions[transitionKey{e, s}]; !ok && s != Sta4 {
				t.Errorf("%s in %s: missing", e, s)
			}
		}
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-ch
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// traced returns a ulConn that records its transitions as "StaX+EvtY→action→StaZ".
func traced(nc net.Conn, requestor bool) (*ulConn, *[]string) {
	c := newULConn(nc, requestor, slog.New(slog.DiscardHandler))
	var log []string
	c.trace = func(s state, e event, a action, next state) {
		log = append(log, fmt.Sprintf("%s+%s→%s→%s", s, e, a, next))
	}
	return c, &log
}

func wantTrace(t *testing.T, who string, got *[]string, want ...string) {
	t.Helper()
	if strings.Join(*got, " ") != strings.Join(want, " ") {
		t.Errorf("%s transitions:\n got %v\nwant %v", who, *got, want)
	}
}

func mustFire(t *testing.T, c *ulConn, e event, p any) {
	t.Helper()
	if _, err := c.fire(e, p); err != nil {
		t.Fatalf("fire %s: %v", e, err)
	}
}

func mustNext(t *testing.T, c *ulConn) (event, any) {
	t.Helper()
	ev, p, _, err := c.next()
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	return ev, p
}

// establish runs association establishment between a requestor and an acceptor.
func establish(t *testing.T, rq, ac *ulConn) {
	t.Helper()
	mustFire(t, ac, Evt5, nil)
	mustFire(t, rq, Evt1, nil)
	mustFire(t, rq, Evt2, &associateRQ{ProtocolVersion: 1, CalledAE: "B", CallingAE: "A"})
	mustNext(t, ac)
	mustFire(t, ac, Evt7, &associateAC{ProtocolVersion: 1, CalledAE: "B", CallingAE: "A"})
	mustNext(t, rq)
	if rq.state != Sta6 || ac.state != Sta6 {
		t.Fatalf("states after establishment: %s %s", rq.state, ac.state)
	}
}

func TestEstablishAndRelease(t *testing.T) {
	a, b := tcpPair(t)
	rq, rqLog := traced(a, true)
	ac, acLog := traced(b, false)
	establish(t, rq, ac)
	mustFire(t, rq, Evt11, nil)
	mustNext(t, ac)
	mustFire(t, ac, Evt14, nil)
	mustNext(t, rq)
	mustNext(t, ac)
	wantTrace(t, "requestor", rqLog, "Sta1+Evt1→AE-1→Sta4", "Sta4+Evt2→AE-2→Sta5", "Sta5+Evt3→AE-3→Sta6",
		"Sta6+Evt11→AR-1→Sta7", "Sta7+Evt13→AR-3→Sta1")
	wantTrace(t, "acceptor", acLog, "Sta1+Evt5→AE-5→Sta2", "Sta2+Evt6→AE-6→Sta3", "Sta3+Evt7→AE-7→Sta6",
		"Sta6+Evt12→AR-2→Sta8", "Sta8+Evt14→AR-4→Sta13", "Sta13+Evt17→AR-5→Sta1")
}

func TestReleaseCollision(t *testing.T) {
	a, b := tcpPair(t)
	rq, rqLog := traced(a, true)
	ac, acLog := traced(b, false)
	establish(t, rq, ac)
	mustFire(t, rq, Evt11, nil)
	mustFire(t, ac, Evt11, nil)
	mustNext(t, rq)             // A-RELEASE-RQ from the acceptor: AR-8 → Sta9
	mustNext(t, ac)             // A-RELEASE-RQ from the requestor: AR-8 → Sta10
	mustFire(t, rq, Evt14, nil) // AR-9 → Sta11
	mustNext(t, ac)             // A-RELEASE-RP: AR-10 → Sta12
	mustFire(t, ac, Evt14, nil) // AR-4 → Sta13
	mustNext(t, rq)             // A-RELEASE-RP: AR-3 → Sta1
	mustNext(t, ac)             // transport closed: AR-5 → Sta1
	wantTrace(t, "requestor", rqLog, "Sta1+Evt1→AE-1→Sta4", "Sta4+Evt2→AE-2→Sta5", "Sta5+Evt3→AE-3→Sta6",
		"Sta6+Evt11→AR-1→Sta7", "Sta7+Evt12→AR-8→Sta9", "Sta9+Evt14→AR-9→Sta11", "Sta11+Evt13→AR-3→Sta1")
	wantTrace(t, "acceptor", acLog, "Sta1+Evt5→AE-5→Sta2", "Sta2+Evt6→AE-6→Sta3", "Sta3+Evt7→AE-7→Sta6",
		"Sta6+Evt11→AR-1→Sta7", "Sta7+Evt12→AR-8→Sta10", "Sta10+Evt13→AR-10→Sta12", "Sta12+Evt14→AR-4→Sta13",
		"Sta13+Evt17→AR-5→Sta1")
}

// TestARTIMExpiry: a connection that never sends an A-ASSOCIATE-RQ (Sta2), and a rejected
// requestor that does not close (Sta13), are closed when ARTIM expires (AA-2).
func TestARTIMExpiry(t *testing.T) {
	t.Run("Sta2", func(t *testing.T) {
		_, b := tcpPair(t)
		ac, acLog := traced(b, false)
		ac.artim = 50 * time.Millisecond
		start := time.Now()
		mustFire(t, ac, Evt5, nil)
		mustNext(t, ac)
		if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
			t.Errorf("ARTIM fired after %v, want about 50ms", d)
		}
		wantTrace(t, "acceptor", acLog, "Sta1+Evt5→AE-5→Sta2", "Sta2+Evt18→AA-2→Sta1")
		if !ac.closed {
			t.Error("transport not closed")
		}
	})
	t.Run("Sta13", func(t *testing.T) {
		a, b := tcpPair(t)
		rq, _ := traced(a, true)
		ac, acLog := traced(b, false)
		ac.artim = 50 * time.Millisecond
		mustFire(t, ac, Evt5, nil)
		mustFire(t, rq, Evt1, nil)
		mustFire(t, rq, Evt2, &associateRQ{ProtocolVersion: 1, CalledAE: "B", CallingAE: "A"})
		mustNext(t, ac)
		mustFire(t, ac, Evt8, &associateRJ{Result: 1, Source: 1, Reason: 3})
		mustNext(t, ac) // the requestor never closes
		wantTrace(t, "acceptor", acLog, "Sta1+Evt5→AE-5→Sta2", "Sta2+Evt6→AE-6→Sta3", "Sta3+Evt8→AE-8→Sta13", "Sta13+Evt18→AA-2→Sta1")
		_, p := mustNext(t, rq)
		if rj, ok := p.(*associateRJ); !ok || rj.Reason != 3 {
			t.Errorf("requestor got %#v, want A-ASSOCIATE-RJ reason 3", p)
		}
	})
}

func TestAbort(t *testing.T) {
	t.Run("peer abort in Sta6", func(t *testing.T) {
		a, b := tcpPair(t)
		rq, rqLog := traced(a, true)
		ac, acLog := traced(b, false)
		establish(t, rq, ac)
		rq.abortReason = abortReasonNotSpecified
		mustFire(t, rq, Evt15, nil) // AA-1: A-ABORT, ARTIM, Sta13
		ev, p := mustNext(t, ac)    // AA-3: indication, close
		if ev != Evt16 || p.(*abortPDU).Source != abortSourceUser {
			t.Errorf("acceptor got %s %#v", ev, p)
		}
		mustNext(t, rq) // transport closed in Sta13: AR-5
		wantTrace(t, "requestor", rqLog, "Sta1+Evt1→AE-1→Sta4", "Sta4+Evt2→AE-2→Sta5", "Sta5+Evt3→AE-3→Sta6",
			"Sta6+Evt15→AA-1→Sta13", "Sta13+Evt17→AR-5→Sta1")
		wantTrace(t, "acceptor", acLog, "Sta1+Evt5→AE-5→Sta2", "Sta2+Evt6→AE-6→Sta3", "Sta3+Evt7→AE-7→Sta6",
			"Sta6+Evt16→AA-3→Sta1")
	})
	t.Run("unexpected PDU in Sta6", func(t *testing.T) {
		a, b := tcpPair(t)
		rq, _ := traced(a, true)
		ac, acLog := traced(b, false)
		establish(t, rq, ac)
		if err := rq.send(&associateRQ{CalledAE: "B", CallingAE: "A"}); err != nil {
			t.Fatal(err)
		}
		mustNext(t, ac) // AA-8: A-ABORT (provider), ARTIM, Sta13
		ev, p := mustNext(t, rq)
		if ab, ok := p.(*abortPDU); ev != Evt16 || !ok || ab.Source != abortSourceProvider || ab.Reason != abortReasonUnexpectedPDU {
			t.Errorf("requestor got %s %#v, want A-ABORT from the provider, unexpected PDU", ev, p)
		}
		mustNext(t, ac)
		wantTrace(t, "acceptor", acLog, "Sta1+Evt5→AE-5→Sta2", "Sta2+Evt6→AE-6→Sta3", "Sta3+Evt7→AE-7→Sta6",
			"Sta6+Evt6→AA-8→Sta13", "Sta13+Evt17→AR-5→Sta1")
	})
	t.Run("malformed PDU in Sta2", func(t *testing.T) {
		a, b := tcpPair(t)
		ac, acLog := traced(b, false)
		mustFire(t, ac, Evt5, nil)
		a.Write([]byte{0x01, 0, 0, 0, 0, 3, 0, 1, 0})
		mustNext(t, ac) // Evt19: AA-1
		hdr := make([]byte, 10)
		if _, err := io.ReadFull(a, hdr); err != nil || hdr[0] != pduAbort {
			t.Fatalf("peer got % x, %v; want an A-ABORT", hdr, err)
		}
		a.Close()
		mustNext(t, ac)
		wantTrace(t, "acceptor", acLog, "Sta1+Evt5→AE-5→Sta2", "Sta2+Evt19→AA-1→Sta13", "Sta13+Evt17→AR-5→Sta1")
	})
}

// TestIdleTimeout: an established association without traffic is aborted by the local user (AA-1).
func TestIdleTimeout(t *testing.T) {
	a, b := tcpPair(t)
	rq, _ := traced(a, true)
	ac, acLog := traced(b, false)
	establish(t, rq, ac)
	ac.idle = 50 * time.Millisecond
	_, _, _, err := ac.next()
	if err == nil || !strings.Contains(err.Error(), "idle") {
		t.Errorf("err = %v, want idle timeout", err)
	}
	ev, p := mustNext(t, rq)
	if _, ok := p.(*abortPDU); ev != Evt16 || !ok {
		t.Errorf("requestor got %s %#v, want A-ABORT", ev, p)
	}
	mustNext(t, ac)
	wantTrace(t, "acceptor", acLog, "Sta1+Evt5→AE-5→Sta2", "Sta2+Evt6→AE-6→Sta3", "Sta3+Evt7→AE-7→Sta6",
		"Sta6+Evt15→AA-1→Sta13", "Sta13+Evt17→AR-5→Sta1")
}

func TestNoTransition(t *testing.T) {
	_, b := tcpPair(t)
	c, _ := traced(b, false)
	if _, err := c.fire(Evt9, &pDataTF{}); err == nil {
		t.Error("P-DATA request in Sta1 accepted")
	}
	if c.state != Sta1 {
		t.Errorf("state changed to %s", c.state)
	}
}
