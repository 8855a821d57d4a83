package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
)

// ServeCommand runs the DICOM node.
type ServeCommand struct {
	Stdout io.Writer
	Stderr io.Writer
	// Ready, when set, is called with the listening address once the SCP accepts associations (tests).
	Ready func(addr net.Addr)
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// Run parses flags over the configuration file and serves until ctx is done.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", "", "configuration file (YAML); defaults apply without one")
	listen := fs.String("listen", "", "DICOM listen address ADDR:PORT (node.listen)")
	aet := fs.String("aet", "", "our AE title (node.ae_title)")
	dataDir := fs.String("data-dir", "", "data directory (store.data_dir)")
	admin := fs.String("admin", "", "admin HTTP listen address ADDR:PORT (admin.listen)")
	var allow stringList
	fs.Var(&allow, "allow-aet", "allowed calling AE title, AE or AE@IP; repeatable; replaces node.allow")
	var dests stringList
	fs.Var(&dests, "dest", "destination for results AE@HOST:PORT; repeatable; replaces destinations")
	stable := fs.Float64("stable-seconds", 0, "seconds without instances before a study is complete (store.stable_seconds)")
	pipeline := fs.String("pipeline", "", "what runs on a complete study: analysis, inventory or none (queue.pipeline)")
	fsync := fs.Bool("fsync", true, "fsync each received instance before answering success (node.fsync)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logJSON := fs.Bool("log-json", false, "log in JSON instead of text")
	if err := parseFlags(fs, args, "sacrum serve", true); err != nil {
		return err
	}
	cfg, err := LoadConfig(*configPath)
	if err != nil {
		return err
	}
	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "dest":
			cfg.Destinations = nil
			for _, d := range dests {
				dc, err := parseDestFlag(d)
				if err != nil {
					flagErr = err
				}
				cfg.Destinations = append(cfg.Destinations, dc)
			}
		case "stable-seconds":
			cfg.Store.StableSeconds = *stable
		case "pipeline":
			cfg.Queue.Pipeline = *pipeline
		case "listen":
			cfg.Node.Listen = *listen
		case "aet":
			cfg.Node.AETitle = *aet
		case "data-dir":
			cfg.Store.DataDir = *dataDir
		case "admin":
			cfg.Admin.Listen = *admin
		case "allow-aet":
			cfg.Node.Allow = allow
		case "fsync":
			cfg.Node.Fsync = *fsync
		}
	})
	if flagErr != nil {
		return usageError("sacrum serve: %v", flagErr)
	}
	if err := cfg.Validate(); err != nil {
		return usageError("sacrum serve: %v", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError("sacrum serve: --log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(c.Stderr, opts)
	if *logJSON {
		h = slog.NewJSONHandler(c.Stderr, opts)
	}
	log := slog.New(h)

	scfg, err := NodeServerConfig(cfg, nil, log) // serveStore sets the store as the handler
	if err != nil {
		return fmt.Errorf("sacrum serve: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Node.Listen)
	if err != nil {
		return fmt.Errorf("sacrum serve: %w", err)
	}
	log.Info("sacrum serve", "aet", cfg.Node.AETitle, "data_dir", cfg.Store.DataDir, "fsync", cfg.Node.Fsync,
		"allow", strings.Join(cfg.Node.Allow, ","), "research_use_only", true)
	if len(cfg.Node.Allow) == 0 {
		log.Warn("node.allow is empty: every association will be rejected (use --allow-aet AE[@IP])")
	}
	return serveStore(ctx, cfg, scfg, ln, log, c.Ready)
}

// NodeServerConfig builds the SCP configuration from the node section, with the given store handler.
// Received datasets are streamed to <data_dir>/incoming, which must share a file system with the
// handler's destination.
func NodeServerConfig(cfg Config, h dimse.StoreHandler, log *slog.Logger) (dimse.ServerConfig, error) {
	allow, err := cfg.Node.allowEntries()
	if err != nil {
		return dimse.ServerConfig{}, err
	}
	tlsCfg, err := cfg.Node.TLS.serverTLS()
	if err != nil {
		return dimse.ServerConfig{}, err
	}
	return dimse.ServerConfig{
		AETitle:          cfg.Node.AETitle,
		MaxPDULength:     cfg.Node.MaxPDULength,
		MaxAssociations:  cfg.Node.MaxAssociations,
		IdleTimeout:      time.Duration(cfg.Node.IdleTimeout),
		ARTIMTimeout:     time.Duration(cfg.Node.ARTIMTimeout),
		Allow:            allow,
		TLS:              tlsCfg,
		SOPClasses:       cfg.Node.SOPClasses,
		TransferSyntaxes: cfg.Node.TransferSyntaxes,
		TempDir:          filepath.Join(cfg.Store.DataDir, "incoming"),
		NoFsync:          !cfg.Node.Fsync,
		Handler:          h,
		Logger:           log,
	}, nil
}

// Usage describes the command.
func (c *ServeCommand) Usage() string {
	return `Run the DICOM node: a C-ECHO / C-STORE SCP that stores each received instance durably
(fsync before the success response). Research use only.

Usage:

	sacrum serve [--config FILE] [flags]

Flags override the configuration file (see config.yaml for every key and its default):

	--config FILE          configuration file (YAML)
	--listen ADDR:PORT     DICOM listen address (node.listen, default :11112)
	--aet AE               our AE title (node.ae_title, default SACRUM)
	--data-dir DIR         data directory (store.data_dir, default ./data)
	--admin ADDR:PORT      admin HTTP address (admin.listen)
	--allow-aet AE[@IP]    allowed calling AE title, repeatable (replaces node.allow)
	--dest AE@HOST:PORT    send results there, repeatable (replaces destinations)
	--stable-seconds N     a study is complete after N seconds without instances (store.stable_seconds, default 30)
	--pipeline NAME        analysis (the DLRC pipeline, default), inventory (a text SR listing the series) or none
	--fsync=true|false     fsync received instances (node.fsync, default true)
	--log-level LEVEL      debug, info, warn, error (default info)
	--log-json             JSON logs

Examples:

	sacrum serve --data-dir /tmp/x --allow-aet STORESCU
	sacrum serve --allow-aet MODALITY --dest PACS@10.0.0.5:104 --stable-seconds 60 --admin 127.0.0.1:8080
	sacrum serve --config config.yaml --listen :104 --allow-aet PACS@10.0.0.5
`
}
