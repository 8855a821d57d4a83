package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DBFile is the database file name inside the data directory.
const DBFile = "sacrum.db"

// Store is the study store, work queue and outbox of one node.
type Store struct {
	cfg     Config
	dir     string
	db      *bolt.DB
	metrics *Metrics

	ingestMu sync.Mutex // held by the writer's commits (moves into studies/) and by purges
	writes   chan *writeReq
	wrDone   chan struct{} // closed when the writer has stopped
	stopW    chan struct{}
	writerWG sync.WaitGroup

	mu        sync.Mutex
	deadlines map[string]time.Time          // RECEIVING study → when it becomes COMPLETE
	retryAt   map[string]time.Time          // RETRYING study → when it is queued again
	running   map[string]context.CancelFunc // study → cancel of its running job
	sending   map[string]bool               // destinations with a send in flight
	closed    bool

	wake     chan struct{} // scheduler
	wakeOut  chan struct{} // outbox
	ready    atomic.Bool
	runWG    sync.WaitGroup
	closeErr error
	once     sync.Once
}

// Open opens (creating if needed) the store in cfg.DataDir, migrates the schema and reconciles files and
// records: received files without a record get one, studies that were PROCESSING go back to QUEUED, and
// half-made results and temporary files are removed. Call Run to start the scheduler, workers and outbox.
func Open(cfg Config) (*Store, error) {
	cfg.setDefaults()
	if cfg.DataDir == "" {
		return nil, errors.New("store: no data directory configured")
	}
	for _, d := range []string{"", "studies", "results", "tmp", "incoming"} {
		if err := os.MkdirAll(filepath.Join(cfg.DataDir, d), 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	db, err := bolt.Open(filepath.Join(cfg.DataDir, DBFile), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w (is another sacrum serve running?)", filepath.Join(cfg.DataDir, DBFile), err)
	}
	s := &Store{
		cfg:       cfg,
		dir:       cfg.DataDir,
		db:        db,
		metrics:   newMetrics(),
		writes:    make(chan *writeReq, 1024),
		wrDone:    make(chan struct{}),
		stopW:     make(chan struct{}),
		deadlines: map[string]time.Time{},
		retryAt:   map[string]time.Time{},
		running:   map[string]context.CancelFunc{},
		sending:   map[string]bool{},
		wake:      make(chan struct{}, 1),
		wakeOut:   make(chan struct{}, 1),
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.reconcile(time.Now()); err != nil {
		db.Close()
		return nil, err
	}
	if cfg.Registerer != nil {
		if err := s.metrics.register(cfg.Registerer, s); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: register metrics: %w", err)
		}
	}
	s.writerWG.Add(1)
	go s.writer()
	s.ready.Store(true)
	return s, nil
}

// Metrics returns the node's metrics; the DIMSE server reports associations through it.
func (s *Store) Metrics() *Metrics { return s.metrics }

// DataDir is the data directory.
func (s *Store) DataDir() string { return s.dir }

// TempDir is where the C-STORE SCP should write incoming files: on the data directory's file system,
// so they can be renamed into place, and emptied at start-up.
func (s *Store) TempDir() string { return filepath.Join(s.dir, "tmp") }

// IncomingDir is the C-STORE SCP's receive directory (dimse.ServerConfig.TempDir) of sacrum serve.
// Open ingests the complete receive files left there (and in TempDir) and removes the others.
func (s *Store) IncomingDir() string { return filepath.Join(s.dir, "incoming") }

// Ready reports whether the store accepts instances (open, and the disk above the watermark).
func (s *Store) Ready() error {
	if !s.ready.Load() {
		return errors.New("store not open")
	}
	if s.cfg.MinFreeBytes > 0 {
		free, err := freeBytes(s.dir)
		if err != nil {
			return err
		}
		if free < uint64(s.cfg.MinFreeBytes) {
			return fmt.Errorf("disk below watermark: %d bytes free, min_free_bytes %d", free, s.cfg.MinFreeBytes)
		}
	}
	return nil
}

// Close waits for Run's goroutines (cancel its context first), commits pending records and closes the database.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.ready.Store(false)
		s.mu.Lock()
		s.closed = true
		for _, cancel := range s.running {
			cancel()
		}
		s.mu.Unlock()
		s.runWG.Wait()
		close(s.stopW)
		s.writerWG.Wait()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

func (s *Store) abs(rel string) string { return filepath.Join(s.dir, filepath.FromSlash(rel)) }

func (s *Store) log() interface {
	Info(string, ...any)
	Warn(string, ...any)
	Error(string, ...any)
} {
	return s.cfg.Logger
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// syncDir fsyncs a directory so a rename or create in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
