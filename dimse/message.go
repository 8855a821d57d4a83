package dimse

import (
	"errors"
	"fmt"
	"io"
)

// messageSink receives the DIMSE messages reassembled from P-DATA PDVs: the complete command set,
// then the dataset fragments as they arrive (never joined in memory).
type messageSink interface {
	onCommand(ctxID byte, c *command) error
	onData(ctxID byte, b []byte, last bool) error
}

// reassembler turns a stream of PDVs into DIMSE messages (PS3.8 Annex E, PS3.7 §6.3.1): command
// fragments are joined (bounded by maxCommandSet); dataset fragments are passed through.
type reassembler struct {
	cmd     []byte
	cmdCtx  byte
	inCmd   bool
	inData  bool
	dataCtx byte
}

// errProtocol marks a DIMSE protocol violation by the peer; the association is aborted.
var errProtocol = errors.New("dimse: protocol error")

func (r *reassembler) feed(p pdv, s messageSink) error {
	if p.Command {
		if r.inData {
			return fmt.Errorf("%w: command fragment on context %d before the dataset on context %d ended", errProtocol, p.ContextID, r.dataCtx)
		}
		if r.inCmd && p.ContextID != r.cmdCtx {
			return fmt.Errorf("%w: command fragment on context %d interleaved with context %d", errProtocol, p.ContextID, r.cmdCtx)
		}
		if len(r.cmd)+len(p.Data) > maxCommandSet {
			return fmt.Errorf("%w: command set longer than %d bytes", errProtocol, maxCommandSet)
		}
		r.inCmd, r.cmdCtx = true, p.ContextID
		r.cmd = append(r.cmd, p.Data...)
		if !p.Last {
			return nil
		}
		c, err := decodeCommand(r.cmd)
		r.cmd, r.inCmd = r.cmd[:0], false
		if err != nil {
			return fmt.Errorf("%w: %w", errProtocol, err)
		}
		if c.hasDataSet() {
			r.inData, r.dataCtx = true, p.ContextID
		}
		return s.onCommand(p.ContextID, c)
	}
	if !r.inData {
		return fmt.Errorf("%w: dataset fragment on context %d without a command announcing it", errProtocol, p.ContextID)
	}
	if p.ContextID != r.dataCtx {
		return fmt.Errorf("%w: dataset fragment on context %d, expected %d", errProtocol, p.ContextID, r.dataCtx)
	}
	if p.Last {
		r.inData = false
	}
	return s.onData(p.ContextID, p.Data, p.Last)
}

// fragmentSize is the PDV data size for a peer's maximum length (0 = unlimited).
func fragmentSize(peerMax uint32) int {
	const unlimited = 1 << 20
	if peerMax == 0 || peerMax > unlimited+6 {
		return unlimited
	}
	if peerMax < 8 {
		return 2 // a broken peer maximum; keep going with tiny fragments
	}
	return int(peerMax) - 6 // PDV item header: 4-byte length, context ID, control header
}

// sendMessage sends a command set and, when size >= 0, a dataset of exactly size bytes read from
// data, as P-DATA-TF PDUs of one PDV each, sized to the peer's maximum length. buf is reused.
func (c *ulConn) sendMessage(ctxID byte, cmd []byte, data io.Reader, size int64, peerMax uint32, buf []byte) ([]byte, error) {
	frag := fragmentSize(peerMax)
	for off := 0; ; {
		n := min(frag, len(cmd)-off)
		last := off+n == len(cmd)
		if _, err := c.fire(Evt9, &pDataTF{Items: []pdv{{ContextID: ctxID, Command: true, Last: last, Data: cmd[off : off+n]}}}); err != nil {
			return buf, err
		}
		off += n
		if last {
			break
		}
	}
	if size < 0 {
		return buf, nil
	}
	if cap(buf) < frag+12 {
		buf = make([]byte, frag+12)
	}
	buf = buf[:cap(buf)]
	for left := size; ; {
		n := int(min(int64(frag), left))
		if _, err := io.ReadFull(data, buf[12:12+n]); err != nil {
			return buf, fmt.Errorf("dimse: read dataset: %w", err)
		}
		left -= int64(n)
		if err := c.sendPDV(buf, ctxID, n, left == 0); err != nil {
			return buf, err
		}
		if left == 0 {
			return buf, nil
		}
	}
}

// sendPDV sends buf[12:12+n] as one PDV of a P-DATA-TF PDU, writing the headers in place
// (avoiding a copy of the fragment).
func (c *ulConn) sendPDV(buf []byte, ctxID byte, n int, last bool) error {
	if _, ok := transitions[transitionKey{Evt9, c.state}]; !ok {
		return fmt.Errorf("%w: %s in %s", errNoTransition, Evt9, c.state)
	}
	b := buf[:12+n]
	b[0] = pduPDataTF
	b[1] = 0
	putU32(b[2:], uint32(n+6))
	putU32(b[6:], uint32(n+2))
	b[10] = ctxID
	b[11] = 0
	if last {
		b[11] = 2
	}
	// The P-DATA request primitive (Evt9) in Sta6 or Sta8 sends the PDU and keeps the state (DT-1, AR-7).
	return c.write(b)
}

func putU32(b []byte, v uint32) {
	b[0] = byte(v >> 24)
	b[1] = byte(v >> 16)
	b[2] = byte(v >> 8)
	b[3] = byte(v)
}
