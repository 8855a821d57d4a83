package dimse

import (
	"context"
	"net"
)

// DIMSE status codes used by C-ECHO and C-STORE (PS3.7 Annex C, PS3.4 B.2.3).
const (
	StatusSuccess              uint16 = 0x0000
	StatusOutOfResources       uint16 = 0xA700
	StatusDataSetDoesNotMatch  uint16 = 0xA900
	StatusCannotUnderstand     uint16 = 0xC000
	StatusSOPClassNotSupported uint16 = 0x0122
)

// AssociationInfo describes the association an instance arrived on.
type AssociationInfo struct {
	CallingAE string   // the peer's AE title
	CalledAE  string   // our AE title as the peer addressed it
	PeerAddr  net.Addr // remote address
	ID        string   // association identifier for logs
}

// StoreRequest is what is known of a C-STORE before its dataset is received.
type StoreRequest struct {
	Assoc                   AssociationInfo
	MessageID               uint16
	SOPClassUID             string // AffectedSOPClassUID from the command
	SOPInstanceUID          string // AffectedSOPInstanceUID from the command
	TransferSyntaxUID       string // negotiated for the presentation context
	MoveOriginatorAE        string
	MoveOriginatorMessageID uint16
}

// StoredInstance is a received instance: a complete Part 10 file in the SCP's TempDir under a
// receive-file name, with the completion marker in its preamble (see ReceivedComplete). Its directory
// entry is durable, and its content too once Durable has returned nil: a crash then leaves it
// recoverable where it is.
type StoredInstance struct {
	StoreRequest
	Path string // Part 10 file; the handler owns it (must rename or remove it)
	Size int64  // bytes of the Part 10 file

	rx *rxFile // the SCP's handle on Path (nil: nothing to fsync)
}

// Durable fsyncs the file at Path (once; later calls return the first result) and closes the SCP's
// handle. A handler may read the file before, but must call Durable before moving it into place, so
// that a file in its final place is never a torn one. The SCP calls it too before answering success.
func (si *StoredInstance) Durable() error {
	if si.rx == nil {
		return nil
	}
	return si.rx.durable()
}

// StoreHandler receives instances from the C-STORE SCP.
//
// Admit is called before the dataset is read: a non-success status (e.g. StatusOutOfResources when the
// disk is below its watermark) makes the SCP discard the dataset without writing it and answer with that status.
//
// Store is called after the Part 10 file has been written and fsynced. The C-STORE response carries the
// returned status, so the handler must return StatusSuccess only once the instance will survive a crash:
// durable in its final place, or still at Path (durable there) with the handler recovering complete
// receive files from TempDir at start-up.
type StoreHandler interface {
	Admit(ctx context.Context, req *StoreRequest) uint16
	Store(ctx context.Context, inst *StoredInstance) (uint16, error)
}

// StatusText names a C-ECHO/C-STORE status (PS3.4 Annex B.2.3, PS3.7 Annex C).
func StatusText(s uint16) string {
	switch {
	case s == StatusSuccess:
		return "success"
	case s == StatusSOPClassNotSupported:
		return "SOP class not supported"
	case s == 0x0211:
		return "unrecognized operation"
	case s == 0x0110:
		return "processing failure"
	case s == 0x0107 || s == 0x0116 || (s >= 0xB000 && s <= 0xBFFF):
		return "warning"
	case s >= 0xA700 && s <= 0xA7FF:
		return "refused: out of resources"
	case s >= 0xA900 && s <= 0xA9FF:
		return "error: dataset does not match SOP class"
	case s >= 0xC000 && s <= 0xCFFF:
		return "error: cannot understand"
	}
	return "failure"
}
