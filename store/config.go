package store

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sacrum-dev/sacrum/dimse"
)

// Config configures a Store. Zero values take the defaults listed with each field.
type Config struct {
	DataDir string // required: holds sacrum.db, studies/, results/, tmp/

	StableTime time.Duration            // no instance for this long → COMPLETE (default 30 s)
	StableByAE map[string]time.Duration // per calling AE title override of StableTime
	// MinFreeBytes is the disk watermark: below it Admit answers A700 (0 = no check).
	MinFreeBytes int64
	// NoSync skips the directory fsyncs after instances are moved into place (benchmarks and tests
	// only: a crash may then lose acknowledged instances).
	NoSync bool
	// Retention purges instance files and records this long after delivery (0 = keep forever).
	Retention time.Duration

	Workers      int           // pipeline runs in parallel (default 2)
	JobTimeout   time.Duration // per pipeline run (default 30 min)
	MaxAttempts  int           // pipeline runs before FAILED (default 3)
	RetryBackoff time.Duration // wait before the second run; doubles (default 30 s)

	Destinations []Destination
	Outbox       OutboxConfig

	// Result objects routed back to us are acknowledged and dropped: their SOP Instance UIDs are
	// remembered, and instances whose Manufacturer and DeviceSerialNumber equal these are ours too.
	OwnManufacturer string
	OwnDeviceSerial string

	Pipeline   Pipeline              // nil: studies stay COMPLETE ("no pipeline configured")
	Sender     Sender                // nil: DIMSESender
	Registerer prometheus.Registerer // nil: metrics are kept but not registered
	Logger     *slog.Logger          // nil: discard
	Tick       time.Duration         // scheduler period (default 250 ms)
}

// OutboxConfig configures delivery.
type OutboxConfig struct {
	CallingAE      string        // our AE title towards destinations (default SACRUM)
	InitialBackoff time.Duration // after the first failure (default 5 s)
	MaxBackoff     time.Duration // backoff doubles up to this (default 10 min)
	MaxAge         time.Duration // give up after this long (default 7 days)
	Timeout        time.Duration // per association (default 2 min)
}

// Destination is a peer that receives our result objects.
type Destination struct {
	AE   string
	Host string
	Port int
	TLS  *tls.Config // nil for plain TCP
}

// Key names the destination in records: AE@HOST:PORT.
func (d Destination) Key() string { return d.AE + "@" + net.JoinHostPort(d.Host, strconv.Itoa(d.Port)) }

// ParseDestination parses AE@HOST:PORT.
func ParseDestination(s string) (Destination, error) {
	ae, addr, ok := strings.Cut(s, "@")
	if !ok || ae == "" || len(ae) > 16 {
		return Destination{}, fmt.Errorf("destination %q: want AE@HOST:PORT with an AE title of 1-16 characters", s)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Destination{}, fmt.Errorf("destination %q: %w", s, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return Destination{}, fmt.Errorf("destination %q: bad port %q", s, port)
	}
	return Destination{AE: ae, Host: host, Port: p}, nil
}

// Sender sends Part 10 files to a destination over one association; one result per path, in order.
// The error is non-nil only when no association could be made.
type Sender interface {
	Send(ctx context.Context, d Destination, paths []string) ([]dimse.SendResult, error)
}

// DIMSESender sends with the DIMSE C-STORE SCU.
type DIMSESender struct {
	CallingAE string
	Timeout   time.Duration
}

// Send implements Sender with dimse.SendFiles.
func (s DIMSESender) Send(ctx context.Context, d Destination, paths []string) ([]dimse.SendResult, error) {
	cfg := dimse.ClientConfig{CallingAE: s.CallingAE, CalledAE: d.AE, TLS: d.TLS, Timeout: s.Timeout}
	return dimse.SendFiles(ctx, net.JoinHostPort(d.Host, strconv.Itoa(d.Port)), cfg, paths)
}

func (c *Config) setDefaults() {
	if c.StableTime <= 0 {
		c.StableTime = 30 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 30 * time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 30 * time.Second
	}
	if c.Outbox.CallingAE == "" {
		c.Outbox.CallingAE = "SACRUM"
	}
	if c.Outbox.InitialBackoff <= 0 {
		c.Outbox.InitialBackoff = 5 * time.Second
	}
	if c.Outbox.MaxBackoff <= 0 {
		c.Outbox.MaxBackoff = 10 * time.Minute
	}
	if c.Outbox.MaxAge <= 0 {
		c.Outbox.MaxAge = 7 * 24 * time.Hour
	}
	if c.Outbox.Timeout <= 0 {
		c.Outbox.Timeout = 2 * time.Minute
	}
	if c.Sender == nil {
		c.Sender = DIMSESender{CallingAE: c.Outbox.CallingAE, Timeout: c.Outbox.Timeout}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Tick <= 0 {
		c.Tick = 250 * time.Millisecond
	}
}

// stableFor is the stable time for instances from callingAE.
func (c *Config) stableFor(callingAE string) time.Duration {
	if d, ok := c.StableByAE[callingAE]; ok && d > 0 {
		return d
	}
	return c.StableTime
}

// backoff is the wait after the n-th failed attempt (n ≥ 1): initial doubling up to max.
func backoff(n int, initial, max time.Duration) time.Duration {
	d := initial
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}
