package dimse

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
)

// ClientConfig configures an SCU association.
type ClientConfig struct {
	CallingAE    string        // our AE title
	CalledAE     string        // the peer's AE title
	TLS          *tls.Config   // nil for plain TCP
	MaxPDULength uint32        // our maximum receive PDU length (0 = 262144)
	DialTimeout  time.Duration // 0 = 10s
	Timeout      time.Duration // DIMSE/ARTIM timeout; 0 = 60s
	Logger       *slog.Logger  // nil = discard
}

// SendResult is the outcome of one file sent by SendFiles.
type SendResult struct {
	Path           string
	SOPClassUID    string
	SOPInstanceUID string
	TransferSyntax string
	Size           int64  // dataset bytes sent
	Status         uint16 // DIMSE status from the peer (valid when Err == nil)
	Err            error  // local or network error for this file
}

// OK reports whether the peer answered success (or a warning status, 0xB000–0xBFFF, 0x0107, 0x0116).
func (r SendResult) OK() bool {
	if r.Err != nil {
		return false
	}
	s := r.Status
	return s == StatusSuccess || s == 0x0107 || s == 0x0116 || (s >= 0xB000 && s <= 0xBFFF)
}

// Proposal is a presentation context to propose: one abstract syntax and its transfer syntaxes.
type Proposal struct {
	AbstractSyntax   string
	TransferSyntaxes []string
}

// RejectError is an A-ASSOCIATE-RJ from the peer.
type RejectError struct {
	Result, Source, Reason byte
}

func (e *RejectError) Error() string {
	kind := "permanent"
	if e.Result == RejectTransient {
		kind = "transient"
	}
	return fmt.Sprintf("association rejected (%s): %s", kind, rejectReasonText(e.Source, e.Reason))
}

func rejectReasonText(source, reason byte) string {
	switch {
	case source == RejectSourceUser && reason == ReasonCallingAENotRecognized:
		return "calling AE title not recognized"
	case source == RejectSourceUser && reason == ReasonCalledAENotRecognized:
		return "called AE title not recognized"
	case source == RejectSourceUser && reason == ReasonAppContextNotSupported:
		return "application context name not supported"
	case source == RejectSourceACSE && reason == ReasonProtocolVersionNotSupported:
		return "protocol version not supported"
	case source == RejectSourcePresentation && reason == ReasonTemporaryCongestion:
		return "temporary congestion"
	case source == RejectSourcePresentation && reason == ReasonLocalLimitExceeded:
		return "local limit exceeded"
	}
	return fmt.Sprintf("source %d reason %d", source, reason)
}

// Client is an established association as SCU. It is used by one goroutine at a time; requests
// are synchronous (one outstanding operation, the default asynchronous operations window).
type Client struct {
	c        *ulConn
	cfg      ClientConfig
	accepted map[byte]acceptedContext
	rejected map[byte]byte // context ID → result
	proposed map[byte]Proposal
	peerMax  uint32
	msgID    uint16
	ra       reassembler
	rsp      *command
	buf      []byte
	stop     func() bool
}

