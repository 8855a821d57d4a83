package dimse

import (
	"context"
	"crypto/tls"
	"errors"
	"time"
)

// ClientConfig configures an SCU association.
type ClientConfig struct {
	CallingAE    string        // our AE title
	CalledAE     string        // the peer's AE title
	TLS          *tls.Config   // nil for plain TCP
	MaxPDULength uint32        // our maximum receive PDU length (0 = default 16384... set by implementation)
	DialTimeout  time.Duration // 0 = implementation default
	Timeout      time.Duration // DIMSE/ARTIM timeout; 0 = implementation default
}

// SendResult is the outcome of one file sent by SendFiles.
type SendResult struct {
	Path           string
	SOPClassUID    string
	SOPInstanceUID string
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

// Echo opens an association to addr, performs C-ECHO and releases it.
// PLACEHOLDER: implemented by the dimse work (issue 2).
func Echo(ctx context.Context, addr string, cfg ClientConfig) error {
	return errors.New("dimse: Echo not implemented yet")
}

// SendFiles sends Part 10 files over one association (presentation contexts proposed from the files),
// returning one result per path in order. The error is non-nil only when no association could be made.
// PLACEHOLDER: implemented by the dimse work (issue 2).
func SendFiles(ctx context.Context, addr string, cfg ClientConfig, paths []string) ([]SendResult, error) {
	return nil, errors.New("dimse: SendFiles not implemented yet")
}
