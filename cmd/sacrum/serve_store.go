package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/pipeline/node"
	"github.com/sacrum-dev/sacrum/store"
	"github.com/sacrum-dev/sacrum/store/admin"
)

// StoreOptions are the store: keys besides data_dir (config.yaml documents each).
type StoreOptions struct {
	StableSeconds     float64            `yaml:"stable_seconds"`
	StableSecondsByAE map[string]float64 `yaml:"stable_seconds_by_ae"`
	MinFreeBytes      int64              `yaml:"min_free_bytes"`
	RetentionDays     float64            `yaml:"retention_days"`
}

// AdminOptions are the admin: keys besides listen.
type AdminOptions struct {
	Token   string `yaml:"token"`
	ShowPHI bool   `yaml:"show_phi"`
}

// DestinationConfig is one peer that receives our result objects (destinations: list).
type DestinationConfig struct {
	AETitle string          `yaml:"ae_title"`
	Host    string          `yaml:"host"`
	Port    int             `yaml:"port"`
	TLS     *DestinationTLS `yaml:"tls"`
}

// DestinationTLS enables DICOM over TLS towards a destination.
type DestinationTLS struct {
	CA         string `yaml:"ca"`
	Cert       string `yaml:"cert"`
	Key        string `yaml:"key"`
	ServerName string `yaml:"server_name"`
	Insecure   bool   `yaml:"insecure"`
}

// QueueConfig is the work queue and the outbox (queue: section).
type QueueConfig struct {
	Pipeline             string   `yaml:"pipeline"` // "analysis" (default), "inventory" or "none"
	Workers              int      `yaml:"workers"`
	JobTimeout           Duration `yaml:"job_timeout"`
	MaxAttempts          int      `yaml:"max_attempts"`
	RetryBackoff         Duration `yaml:"retry_backoff"`
	OutboxInitialBackoff Duration `yaml:"outbox_initial_backoff"`
	OutboxMaxBackoff     Duration `yaml:"outbox_max_backoff"`
	OutboxMaxAge         Duration `yaml:"outbox_max_age"`
	OutboxTimeout        Duration `yaml:"outbox_timeout"`
}

// defaultStoreOptions, defaultAdminOptions and defaultQueue are the defaults config.yaml shows.
func defaultStoreOptions() StoreOptions { return StoreOptions{StableSeconds: 30} }

func defaultAdminOptions() AdminOptions { return AdminOptions{} }

func defaultQueue() QueueConfig {
	return QueueConfig{
		Pipeline: "analysis", Workers: 2, JobTimeout: Duration(30 * time.Minute), MaxAttempts: 3,
		RetryBackoff: Duration(30 * time.Second), OutboxInitialBackoff: Duration(5 * time.Second),
		OutboxMaxBackoff: Duration(10 * time.Minute), OutboxMaxAge: Duration(7 * 24 * time.Hour),
		OutboxTimeout: Duration(2 * time.Minute),
	}
}

// parseDestFlag turns --dest AE@HOST:PORT into a destination.
func parseDestFlag(s string) (DestinationConfig, error) {
	d, err := store.ParseDestination(s)
	if err != nil {
		return DestinationConfig{}, fmt.Errorf("--dest: %w", err)
	}
	return DestinationConfig{AETitle: d.AE, Host: d.Host, Port: d.Port}, nil
}