// Dial opens an association to addr proposing the given presentation contexts (at most 128).
func Dial(ctx context.Context, addr string, cfg ClientConfig, proposals []Proposal) (*Client, error) {
	if len(proposals) == 0 || len(proposals) > 128 {
		return nil, fmt.Errorf("dimse: %d presentation contexts proposed, want 1 to 128", len(proposals))
	}
	if cfg.CalledAE == "" || cfg.CallingAE == "" || len(cfg.CalledAE) > 16 || len(cfg.CallingAE) > 16 {
		return nil, fmt.Errorf("dimse: calling %q and called %q AE titles must have 1 to 16 characters", cfg.CallingAE, cfg.CalledAE)
	}
	if cfg.MaxPDULength == 0 {
		cfg.MaxPDULength = 262144
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &net.Dialer{Timeout: cfg.DialTimeout}
	var nc net.Conn
	var err error
	if cfg.TLS != nil {
		nc, err = (&tls.Dialer{NetDialer: d, Config: cfg.TLS}).DialContext(ctx, "tcp", addr)
	} else {
		nc, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("dimse: connect %s: %w", addr, err)
	}
	c := newULConn(nc, true, log.With("peer", addr))
	c.artim = cfg.Timeout
	c.timeout = cfg.Timeout
	c.setMaxRecv(cfg.MaxPDULength)
	cl := &Client{c: c, cfg: cfg, accepted: map[byte]acceptedContext{}, rejected: map[byte]byte{}, proposed: map[byte]Proposal{}}
	cl.stop = context.AfterFunc(ctx, func() { nc.Close() })
	rq := &associateRQ{ProtocolVersion: 1, CalledAE: cfg.CalledAE, CallingAE: cfg.CallingAE, ApplicationContext: ApplicationContextName,
		UserInfo: userInfo{MaxLength: cfg.MaxPDULength, ImplementationClassUID: defaultImplementationClassUID, ImplementationVersionName: defaultImplementationVersion}}
	for i, p := range proposals {
		id := byte(2*i + 1)
		cl.proposed[id] = p
		rq.PresentationContexts = append(rq.PresentationContexts, presentationContextRQ{ID: id, AbstractSyntax: p.AbstractSyntax, TransferSyntaxes: p.TransferSyntaxes})
	}
	// Evt1 (AE-1: the transport connect above), Evt2 (AE-2: send A-ASSOCIATE-RQ).
	c.fire(Evt1, nil)
	if _, err := c.fire(Evt2, rq); err != nil {
		cl.close()
		return nil, err
	}
	for {
		ev, p, act, err := c.next()
		switch {
		case act == AE3:
			ac := p.(*associateAC)
			cl.peerMax = ac.UserInfo.MaxLength
			for _, r := range ac.Results {
				prop, ok := cl.proposed[r.ID]
				if !ok {
					continue
				}
				if r.Result == resultAcceptance && slices.Contains(prop.TransferSyntaxes, r.TransferSyntax) {
					cl.accepted[r.ID] = acceptedContext{AbstractSyntax: prop.AbstractSyntax, TransferSyntax: r.TransferSyntax}
				} else {
					cl.rejected[r.ID] = r.Result
				}
			}
			return cl, nil
		case act == AE4:
			rj := p.(*associateRJ)
			cl.close()
			return nil, &RejectError{Result: rj.Result, Source: rj.Source, Reason: rj.Reason}
		case c.state == Sta1 || c.state == Sta13:
			c.drain()
			cl.close()
			switch {
			case err != nil:
			case act == AA3:
				err = fmt.Errorf("aborted by the peer (source %d, reason %d)", c.peerAbort.Source, c.peerAbort.Reason)
			case ev == Evt17:
				err = errors.New("connection closed by the peer")
			default:
				err = fmt.Errorf("association failed (%s, %s)", ev, act)
			}
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return nil, fmt.Errorf("dimse: associate with %s: %w", addr, err)
		}
	}
}

func (cl *Client) close() {
	cl.stop()
	cl.c.close()
	cl.c.state = Sta1
}

// PeerMaxPDULength is the peer's maximum receive length (0 = unlimited).
func (cl *Client) PeerMaxPDULength() uint32 { return cl.peerMax }

// ContextFor returns an accepted presentation context for the abstract syntax whose transfer syntax
// is one of tss (in the order given).
func (cl *Client) ContextFor(abstract string, tss ...string) (byte, string, bool) {
	ids := make([]int, 0, len(cl.accepted))
	for id := range cl.accepted {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	for _, ts := range tss {
		for _, id := range ids {
			a := cl.accepted[byte(id)]
			if a.AbstractSyntax == abstract && a.TransferSyntax == ts {
				return byte(id), ts, true
			}
		}
	}
	return 0, "", false
}

// ContextResult describes the peer's answer to the proposed presentation context id.
func (cl *Client) ContextResult(id byte) string {
	if _, ok := cl.accepted[id]; ok {
		return "accepted"
	}
	r, ok := cl.rejected[id]
	if !ok {
		return "not proposed"
	}
	return resultText(r)
}

// resultText names a presentation context result (PS3.8 Table 9-18).
func resultText(r byte) string {
	switch r {
	case resultAcceptance:
		return "accepted"
	case resultUserRejection:
		return "user rejection"
	case resultNoReason:
		return "no reason (provider rejection)"
	case resultAbstractSyntaxNotSupp:
		return "abstract syntax not supported"
	case resultTransferSyntaxesNotSupp:
		return "transfer syntaxes not supported"
	}
	return fmt.Sprintf("result %d", r)
}

// rejection describes why no context was accepted for abstract in transfer syntax ts.
func (cl *Client) rejection(abstract, ts string) string {
	for id, p := range cl.proposed {
		if p.AbstractSyntax == abstract && slices.Contains(p.TransferSyntaxes, ts) {
			return cl.ContextResult(id)
		}
	}
	return "not proposed"
}

func (cl *Client) nextMessageID() uint16 {
	cl.msgID++
	if cl.msgID == 0 {
		cl.msgID = 1
	}
	return cl.msgID
}

// Echo performs C-ECHO on the Verification context and returns the peer's status.
func (cl *Client) Echo() (uint16, error) {
	id, _, ok := cl.ContextFor(VerificationSOPClass, ImplicitVRLittleEndian, ExplicitVRLittleEndian)
	if !ok {
		return 0, errors.New("dimse: the peer did not accept the Verification SOP class")
	}
	mid := cl.nextMessageID()
	cmd := &command{CommandField: cEchoRQ, MessageID: mid, AffectedSOPClassUID: VerificationSOPClass, DataSetType: dataSetAbsent}
	return cl.exchange(id, cmd, nil, -1)
}

// Store sends one C-STORE-RQ with a dataset of size bytes (already in transferSyntax) read from
// data, on a context accepted for sopClass with that transfer syntax, and returns the peer's status.
func (cl *Client) Store(sopClass, sopInstance, transferSyntax string, data io.Reader, size int64) (uint16, error) {
	id, _, ok := cl.ContextFor(sopClass, transferSyntax)
	if !ok {
		return 0, fmt.Errorf("no accepted presentation context for %s in %s", sopClass, transferSyntax)
	}
	cmd := &command{CommandField: cStoreRQ, MessageID: cl.nextMessageID(), AffectedSOPClassUID: sopClass,
		AffectedSOPInstanceUID: sopInstance, DataSetType: 0x0000}
	return cl.exchange(id, cmd, data, size)
}

// exchange sends a request and waits for its response.
func (cl *Client) exchange(ctxID byte, cmd *command, data io.Reader, size int64) (uint16, error) {
	if cl.c.state != Sta6 {
		return 0, fmt.Errorf("dimse: association not established (%s)", cl.c.state)
	}
	var err error
	cl.buf, err = cl.c.sendMessage(ctxID, encodeCommand(cmd), data, size, cl.peerMax, cl.buf)
	if err != nil {
		// A partly sent message leaves the association unusable.
		cl.Abort()
		return 0, err
	}
	cl.rsp = nil
	for cl.rsp == nil {
		_, p, act, err := cl.c.next()
		switch {
		case act == DT2:
			for _, item := range p.(*pDataTF).Items {
				if ferr := cl.ra.feed(item, cl); ferr != nil {
					cl.Abort()
					return 0, ferr
				}
			}
		case act == AR2:
			cl.c.fire(Evt14, nil)
			cl.c.drain()
			return 0, errors.New("dimse: the peer released the association before responding")
		case cl.c.state == Sta1 || cl.c.state == Sta13:
			cl.c.drain()
			cl.close()
			if err == nil {
				err = errors.New("association aborted")
				if cl.c.peerAbort != nil {
					err = fmt.Errorf("association aborted by the peer (source %d, reason %d)", cl.c.peerAbort.Source, cl.c.peerAbort.Reason)
				}
			}
			return 0, fmt.Errorf("dimse: waiting for %s response: %w", commandName(cmd.CommandField), err)
		}
	}
	want := cmd.CommandField | 0x8000
	if cl.rsp.CommandField != want || cl.rsp.MessageIDRespondedTo != cmd.MessageID {
		cl.Abort()
		return 0, fmt.Errorf("dimse: got %s for message %d, want %s for message %d", commandName(cl.rsp.CommandField),
			cl.rsp.MessageIDRespondedTo, commandName(want), cmd.MessageID)
	}
	return cl.rsp.Status, nil
}

func (cl *Client) onCommand(ctxID byte, c *command) error {
	if c.hasDataSet() {
		return fmt.Errorf("%w: %s with a dataset", errProtocol, commandName(c.CommandField))
	}
	cl.rsp = c
	return nil
}

func (cl *Client) onData(ctxID byte, b []byte, last bool) error {
	return fmt.Errorf("%w: unexpected dataset", errProtocol)
}

// Release releases the association (A-RELEASE, handling a release collision) and closes it.
func (cl *Client) Release() error {
	defer cl.close()
	if cl.c.state != Sta6 {
		return fmt.Errorf("dimse: release in %s", cl.c.state)
	}
	if _, err := cl.c.fire(Evt11, nil); err != nil {
		return err
	}
	for cl.c.state != Sta1 {
		_, _, act, err := cl.c.next()
		switch {
		case act == AR8 && cl.c.state == Sta9:
			cl.c.fire(Evt14, nil) // AR-9: send A-RELEASE-RP, await the peer's (Sta11)
		case act == AR10:
			cl.c.fire(Evt14, nil)
		case cl.c.state == Sta13:
			cl.c.drain()
			if err == nil {
				err = errors.New("association aborted during release")
			}
			return fmt.Errorf("dimse: release: %w", err)
		case act == AA3 || act == AA4:
			return errors.New("dimse: association aborted during release")
		}
	}
	return nil
}

// Abort sends A-ABORT and closes the association (waiting at most a second for the peer to close).
func (cl *Client) Abort() {
	cl.c.artim = min(cl.c.artim, time.Second)
	cl.c.abort(abortReasonNotSpecified)
	cl.close()
}

// Echo opens an association to addr, performs C-ECHO and releases it.
func Echo(ctx context.Context, addr string, cfg ClientConfig) error {
	cl, err := Dial(ctx, addr, cfg, []Proposal{{AbstractSyntax: VerificationSOPClass, TransferSyntaxes: []string{ImplicitVRLittleEndian}}})
	if err != nil {
		return err
	}
	st, err := cl.Echo()
	if err != nil {
		cl.Abort()
		return err
	}
	if err := cl.Release(); err != nil {
		return err
	}
	if st != StatusSuccess {
		return fmt.Errorf("dimse: C-ECHO status 0x%04X", st)
	}
	return nil
}

// ExpandPaths lists the regular files under paths (directories recursively, in lexical order).
func ExpandPaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dimse: %w", err)
		}
	}
	return out, nil
}

