package dimse

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"
)

// state is a state of the upper layer state machine (PS3.8 Table 9-1).
type state int

const (
	Sta1  state = iota + 1 // Idle
	Sta2                   // Transport connection open (awaiting A-ASSOCIATE-RQ PDU)
	Sta3                   // Awaiting local A-ASSOCIATE response primitive
	Sta4                   // Awaiting transport connection opening to complete
	Sta5                   // Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU
	Sta6                   // Association established and ready for data transfer
	Sta7                   // Awaiting A-RELEASE-RP PDU
	Sta8                   // Awaiting local A-RELEASE response primitive
	Sta9                   // Release collision requestor side; awaiting A-RELEASE response primitive
	Sta10                  // Release collision acceptor side; awaiting A-RELEASE-RP PDU
	Sta11                  // Release collision requestor side; awaiting A-RELEASE-RP PDU
	Sta12                  // Release collision acceptor side; awaiting A-RELEASE response primitive
	Sta13                  // Awaiting transport connection close indication
)

func (s state) String() string { return fmt.Sprintf("Sta%d", int(s)) }

// event is an upper layer event (PS3.8 Table 9-2).
type event int

const (
	Evt1  event = iota + 1 // A-ASSOCIATE request (local user)
	Evt2                   // Transport connect confirmation (local transport service)
	Evt3                   // A-ASSOCIATE-AC PDU received
	Evt4                   // A-ASSOCIATE-RJ PDU received
	Evt5                   // Transport connection indication (local transport service)
	Evt6                   // A-ASSOCIATE-RQ PDU received
	Evt7                   // A-ASSOCIATE response primitive (accept)
	Evt8                   // A-ASSOCIATE response primitive (reject)
	Evt9                   // P-DATA request primitive
	Evt10                  // P-DATA-TF PDU received
	Evt11                  // A-RELEASE request primitive
	Evt12                  // A-RELEASE-RQ PDU received
	Evt13                  // A-RELEASE-RP PDU received
	Evt14                  // A-RELEASE response primitive
	Evt15                  // A-ABORT request primitive
	Evt16                  // A-ABORT PDU received
	Evt17                  // Transport connection closed indication
	Evt18                  // ARTIM timer expired
	Evt19                  // Unrecognized or invalid PDU received
)

func (e event) String() string { return fmt.Sprintf("Evt%d", int(e)) }

// action is an upper layer action (PS3.8 Tables 9-6 to 9-9).
type action int

const (
	noAction action = iota
	AE1
	AE2
	AE3
	AE4
	AE5
	AE6
	AE7
	AE8
	DT1
	DT2
	AR1
	AR2
	AR3
	AR4
	AR5
	AR6
	AR7
	AR8
	AR9
	AR10
	AA1
	AA2
	AA3
	AA4
	AA5
	AA6
	AA7
	AA8
)

var actionNames = [...]string{"none", "AE-1", "AE-2", "AE-3", "AE-4", "AE-5", "AE-6", "AE-7", "AE-8", "DT-1", "DT-2",
	"AR-1", "AR-2", "AR-3", "AR-4", "AR-5", "AR-6", "AR-7", "AR-8", "AR-9", "AR-10",
	"AA-1", "AA-2", "AA-3", "AA-4", "AA-5", "AA-6", "AA-7", "AA-8"}

func (a action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", int(a))
}

type transitionKey struct {
	evt event
	sta state
}

// transitions is PS3.8 Table 9-10 (state transition table).
var transitions = func() map[transitionKey]action {
	t := map[transitionKey]action{
		{Evt1, Sta1}: AE1, {Evt2, Sta4}: AE2, {Evt5, Sta1}: AE5,
		{Evt6, Sta2}: AE6, {Evt7, Sta3}: AE7, {Evt8, Sta3}: AE8,
		{Evt9, Sta6}: DT1, {Evt9, Sta8}: AR7, {Evt11, Sta6}: AR1,
		{Evt14, Sta8}: AR4, {Evt14, Sta9}: AR9, {Evt14, Sta12}: AR4,
		{Evt15, Sta4}: AA2, {Evt18, Sta2}: AA2, {Evt18, Sta13}: AA2,
		{Evt16, Sta2}: AA2, {Evt16, Sta13}: AA2,
		{Evt17, Sta2}: AA5, {Evt17, Sta13}: AR5,
		{Evt3, Sta5}: AE3, {Evt4, Sta5}: AE4,
		{Evt10, Sta6}: DT2, {Evt10, Sta7}: AR6,
		{Evt12, Sta6}: AR2, {Evt12, Sta7}: AR8,
		{Evt13, Sta7}: AR3, {Evt13, Sta10}: AR10, {Evt13, Sta11}: AR3,
		{Evt6, Sta13}: AA7, {Evt19, Sta13}: AA7,
	}
	// Receiving a PDU in Sta2 that is not an A-ASSOCIATE-RQ: AA-1; in Sta13: ignore (AA-6);
	// in any other state where it is not expected: AA-8.
	for _, e := range []event{Evt3, Evt4, Evt6, Evt10, Evt12, Evt13, Evt19} {
		for s := Sta2; s <= Sta13; s++ {
			k := transitionKey{e, s}
			if _, ok := t[k]; ok || s == Sta4 {
				continue
			}
			switch s {
			case Sta2:
				t[k] = AA1
			case Sta13:
				t[k] = AA6
			default:
				t[k] = AA8
			}
		}
	}
	for s := Sta3; s <= Sta12; s++ {
		if s != Sta4 {
			t[transitionKey{Evt15, s}] = AA1
			t[transitionKey{Evt16, s}] = AA3
		}
		t[transitionKey{Evt17, s}] = AA4
	}
	return t
}()