// storeConfig maps the configuration file onto store.Config.
func storeConfig(cfg Config, log *slog.Logger, reg prometheus.Registerer) (store.Config, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	so, q := cfg.Store.StoreOptions, cfg.Queue
	if so.StableSeconds <= 0 {
		return store.Config{}, errors.New("store.stable_seconds must be positive")
	}
	sc := store.Config{
		DataDir:      cfg.Store.DataDir,
		StableTime:   seconds(so.StableSeconds),
		StableByAE:   map[string]time.Duration{},
		MinFreeBytes: so.MinFreeBytes,
		NoSync:       !cfg.Node.Fsync, // node.fsync: false (benchmarks only) skips the directory fsync too
		Retention:    time.Duration(so.RetentionDays * 24 * float64(time.Hour)),
		Workers:      q.Workers,
		JobTimeout:   time.Duration(q.JobTimeout),
		MaxAttempts:  q.MaxAttempts,
		RetryBackoff: time.Duration(q.RetryBackoff),
		Outbox: store.OutboxConfig{
			CallingAE:      cfg.Node.AETitle,
			InitialBackoff: time.Duration(q.OutboxInitialBackoff),
			MaxBackoff:     time.Duration(q.OutboxMaxBackoff),
			MaxAge:         time.Duration(q.OutboxMaxAge),
			Timeout:        time.Duration(q.OutboxTimeout),
		},
		// Our result objects carry Manufacturer "sacrum" and our AE title as DeviceSerialNumber, so
		// they are recognised when a PACS routes them back to us.
		OwnManufacturer: "sacrum",
		OwnDeviceSerial: cfg.Node.AETitle,
		Registerer:      reg,
		Logger:          log,
	}
	for ae, s := range so.StableSecondsByAE {
		if s <= 0 {
			return store.Config{}, fmt.Errorf("store.stable_seconds_by_ae[%s] must be positive", ae)
		}
		sc.StableByAE[ae] = seconds(s)
	}
	switch q.Pipeline {
	case "inventory", "":
		sc.Pipeline = store.InventoryPipeline{Manufacturer: sc.OwnManufacturer, DeviceSerial: sc.OwnDeviceSerial}
	case "none":
		sc.Pipeline = nil
	case "analysis": // pipeline_config.go
		p, err := analysisPipeline(cfg, log)
		if err != nil {
			return store.Config{}, err
		}
		sc.Pipeline, sc.OwnDeviceSerial = p, p.NodeUID()
	default:
		return store.Config{}, fmt.Errorf("queue.pipeline %q: want analysis, inventory or none", q.Pipeline)
	}
	for i, d := range cfg.Destinations {
		if d.AETitle == "" || len(d.AETitle) > 16 || d.Host == "" || d.Port <= 0 || d.Port > 65535 {
			return store.Config{}, fmt.Errorf("destinations[%d]: need ae_title (1-16 characters), host and port", i)
		}
		dest := store.Destination{AE: d.AETitle, Host: d.Host, Port: d.Port}
		if d.TLS != nil {
			t, err := d.TLS.client(d.Host)
			if err != nil {
				return store.Config{}, fmt.Errorf("destinations[%d]: %w", i, err)
			}
			dest.TLS = t
		}
		sc.Destinations = append(sc.Destinations, dest)
	}
	return sc, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func (t *DestinationTLS) client(host string) (*tls.Config, error) {
	f := tlsFlags{enabled: true, ca: t.CA, cert: t.Cert, key: t.Key, insecure: t.Insecure, server: t.ServerName}
	if f.server == "" {
		f.server = host
	}
	return f.clientTLS(host)
}

// serveStore runs the node: the store as the C-STORE handler, its scheduler, workers and outbox, the
// admin HTTP server and the SCP on ln, until ctx is done or one of them fails.
func serveStore(ctx context.Context, cfg Config, scfg dimse.ServerConfig, ln net.Listener, log *slog.Logger,
	ready func(net.Addr)) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sc, err := storeConfig(cfg, log, reg)
	if err != nil {
		ln.Close()
		return usageError("sacrum serve: %v", err)
	}
	st, err := store.Open(sc)
	if err != nil {
		ln.Close()
		return fmt.Errorf("sacrum serve: %w", err)
	}
	scfg.Handler = st
	if np, ok := sc.Pipeline.(*node.Pipeline); ok {
		np.SetClinicalLookup(st.Clinical) // clinical inputs stored while a study waits for them
	}
	scfg.TempDir = st.TempDir()  // scanned by store.Open: complete receive files are ingested, partial ones removed
	scfg.Observer = st.Metrics() // open connections, accepted and rejected associations
	srv, err := dimse.NewServer(scfg)
	if err != nil {
		ln.Close()
		st.Close()
		return fmt.Errorf("sacrum serve: %w", err)
	}
	token := cfg.Admin.Token
	if token == "" {
		token = os.Getenv(admin.TokenEnv)
	}
	if token == "" {
		log.Warn("no admin token (admin.token or " + admin.TokenEnv + "): retry, cancel and clinical uploads are refused")
	}
	h := admin.Handler(st, admin.Config{Token: token, ShowPHI: cfg.Admin.ShowPHI, Gatherer: reg, Logger: log})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	run := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("sacrum serve: %s: %w", name, err)
			}
			cancel()
		}()
	}
	run("queue", func() error { return st.Run(ctx) })
	if cfg.Admin.Listen != "" && cfg.Admin.Listen != "off" {
		run("admin", func() error {
			return admin.Serve(ctx, cfg.Admin.Listen, h, func(a net.Addr) { log.Info("admin HTTP", "addr", a.String()) })
		})
	}
	log.Info("store", "data_dir", st.DataDir(), "stable", sc.StableTime, "destinations", len(sc.Destinations),
		"pipeline", cfg.Queue.Pipeline, "min_free_bytes", sc.MinFreeBytes)
	if ready != nil {
		ready(ln.Addr())
	}
	run("dimse", func() error { return srv.Serve(ctx, ln) })
	wg.Wait()
	cerr := st.Close()
	select {
	case err := <-errs:
		return err
	default:
	}
	if cerr != nil {
		return fmt.Errorf("sacrum serve: close store: %w", cerr)
	}
	return nil
}