// fileInfo is what SendFiles needs to know about a Part 10 file.
type fileInfo struct {
	meta   FileMeta
	offset int64
	size   int64
}

func readFileInfo(path string) (fileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileInfo{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileInfo{}, err
	}
	m, off, err := ReadFileMeta(bufio.NewReaderSize(f, 4096))
	if err != nil {
		return fileInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	return fileInfo{meta: m, offset: off, size: st.Size() - off}, nil
}

// SendFiles sends Part 10 files over one association (presentation contexts proposed from the files),
// returning one result per path in order. The error is non-nil only when no association could be made.
// Each file's dataset is streamed from disk in its own transfer syntax; a file whose SOP class and
// transfer syntax the peer did not accept fails alone.
func SendFiles(ctx context.Context, addr string, cfg ClientConfig, paths []string) ([]SendResult, error) {
	results := make([]SendResult, len(paths))
	infos := make([]fileInfo, len(paths))
	var proposals []Proposal
	seen := map[[2]string]bool{}
	for i, p := range paths {
		results[i].Path = p
		fi, err := readFileInfo(p)
		if err != nil {
			results[i].Err = err
			continue
		}
		infos[i] = fi
		results[i].SOPClassUID = fi.meta.MediaStorageSOPClassUID
		results[i].SOPInstanceUID = fi.meta.MediaStorageSOPInstanceUID
		results[i].TransferSyntax = fi.meta.TransferSyntaxUID
		// One context per SOP class and transfer syntax: the file's own, and the little-endian
		// alternative we can transcode to, so a peer accepting the file's syntax gets it unchanged.
		for j, ts := range alternatives(fi.meta.TransferSyntaxUID) {
			k := [2]string{fi.meta.MediaStorageSOPClassUID, ts}
			if seen[k] {
				continue
			}
			if len(proposals) == 128 {
				if j == 0 {
					results[i].Err = errors.New("more than 128 distinct SOP class/transfer syntax pairs in one association")
				}
				break
			}
			seen[k] = true
			proposals = append(proposals, Proposal{AbstractSyntax: k[0], TransferSyntaxes: []string{ts}})
		}
	}
	if len(proposals) == 0 {
		return results, nil
	}
	cl, err := Dial(ctx, addr, cfg, proposals)
	if err != nil {
		return results, err
	}
	aborted := false
	for i := range paths {
		r := &results[i]
		if r.Err != nil {
			continue
		}
		if aborted || ctx.Err() != nil {
			r.Err = errors.New("not sent: association ended")
			continue
		}
		if _, _, ok := cl.ContextFor(r.SOPClassUID, alternatives(r.TransferSyntax)...); !ok {
			r.Err = fmt.Errorf("presentation context refused: %s (SOP class %s, transfer syntax %s)", cl.rejection(r.SOPClassUID, r.TransferSyntax), r.SOPClassUID, r.TransferSyntax)
			continue
		}
		r.Size = infos[i].size
		r.Status, r.Err = sendFile(cl, paths[i], infos[i])
		if r.Err != nil && cl.c.state != Sta6 {
			aborted = true
		}
	}
	if !aborted {
		if err := cl.Release(); err != nil {
			cfg.logger().Warn("release", "err", err)
		}
	} else {
		cl.close()
	}
	return results, nil
}

func (cfg ClientConfig) logger() *slog.Logger {
	if cfg.Logger != nil {
		return cfg.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// alternatives lists the transfer syntaxes a file in ts can be sent in: its own, and for explicit
// and implicit VR little endian the other one (we transcode between them).
func alternatives(ts string) []string {
	switch ts {
	case ExplicitVRLittleEndian:
		return []string{ExplicitVRLittleEndian, ImplicitVRLittleEndian}
	case ImplicitVRLittleEndian:
		return []string{ImplicitVRLittleEndian, ExplicitVRLittleEndian}
	}
	return []string{ts}
}

// sendFile streams the dataset of a file, transcoding it first (to a temporary file) when the peer
// accepted the other little-endian transfer syntax.
func sendFile(cl *Client, path string, fi fileInfo) (uint16, error) {
	_, ts, _ := cl.ContextFor(fi.meta.MediaStorageSOPClassUID, alternatives(fi.meta.TransferSyntaxUID)...)
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.Seek(fi.offset, io.SeekStart); err != nil {
		return 0, err
	}
	var data io.Reader = f
	size := fi.size
	if ts != fi.meta.TransferSyntaxUID {
		tmp, err := os.CreateTemp("", "sacrum-transcode-*.dcm")
		if err != nil {
			return 0, err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if err := transcodeLE(tmp, io.LimitReader(f, fi.size), fi.meta.TransferSyntaxUID == ExplicitVRLittleEndian); err != nil {
			return 0, fmt.Errorf("%s: transcode to %s: %w", path, ts, err)
		}
		if size, err = tmp.Seek(0, io.SeekCurrent); err != nil {
			return 0, err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
		data = tmp
	}
	return cl.Store(fi.meta.MediaStorageSOPClassUID, fi.meta.MediaStorageSOPInstanceUID, ts, data, size)
}
