package dimse

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// AllowEntry admits a calling AE title, optionally only from one IP address.
type AllowEntry struct {
	AETitle string // "*" admits any calling AE title
	IP      net.IP // nil = any address
}

// ParseAllowEntry parses "AE" or "AE@IP".
func ParseAllowEntry(s string) (AllowEntry, error) {
	ae, ip, hasIP := strings.Cut(strings.TrimSpace(s), "@")
	if ae == "" || len(ae) > 16 {
		return AllowEntry{}, fmt.Errorf("allow entry %q: AE title must have 1 to 16 characters", s)
	}
	e := AllowEntry{AETitle: ae}
	if hasIP {
		e.IP = net.ParseIP(ip)
		if e.IP == nil {
			return AllowEntry{}, fmt.Errorf("allow entry %q: %q is not an IP address", s, ip)
		}
	}
	return e, nil
}

func (e AllowEntry) String() string {
	if e.IP != nil {
		return e.AETitle + "@" + e.IP.String()
	}
	return e.AETitle
}

// ServerConfig configures the C-ECHO/C-STORE SCP. Zero durations and sizes take the defaults below.
type ServerConfig struct {
	AETitle          string        // our AE title; the called AE title must match it
	MaxPDULength     uint32        // our maximum receive length, announced to peers (0 = 262144); we never offer unlimited
	MaxAssociations  int           // concurrent associations (default 16); beyond: transient reject
	IdleTimeout      time.Duration // abort an established association idle this long (default 5m)
	ARTIMTimeout     time.Duration // ARTIM timer (default 30s)
	Allow            []AllowEntry  // calling AE allow-list; empty rejects every calling AE title
	TLS              *tls.Config   // nil = plain TCP
	SOPClasses       []string      // accepted abstract syntaxes (default DefaultSOPClasses)
	TransferSyntaxes []string      // accepted transfer syntaxes, preferred first (default DefaultTransferSyntaxes)
	TempDir          string        // where datasets are streamed; same file system as the handler's target
	NoFsync          bool          // skip fsync of received files (tests, benchmarks only)
	Handler          StoreHandler
	Logger           *slog.Logger
	Observer         Observer // nil = none; told of connections and association outcomes (metrics)

	ImplementationClassUID    string
	ImplementationVersionName string
}

// Observer is told of the server's connections and association outcomes, for metrics. Its methods are
// called from the goroutines serving connections, concurrently, and must return quickly.
type Observer interface {
	// ConnectionOpened and ConnectionClosed bracket each accepted TCP (or TLS) connection.
	ConnectionOpened()
	ConnectionClosed()
	// AssociationAccepted follows a sent A-ASSOCIATE-AC.
	AssociationAccepted(info AssociationInfo)
	// AssociationRejected follows a sent A-ASSOCIATE-RJ with its result, source and reason (PS3.8 §9.3.4).
	AssociationRejected(info AssociationInfo, result, source, reason byte)
}

// noObserver is the Observer of a server configured without one.
type noObserver struct{}

func (noObserver) ConnectionOpened()                                     {}
func (noObserver) ConnectionClosed()                                     {}
func (noObserver) AssociationAccepted(AssociationInfo)                   {}
func (noObserver) AssociationRejected(AssociationInfo, byte, byte, byte) {}