// errNoTransition is returned when an event is not allowed in the current state (a local misuse).
var errNoTransition = errors.New("dimse: event not allowed in this state")

// ulConn is one association's upper layer: the transport connection and the state machine.
// It is used by one goroutine at a time.
type ulConn struct {
	nc        net.Conn
	r         *bufio.Reader
	state     state
	requestor bool

	artim   time.Duration // ARTIM timeout
	artimAt time.Time     // zero when the ARTIM timer is stopped
	idle    time.Duration // Sta6 idle timeout (0 = none); on expiry we abort
	timeout time.Duration // read timeout in other waiting states (0 = none)
	maxRecv uint32        // P-DATA-TF body limit

	buf         []byte
	log         *slog.Logger
	abortReason byte // reason for the next A-ABORT we send (AA-1, AA-7, AA-8)
	peerAbort   *abortPDU
	closed      bool
	trace       func(s state, e event, a action, next state) // tests
}

// hardPDULimit bounds P-DATA-TF PDUs when our maximum is unlimited (0).
const hardPDULimit = 64 << 20

func newULConn(nc net.Conn, requestor bool, log *slog.Logger) *ulConn {
	return &ulConn{
		nc:        nc,
		r:         bufio.NewReaderSize(nc, 64<<10),
		state:     Sta1,
		requestor: requestor,
		artim:     30 * time.Second,
		maxRecv:   hardPDULimit,
		log:       log,
	}
}

// setMaxRecv sets the P-DATA-TF body limit from our advertised maximum length. Some peers
// overshoot it slightly (counting headers differently), so we allow 64 KiB of slack while
// still bounding memory.
func (c *ulConn) setMaxRecv(ourMax uint32) {
	if ourMax == 0 || ourMax > hardPDULimit {
		c.maxRecv = hardPDULimit
		return
	}
	c.maxRecv = ourMax + 64<<10
}

// fire executes the action for event e in the current state (PS3.8 §9.2) and moves to the next state.
// p is the PDU received (Evt3, 4, 6, 10, 12, 13, 16) or to send (Evt2, 7, 8, 9).
func (c *ulConn) fire(e event, p any) (action, error) {
	a, ok := transitions[transitionKey{e, c.state}]
	if !ok {
		return noAction, fmt.Errorf("%w: %s in %s", errNoTransition, e, c.state)
	}
	prev := c.state
	next, err := c.do(a, p)
	if c.trace != nil {
		c.trace(prev, e, a, next)
	}
	c.state = next
	if next == Sta1 {
		c.close()
	}
	return a, err
}

func (c *ulConn) do(a action, p any) (state, error) {
	switch a {
	case AE1:
		return Sta4, nil
	case AE2:
		return Sta5, c.send(p)
	case AE3:
		return Sta6, nil
	case AE4:
		return Sta1, nil
	case AE5:
		c.startARTIM()
		return Sta2, nil
	case AE6:
		c.stopARTIM()
		rq, _ := p.(*associateRQ)
		if rq != nil && rq.ProtocolVersion&1 == 0 {
			c.startARTIM()
			return Sta13, c.send(&associateRJ{Result: RejectPermanent, Source: RejectSourceACSE, Reason: ReasonProtocolVersionNotSupported})
		}
		return Sta3, nil
	case AE7:
		return Sta6, c.send(p)
	case AE8:
		c.startARTIM()
		return Sta13, c.send(p)
	case DT1:
		return Sta6, c.send(p)
	case DT2:
		return Sta6, nil
	case AR1:
		return Sta7, c.send(&releaseRQ{})
	case AR2:
		return Sta8, nil
	case AR3:
		return Sta1, nil
	case AR4:
		c.startARTIM()
		return Sta13, c.send(&releaseRP{})
	case AR5:
		c.stopARTIM()
		return Sta1, nil
	case AR6:
		return Sta7, nil
	case AR7:
		return Sta8, c.send(p)
	case AR8:
		if c.requestor {
			return Sta9, nil
		}
		return Sta10, nil
	case AR9:
		return Sta11, c.send(&releaseRP{})
	case AR10:
		return Sta12, nil
	case AA1:
		c.startARTIM()
		return Sta13, c.send(&abortPDU{Source: abortSourceUser, Reason: c.abortReason})
	case AA2:
		c.stopARTIM()
		return Sta1, nil
	case AA3:
		c.peerAbort, _ = p.(*abortPDU)
		return Sta1, nil
	case AA4:
		return Sta1, nil
	case AA5:
		c.stopARTIM()
		return Sta1, nil
	case AA6:
		return Sta13, nil
	case AA7:
		return Sta13, c.send(&abortPDU{Source: abortSourceProvider, Reason: c.abortReason})
	case AA8:
		c.startARTIM()
		return Sta13, c.send(&abortPDU{Source: abortSourceProvider, Reason: c.abortReason})
	}
	return c.state, fmt.Errorf("dimse: unknown action %d", a)
}

