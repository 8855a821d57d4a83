package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
)

// EchoCommand verifies a remote application entity with C-ECHO.
type EchoCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// scuFlags are the options echo and send share.
type scuFlags struct {
	aet     string
	aec     string
	timeout time.Duration
	maxPDU  uint
	tls     tlsFlags
}

func (f *scuFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.aet, "aet", "SACRUM", "our (calling) AE title")
	fs.StringVar(&f.aec, "aec", "", "the peer's (called) AE title (required)")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "network and DIMSE timeout")
	fs.UintVar(&f.maxPDU, "max-pdu", 262144, "our maximum receive PDU length")
	fs.BoolVar(&f.tls.enabled, "tls", false, "use DICOM over TLS")
	fs.StringVar(&f.tls.ca, "tls-ca", "", "PEM file of CA certificates to verify the peer")
	fs.StringVar(&f.tls.cert, "tls-cert", "", "PEM client certificate")
	fs.StringVar(&f.tls.key, "tls-key", "", "PEM client key")
	fs.StringVar(&f.tls.server, "tls-server-name", "", "server name to verify (default: the host)")
	fs.BoolVar(&f.tls.insecure, "tls-insecure", false, "do not verify the peer's certificate")
}

func (f *scuFlags) clientConfig(cmd, addr string) (dimse.ClientConfig, error) {
	if f.aec == "" {
		return dimse.ClientConfig{}, usageError("sacrum %s: --aec is required", cmd)
	}
	if len(f.aec) > 16 || f.aet == "" || len(f.aet) > 16 {
		return dimse.ClientConfig{}, usageError("sacrum %s: AE titles must have 1 to 16 characters", cmd)
	}
	if f.maxPDU > 1<<31 {
		return dimse.ClientConfig{}, usageError("sacrum %s: --max-pdu %d too large", cmd, f.maxPDU)
	}
	tlsCfg, err := f.tls.clientTLS(addr)
	if err != nil {
		return dimse.ClientConfig{}, fmt.Errorf("sacrum %s: %w", cmd, err)
	}
	return dimse.ClientConfig{CallingAE: f.aet, CalledAE: f.aec, TLS: tlsCfg, MaxPDULength: uint32(f.maxPDU),
		DialTimeout: f.timeout, Timeout: f.timeout}, nil
}

// Run sends one C-ECHO.
func (c *EchoCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f scuFlags
	f.register(fs)
	if err := parseFlags(fs, args, "sacrum echo", false); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("sacrum echo: want exactly one HOST:PORT")
	}
	addr := fs.Arg(0)
	cfg, err := f.clientConfig("echo", addr)
	if err != nil {
		return err
	}
	if err := dimse.Echo(ctx, addr, cfg); err != nil {
		return fmt.Errorf("sacrum echo: %s at %s: %w", f.aec, addr, err)
	}
	fmt.Fprintf(c.Stdout, "C-ECHO %s at %s: success\n", f.aec, addr)
	return nil
}

// Usage describes the command.
func (c *EchoCommand) Usage() string {
	return `Verify a remote application entity with C-ECHO.

Usage:

	sacrum echo [--aet AE] --aec AE [--timeout 60s] [--tls ...] HOST:PORT

Flags:

	--aet AE              our (calling) AE title (default SACRUM)
	--aec AE              the peer's (called) AE title (required)
	--timeout DURATION    network and DIMSE timeout (default 60s)
	--max-pdu N           our maximum receive PDU length (default 262144)
	--tls                 DICOM over TLS; --tls-ca FILE, --tls-cert FILE, --tls-key FILE,
	                      --tls-server-name NAME, --tls-insecure

The exit status is 0 when the peer answered success.

Examples:

	sacrum echo --aec SACRUM localhost:11112
	sacrum echo --aet WORKSTATION --aec PACS pacs.example.org:104
`
}