// Server is a DICOM SCP for C-ECHO and C-STORE.
type Server struct {
	cfg ServerConfig
	log *slog.Logger
	obs Observer

	pool *rxPool // receive files with durable directory entries

	mu     sync.Mutex
	active int
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// NewServer validates cfg and fills in defaults.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.AETitle == "" || len(cfg.AETitle) > 16 {
		return nil, fmt.Errorf("dimse: AE title %q must have 1 to 16 characters", cfg.AETitle)
	}
	if cfg.Handler == nil {
		return nil, errors.New("dimse: server needs a StoreHandler")
	}
	if cfg.TempDir == "" {
		return nil, errors.New("dimse: server needs a TempDir")
	}
	if err := os.MkdirAll(cfg.TempDir, 0o755); err != nil {
		return nil, fmt.Errorf("dimse: temp dir: %w", err)
	}
	if cfg.MaxPDULength == 0 {
		cfg.MaxPDULength = 262144
	}
	if cfg.MaxAssociations <= 0 {
		cfg.MaxAssociations = 16
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.ARTIMTimeout == 0 {
		cfg.ARTIMTimeout = 30 * time.Second
	}
	if len(cfg.SOPClasses) == 0 {
		cfg.SOPClasses = DefaultSOPClasses
	}
	if len(cfg.TransferSyntaxes) == 0 {
		cfg.TransferSyntaxes = DefaultTransferSyntaxes
	}
	for _, ts := range cfg.TransferSyntaxes {
		if !decodableTransferSyntax(ts) {
			return nil, fmt.Errorf("dimse: transfer syntax %s cannot be accepted (only implicit, explicit and deflated explicit VR little endian)", ts)
		}
	}
	if cfg.ImplementationClassUID == "" {
		cfg.ImplementationClassUID = defaultImplementationClassUID
	}
	if cfg.ImplementationVersionName == "" {
		cfg.ImplementationVersionName = defaultImplementationVersion
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var obs Observer = noObserver{}
	if cfg.Observer != nil {
		obs = cfg.Observer
	}
	return &Server{cfg: cfg, log: log, obs: obs, conns: map[net.Conn]struct{}{},
		pool: newRxPool(cfg.TempDir, cfg.NoFsync, log)}, nil
}

func decodableTransferSyntax(ts string) bool {
	return ts == ImplicitVRLittleEndian || ts == ExplicitVRLittleEndian || ts == DeflatedExplicitVRLittleEndian
}

// ListenAndServe listens on addr (TLS when configured) and serves until ctx is done.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("dimse: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts associations on ln until ctx is done, then waits for active associations up to
// the ARTIM timeout before closing them. While it serves, a pool of empty receive files is kept in
// TempDir; the unused ones are removed when it returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	poolCtx, stopPool := context.WithCancel(context.Background())
	poolDone := make(chan struct{})
	go func() { defer close(poolDone); s.pool.run(poolCtx) }()
	defer func() { stopPool(); <-poolDone }()
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	s.log.Info("listening", "addr", ln.Addr().String(), "aet", s.cfg.AETitle, "tls", s.cfg.TLS != nil)
	var tempDelay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				s.shutdown()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			s.shutdown()
			return fmt.Errorf("dimse: accept: %w", err)
		}
		tempDelay = 0
		s.obs.ConnectionOpened()
		s.mu.Lock()
		s.active++
		over := s.active > s.cfg.MaxAssociations
		s.conns[nc] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				s.active--
				delete(s.conns, nc)
				s.mu.Unlock()
				s.obs.ConnectionClosed()
			}()
			s.serveConn(ctx, nc, over)
		}()
	}
}

func (s *Server) shutdown() {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(s.cfg.ARTIMTimeout):
	}
	s.mu.Lock()
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	<-done
}

func newAssocID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// acceptedContext is a presentation context accepted for an association.
type acceptedContext struct {
	AbstractSyntax string
	TransferSyntax string
}

// scpAssoc is the DIMSE provider state of one association on the SCP side.
type scpAssoc struct {
	s        *Server
	c        *ulConn
	ctx      context.Context
	id       string
	info     AssociationInfo
	log      *slog.Logger
	contexts map[byte]acceptedContext
	peerMax  uint32
	ra       reassembler
	cur      *incoming
	sendBuf  []byte
	w        *bufio.Writer
}

// incoming is a C-STORE whose dataset is being received.
type incoming struct {
	req     StoreRequest
	ctxID   byte
	status  uint16 // non-success: discard the dataset and answer this
	comment string
	f       *os.File
	rx      rxWriter // writes f, keeping length and checksum for the completion marker
	w       *bufio.Writer
	path    string
	size    int64
	prefix  []byte // first bytes of the dataset, to check the SOP UIDs
	started time.Time
}

