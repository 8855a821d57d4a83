package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sacrum-dev/sacrum/dimse"
)

// SendCommand sends DICOM Part 10 files with C-STORE.
type SendCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// sendResultJSON is one line of `sacrum send --json`.
type sendResultJSON struct {
	Path           string `json:"path"`
	SOPClassUID    string `json:"sop_class_uid,omitempty"`
	SOPInstanceUID string `json:"sop_instance_uid,omitempty"`
	TransferSyntax string `json:"transfer_syntax,omitempty"`
	Bytes          int64  `json:"bytes"`
	Status         string `json:"status,omitempty"`
	OK             bool   `json:"ok"`
	Error          string `json:"error,omitempty"`
}

// Run sends the files over one association and prints one status per file.
func (c *SendCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f scuFlags
	f.register(fs)
	asJSON := fs.Bool("json", false, "print results as JSON")
	if err := parseFlags(fs, args, "sacrum send", false); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usageError("sacrum send: want HOST:PORT and at least one FILE or DIR")
	}
	addr := fs.Arg(0)
	cfg, err := f.clientConfig("send", addr)
	if err != nil {
		return err
	}
	paths, err := dimse.ExpandPaths(fs.Args()[1:])
	if err != nil {
		return fmt.Errorf("sacrum send: %w", err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("sacrum send: no files under %v", fs.Args()[1:])
	}
	results, err := dimse.SendFiles(ctx, addr, cfg, paths)
	if err != nil {
		return fmt.Errorf("sacrum send: %s at %s: %w", f.aec, addr, err)
	}
	failed := 0
	for _, r := range results {
		if !r.OK() {
			failed++
		}
	}
	if *asJSON {
		out := make([]sendResultJSON, len(results))
		for i, r := range results {
			out[i] = sendResultJSON{Path: r.Path, SOPClassUID: r.SOPClassUID, SOPInstanceUID: r.SOPInstanceUID,
				TransferSyntax: r.TransferSyntax, Bytes: r.Size, OK: r.OK()}
			if r.Err != nil {
				out[i].Error = r.Err.Error()
			} else {
				out[i].Status = fmt.Sprintf("%04X", r.Status)
			}
		}
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(c.Stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "FILE\tSOP INSTANCE UID\tSTATUS")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Path, dash(r.SOPInstanceUID), statusText(r))
		}
		tw.Flush()
		fmt.Fprintf(c.Stdout, "%d files: %d stored, %d failed\n", len(results), len(results)-failed, failed)
	}
	if failed > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("sacrum send: %d of %d files failed", failed, len(results))}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// statusText describes a result for people: the DIMSE status and its meaning, or the local error.
func statusText(r dimse.SendResult) string {
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	return fmt.Sprintf("%04X %s", r.Status, dimse.StatusText(r.Status))
}

// Usage describes the command.
func (c *SendCommand) Usage() string {
	return `Send DICOM Part 10 files with C-STORE over one association. Directories are walked
recursively. Presentation contexts are proposed from the files' SOP classes and transfer
syntaxes (for explicit and implicit VR little endian files, the other one too); each dataset
is streamed from its file in its own transfer syntax, or transcoded between explicit and
implicit VR little endian when the peer accepts only the other, in fragments sized to the
peer's maximum PDU length.

Usage:

	sacrum send [--aet AE] --aec AE [--json] HOST:PORT FILE|DIR...

Flags:

	--aet AE              our (calling) AE title (default SACRUM)
	--aec AE              the peer's (called) AE title (required)
	--json                print results as JSON
	--timeout DURATION    network and DIMSE timeout (default 60s)
	--max-pdu N           our maximum receive PDU length (default 262144)
	--tls                 DICOM over TLS; --tls-ca FILE, --tls-cert FILE, --tls-key FILE,
	                      --tls-server-name NAME, --tls-insecure

The exit status is 1 when any file was not stored.

Examples:

	sacrum send --aec PACS pacs.example.org:104 study/
	sacrum send --aet SACRUM --aec STORESCP --json localhost:11113 a.dcm b.dcm
`
}