func (c *ulConn) startARTIM() { c.artimAt = time.Now().Add(c.artim) }
func (c *ulConn) stopARTIM()  { c.artimAt = time.Time{} }

// send writes one PDU. Write errors close the transport; the next read reports Evt17.
func (c *ulConn) send(p any) error {
	b, err := encodePDU(p)
	if err != nil {
		return err
	}
	return c.write(b)
}

func (c *ulConn) write(b []byte) error {
	if c.closed {
		return net.ErrClosed
	}
	if c.timeout > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	}
	if _, err := c.nc.Write(b); err != nil {
		c.close()
		return fmt.Errorf("dimse: send: %w", err)
	}
	return nil
}

func (c *ulConn) close() {
	if !c.closed {
		c.closed = true
		c.nc.Close()
	}
}

// errIdle is reported when the idle timeout in Sta6 made us abort the association.
var errIdle = errors.New("dimse: idle timeout")

// next reads the next PDU and turns it (or a timer expiry, or the connection closing) into an event,
// which it fires. It returns the event, the decoded PDU and the action taken.
func (c *ulConn) next() (event, any, action, error) {
	if c.closed {
		a, err := c.fire(Evt17, nil)
		return Evt17, nil, a, err
	}
	var deadline time.Time
	idle := false
	switch {
	case !c.artimAt.IsZero():
		deadline = c.artimAt
	case c.state == Sta6 && c.idle > 0:
		deadline, idle = time.Now().Add(c.idle), true
	case c.timeout > 0:
		deadline = time.Now().Add(c.timeout)
	}
	c.nc.SetReadDeadline(deadline)
	p, buf, err := readPDU(c.r, c.buf, c.maxRecv)
	c.buf = buf
	var ev event
	switch {
	case err == nil:
		ev = pduEvent(p)
	case errors.Is(err, errMalformed):
		c.log.Warn("malformed PDU", "err", err, "state", c.state.String())
		c.abortReason = abortReasonUnrecognizedPDU
		ev = Evt19
	case errors.Is(err, os.ErrDeadlineExceeded):
		if !c.artimAt.IsZero() {
			ev = Evt18
		} else {
			// Idle or response timeout: the local user aborts (Evt15).
			c.abortReason = abortReasonNotSpecified
			a, ferr := c.fire(Evt15, nil)
			if idle {
				return Evt15, nil, a, errors.Join(errIdle, ferr)
			}
			return Evt15, nil, a, errors.Join(fmt.Errorf("dimse: timed out after %v in %s", c.timeout, c.state), ferr)
		}
	default:
		// EOF, reset, or a closed connection: transport closed indication.
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			c.log.Debug("transport read", "err", err)
		}
		c.close()
		ev = Evt17
	}
	if ev == Evt3 || ev == Evt4 || ev == Evt6 || ev == Evt10 || ev == Evt12 || ev == Evt13 {
		c.abortReason = abortReasonUnexpectedPDU
	}
	a, ferr := c.fire(ev, p)
	return ev, p, a, ferr
}

func pduEvent(p any) event {
	switch p.(type) {
	case *associateAC:
		return Evt3
	case *associateRJ:
		return Evt4
	case *associateRQ:
		return Evt6
	case *pDataTF:
		return Evt10
	case *releaseRQ:
		return Evt12
	case *releaseRP:
		return Evt13
	case *abortPDU:
		return Evt16
	}
	return Evt19
}

// abort is the local A-ABORT request (Evt15) followed by waiting for the peer to close (Sta13).
func (c *ulConn) abort(reason byte) {
	c.abortReason = reason
	if c.state == Sta1 {
		return
	}
	if _, err := c.fire(Evt15, nil); err != nil {
		c.close()
		c.state = Sta1
		return
	}
	c.drain()
}

// drain waits in Sta13 for the transport to close or ARTIM to expire.
func (c *ulConn) drain() {
	for c.state == Sta13 {
		if _, _, _, err := c.next(); err != nil && errors.Is(err, errNoTransition) {
			c.close()
			c.state = Sta1
		}
	}
}