const prefixLen = 4096

func (s *Server) serveConn(ctx context.Context, nc net.Conn, overLimit bool) {
	peer := nc.RemoteAddr()
	id := newAssocID()
	log := s.log.With("assoc", id, "peer", peer.String())
	// A bug must cost one association, not the node (as net/http does per connection).
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic serving association", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			nc.Close()
		}
	}()
	c := newULConn(nc, false, log)
	c.artim = s.cfg.ARTIMTimeout
	c.idle = s.cfg.IdleTimeout
	c.timeout = s.cfg.IdleTimeout
	c.setMaxRecv(s.cfg.MaxPDULength)
	a := &scpAssoc{s: s, c: c, ctx: ctx, id: id, log: log, contexts: map[byte]acceptedContext{}}
	defer a.discard()
	if tc, ok := nc.(*tls.Conn); ok {
		hctx, cancel := context.WithTimeout(ctx, s.cfg.ARTIMTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			log.Warn("TLS handshake failed", "err", err)
			nc.Close()
			return
		}
	}
	if _, err := c.fire(Evt5, nil); err != nil {
		log.Error("state machine", "err", err)
		c.close()
		return
	}
	for c.state != Sta1 {
		ev, p, act, err := c.next()
		if err != nil && !errors.Is(err, errIdle) {
			a.log.Warn("association", "event", ev.String(), "action", act.String(), "err", err)
		} else if errors.Is(err, errIdle) {
			a.log.Info("idle timeout, association aborted")
		}
		switch {
		case act == AE6 && c.state == Sta3:
			a.associate(p.(*associateRQ), peer, overLimit)
		case act == AE6 && c.state == Sta13:
			// The state machine itself rejected the request (protocol version not supported).
			rq := p.(*associateRQ)
			info := AssociationInfo{CallingAE: rq.CallingAE, CalledAE: rq.CalledAE, PeerAddr: peer, ID: a.id}
			a.log.Warn("association rejected", "why", "protocol version not supported", "calling_aet", rq.CallingAE)
			s.obs.AssociationRejected(info, RejectPermanent, RejectSourceACSE, ReasonProtocolVersionNotSupported)
		case act == DT2:
			for _, item := range p.(*pDataTF).Items {
				if err := a.ra.feed(item, a); err != nil {
					a.log.Warn("aborting association", "err", err)
					c.abortReason = abortReasonNotSpecified
					if _, ferr := c.fire(Evt15, nil); ferr != nil {
						c.close()
						c.state = Sta1
					}
					break
				}
			}
		case act == AR2:
			if a.cur != nil {
				a.log.Warn("release requested during a C-STORE; discarding the partial dataset", "sop_instance", a.cur.req.SOPInstanceUID)
			}
			a.log.Info("association released")
			c.fire(Evt14, nil)
		case act == AA3:
			a.log.Info("association aborted by peer", "source", c.peerAbort.Source, "reason", c.peerAbort.Reason)
		case act == AA8 || (act == AA1 && ev == Evt19):
			a.log.Warn("association aborted", "event", ev.String(), "state_action", act.String())
		case act == AA4 && ev == Evt17:
			a.log.Info("connection closed by peer")
		}
	}
}

// associate answers an A-ASSOCIATE-RQ (Sta3): reject (AE-8) or accept (AE-7) with negotiated contexts.
func (a *scpAssoc) associate(rq *associateRQ, peer net.Addr, overLimit bool) {
	a.info = AssociationInfo{CallingAE: rq.CallingAE, CalledAE: rq.CalledAE, PeerAddr: peer, ID: a.id}
	a.log = a.log.With("calling_aet", rq.CallingAE, "called_aet", rq.CalledAE)
	a.c.log = a.log
	ac, rj, why := a.s.negotiate(rq, peer, overLimit)
	if rj != nil {
		a.log.Warn("association rejected", "why", why, "result", rj.Result, "source", rj.Source, "reason", rj.Reason)
		a.c.fire(Evt8, rj)
		a.s.obs.AssociationRejected(a.info, rj.Result, rj.Source, rj.Reason)
		return
	}
	accepted := 0
	for _, r := range ac.Results {
		if r.Result == resultAcceptance {
			pc := rq.PresentationContexts[slices.IndexFunc(rq.PresentationContexts, func(p presentationContextRQ) bool { return p.ID == r.ID })]
			a.contexts[r.ID] = acceptedContext{AbstractSyntax: pc.AbstractSyntax, TransferSyntax: r.TransferSyntax}
			accepted++
		}
	}
	a.peerMax = rq.UserInfo.MaxLength
	if _, err := a.c.fire(Evt7, ac); err != nil {
		a.log.Warn("send A-ASSOCIATE-AC", "err", err)
		return
	}
	a.log.Info("association accepted", "contexts_proposed", len(rq.PresentationContexts), "contexts_accepted", accepted,
		"peer_max_pdu", rq.UserInfo.MaxLength, "implementation_class_uid", rq.UserInfo.ImplementationClassUID,
		"implementation_version", rq.UserInfo.ImplementationVersionName)
	a.s.obs.AssociationAccepted(a.info)
}

// negotiate decides on an A-ASSOCIATE-RQ: an A-ASSOCIATE-AC, or an A-ASSOCIATE-RJ and why.
func (s *Server) negotiate(rq *associateRQ, peer net.Addr, overLimit bool) (*associateAC, *associateRJ, string) {
	switch {
	case rq.ApplicationContext != ApplicationContextName:
		return nil, &associateRJ{RejectPermanent, RejectSourceUser, ReasonAppContextNotSupported}, "application context " + rq.ApplicationContext
	case rq.CalledAE != s.cfg.AETitle:
		return nil, &associateRJ{RejectPermanent, RejectSourceUser, ReasonCalledAENotRecognized}, "called AE title not recognized"
	case !s.allowed(rq.CallingAE, peer):
		return nil, &associateRJ{RejectPermanent, RejectSourceUser, ReasonCallingAENotRecognized}, "calling AE title not recognized"
	case overLimit:
		return nil, &associateRJ{RejectTransient, RejectSourcePresentation, ReasonLocalLimitExceeded}, fmt.Sprintf("more than %d associations", s.cfg.MaxAssociations)
	}
	ac := &associateAC{
		ProtocolVersion: 1, CalledAE: rq.CalledAE, CallingAE: rq.CallingAE, ApplicationContext: ApplicationContextName,
		UserInfo: userInfo{
			MaxLength:                 s.cfg.MaxPDULength,
			ImplementationClassUID:    s.cfg.ImplementationClassUID,
			ImplementationVersionName: s.cfg.ImplementationVersionName,
		},
	}
	seen := map[byte]bool{}
	for _, pc := range rq.PresentationContexts {
		res := presentationContextAC{ID: pc.ID, Result: resultAbstractSyntaxNotSupp, TransferSyntax: ImplicitVRLittleEndian}
		switch {
		case pc.ID%2 == 0 || seen[pc.ID]:
			// Presentation context IDs are odd and unique (PS3.8 §9.3.2.2).
			res.Result = resultNoReason
		case slices.Contains(s.cfg.SOPClasses, pc.AbstractSyntax):
			res.Result = resultTransferSyntaxesNotSupp
			for _, ts := range s.cfg.TransferSyntaxes {
				if slices.Contains(pc.TransferSyntaxes, ts) {
					res.Result, res.TransferSyntax = resultAcceptance, ts
					break
				}
			}
		}
		seen[pc.ID] = true
		ac.Results = append(ac.Results, res)
	}
	// We only act as SCP of what we accept and never as SCU: answer role selection accordingly.
	for _, r := range rq.UserInfo.Roles {
		ac.UserInfo.Roles = append(ac.UserInfo.Roles, roleSelection{SOPClassUID: r.SOPClassUID, SCU: r.SCU, SCP: false})
	}
	if id := rq.UserInfo.UserIdentity; id != nil && id.PositiveResponseRequired {
		// We do not authenticate users (the AE allow-list is the access control); an empty server
		// response acknowledges the identity as requested (PS3.7 D.3.3.7.2).
		ac.UserInfo.UserIdentityResponse = []byte{}
	}
	return ac, nil, ""
}

func (s *Server) allowed(callingAE string, peer net.Addr) bool {
	var ip net.IP
	if ta, ok := peer.(*net.TCPAddr); ok {
		ip = ta.IP
	}
	for _, e := range s.cfg.Allow {
		if e.AETitle != "*" && e.AETitle != callingAE {
			continue
		}
		if e.IP == nil || (ip != nil && e.IP.Equal(ip)) {
			return true
		}
	}
	return false
}

// onCommand handles a complete command set (messageSink).
func (a *scpAssoc) onCommand(ctxID byte, cmd *command) error {
	pc, ok := a.contexts[ctxID]
	if !ok {
		return fmt.Errorf("%w: %s on presentation context %d which was not accepted", errProtocol, commandName(cmd.CommandField), ctxID)
	}
	switch cmd.CommandField {
	case cEchoRQ:
		if cmd.hasDataSet() {
			return fmt.Errorf("%w: C-ECHO-RQ with a dataset", errProtocol)
		}
		a.log.Info("C-ECHO", "message_id", cmd.MessageID)
		return a.respond(ctxID, &command{CommandField: cEchoRSP, MessageIDRespondedTo: cmd.MessageID,
			AffectedSOPClassUID: VerificationSOPClass, DataSetType: dataSetAbsent, Status: StatusSuccess})
	case cStoreRQ:
		if !cmd.hasDataSet() {
			return fmt.Errorf("%w: C-STORE-RQ without a dataset", errProtocol)
		}
		a.startStore(ctxID, pc, cmd)
		return nil
	}
	return fmt.Errorf("%w: unsupported %s", errProtocol, commandName(cmd.CommandField))
}

func (a *scpAssoc) startStore(ctxID byte, pc acceptedContext, cmd *command) {
	in := &incoming{
		ctxID:   ctxID,
		started: time.Now(),
		req: StoreRequest{
			Assoc: a.info, MessageID: cmd.MessageID,
			SOPClassUID: cmd.AffectedSOPClassUID, SOPInstanceUID: cmd.AffectedSOPInstanceUID,
			TransferSyntaxUID: pc.TransferSyntax,
			MoveOriginatorAE:  cmd.MoveOriginatorAE, MoveOriginatorMessageID: cmd.MoveOriginatorMessageID,
		},
	}
	a.cur = in
	switch {
	case cmd.AffectedSOPClassUID != pc.AbstractSyntax:
		in.status, in.comment = StatusSOPClassNotSupported, "SOP class differs from the presentation context's abstract syntax"
		return
	case !isUID(cmd.AffectedSOPInstanceUID):
		in.status, in.comment = StatusCannotUnderstand, "invalid AffectedSOPInstanceUID"
		return
	}
	if st := a.s.cfg.Handler.Admit(a.ctx, &in.req); st != StatusSuccess {
		in.status, in.comment = st, "refused by the store"
		return
	}
	f, err := a.s.pool.take()
	if err != nil {
		a.log.Error("create receive file", "err", err)
		in.status, in.comment = StatusOutOfResources, "cannot create file"
		return
	}
	in.f, in.path = f, f.Name()
	in.rx = rxWriter{f: f}
	if a.w == nil {
		a.w = bufio.NewWriterSize(&in.rx, 256<<10)
	}
	a.w.Reset(&in.rx) // one buffer per association, not per instance
	in.w = a.w
	err = WriteFileMeta(in.w, FileMeta{
		MediaStorageSOPClassUID:    cmd.AffectedSOPClassUID,
		MediaStorageSOPInstanceUID: cmd.AffectedSOPInstanceUID,
		TransferSyntaxUID:          pc.TransferSyntax,
		ImplementationClassUID:     a.s.cfg.ImplementationClassUID,
		ImplementationVersionName:  a.s.cfg.ImplementationVersionName,
		SourceAETitle:              a.info.CallingAE,
	})
	if err != nil {
		a.failWrite(err)
		return
	}
	in.size = int64(in.w.Buffered()) // Size counts the whole Part 10 file
}

// failWrite turns the current store into an out-of-resources failure, removing the partial file.
func (a *scpAssoc) failWrite(err error) {
	in := a.cur
	a.log.Error("write received dataset", "sop_instance", in.req.SOPInstanceUID, "err", err)
	in.status, in.comment = StatusOutOfResources, "cannot write file"
	a.removeTemp()
}

func (a *scpAssoc) removeTemp() {
	in := a.cur
	if in == nil || in.f == nil {
		return
	}
	in.f.Close()
	os.Remove(in.path)
	in.f, in.w = nil, nil
}

// discard removes a partially received dataset when the association ends.
func (a *scpAssoc) discard() {
	if a.cur != nil {
		a.removeTemp()
		a.cur = nil
	}
}

// onData appends a dataset fragment to the temp file (messageSink).
func (a *scpAssoc) onData(ctxID byte, b []byte, last bool) error {
	in := a.cur
	if in == nil {
		return fmt.Errorf("%w: dataset without C-STORE-RQ", errProtocol)
	}
	if in.f != nil {
		if len(in.prefix) < prefixLen {
			in.prefix = append(in.prefix, b[:min(len(b), prefixLen-len(in.prefix))]...)
		}
		if _, err := in.w.Write(b); err != nil {
			a.failWrite(err)
		}
		in.size += int64(len(b))
	}
	if !last {
		return nil
	}
	a.cur = nil
	status := a.finishStore(in)
	rsp := &command{CommandField: cStoreRSP, MessageIDRespondedTo: in.req.MessageID, DataSetType: dataSetAbsent,
		AffectedSOPClassUID: in.req.SOPClassUID, AffectedSOPInstanceUID: in.req.SOPInstanceUID, Status: status}
	if status != StatusSuccess {
		rsp.ErrorComment = in.comment
	}
	return a.respond(ctxID, rsp)
}

// finishStore completes a received dataset: flush, fsync, close, check, hand to the handler.
func (a *scpAssoc) finishStore(in *incoming) uint16 {
	log := a.log.With("sop_class", in.req.SOPClassUID, "sop_instance", in.req.SOPInstanceUID, "message_id", in.req.MessageID)
	if in.f == nil {
		log.Warn("C-STORE refused", "status", fmt.Sprintf("0x%04X", in.status), "why", in.comment)
		return in.status
	}
	fail := func(st uint16, why string, err error) uint16 {
		a.cur = in
		a.removeTemp()
		a.cur = nil
		in.status, in.comment = st, why
		log.Warn("C-STORE failed", "status", fmt.Sprintf("0x%04X", st), "why", why, "err", err)
		return st
	}
	if cls, inst, ok := datasetSOPUIDs(in.prefix, in.req.TransferSyntaxUID); ok && (cls != in.req.SOPClassUID || inst != in.req.SOPInstanceUID) {
		return fail(StatusDataSetDoesNotMatch, "dataset SOP class/instance UID differs from the command", nil)
	}
	if err := in.w.Flush(); err != nil {
		return fail(StatusOutOfResources, "cannot write file", err)
	}
	// The marker goes in last; one fsync then makes data, length and marker durable together (the
	// directory entry already is: the file came from the pool).
	if err := in.rx.complete(); err != nil {
		return fail(StatusOutOfResources, "cannot write file", err)
	}
	// The handler checks the file, then fsyncs it (Durable) before taking it; the response waits
	// for the fsync too.
	rx := &rxFile{f: in.f, noSync: a.s.cfg.NoFsync}
	in.f = nil
	inst := &StoredInstance{StoreRequest: in.req, Path: in.path, Size: in.size, rx: rx}
	st, err := a.s.cfg.Handler.Store(a.ctx, inst)
	if err != nil || st != StatusSuccess {
		rx.close() // refused: nothing to make durable
	} else if derr := inst.Durable(); derr != nil {
		// Whatever the handler did with it, the instance is not known to be on disk.
		log.Error("fsync received file", "path", in.path, "err", derr)
		st, err = StatusOutOfResources, derr
	}
	if err != nil || st != StatusSuccess {
		if err != nil && st == StatusSuccess {
			st = StatusOutOfResources
		}
		in.comment = "store failed"
		log.Warn("C-STORE failed in the store", "status", fmt.Sprintf("0x%04X", st), "err", err)
		return st
	}
	log.Info("C-STORE", "bytes", in.size, "ts", in.req.TransferSyntaxUID, "ms", time.Since(in.started).Milliseconds())
	return StatusSuccess
}

// rxFile is the SCP's handle on a received file: durable fsyncs (unless noSync) and closes it, close
// only closes it; whichever comes first decides. The handler calls durable (Durable) after its own
// checks of the file, on the SCP's goroutine: measured on a 2-vCPU machine, running the fsync in the
// background while the handler parsed was slower, the goroutine switch at its end costing more than
// the parse it overlapped.
type rxFile struct {
	f      *os.File
	noSync bool
	once   sync.Once
	err    error
}

func (r *rxFile) durable() error {
	r.once.Do(func() {
		if !r.noSync {
			r.err = r.f.Sync()
		}
		if cerr := r.f.Close(); r.err == nil {
			r.err = cerr
		}
	})
	return r.err
}

func (r *rxFile) close() {
	r.once.Do(func() {
		r.f.Close()
		r.err = errors.New("receive file closed without fsync")
	})
}

func (a *scpAssoc) respond(ctxID byte, rsp *command) error {
	var err error
	a.sendBuf, err = a.c.sendMessage(ctxID, encodeCommand(rsp), nil, -1, a.peerMax, a.sendBuf)
	if err != nil {
		return fmt.Errorf("send %s: %w", commandName(rsp.CommandField), err)
	}
	return nil
}

// DirHandler is a StoreHandler that keeps each instance as Dir/<SOPInstanceUID>.dcm.
// Dir must be on the same file system as the server's TempDir.
type DirHandler struct {
	Dir    string
	NoSync bool // skip the directory fsync (tests, benchmarks only)
}

// Admit accepts every instance.
func (h DirHandler) Admit(ctx context.Context, req *StoreRequest) uint16 { return StatusSuccess }

// Store renames the file into Dir and fsyncs Dir, so the instance is durable before success.
func (h DirHandler) Store(ctx context.Context, inst *StoredInstance) (uint16, error) {
	if !isUID(inst.SOPInstanceUID) {
		os.Remove(inst.Path)
		return StatusCannotUnderstand, fmt.Errorf("invalid SOP instance UID %q", inst.SOPInstanceUID)
	}
	if err := inst.Durable(); err != nil {
		os.Remove(inst.Path)
		return StatusOutOfResources, err
	}
	dst := filepath.Join(h.Dir, inst.SOPInstanceUID+".dcm")
	if err := os.Rename(inst.Path, dst); err != nil {
		os.Remove(inst.Path)
		return StatusOutOfResources, fmt.Errorf("store %s: %w", inst.SOPInstanceUID, err)
	}
	if !h.NoSync {
		if err := syncDir(h.Dir); err != nil {
			return StatusOutOfResources, err
		}
	}
	return StatusSuccess, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
