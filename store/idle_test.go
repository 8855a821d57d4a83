package store

import (
	"context"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestIdleNoWrites: an idle node commits no write transaction (each would fsync), however often it ticks.
func TestIdleNoWrites(t *testing.T) {
	s, err := Open(Config{DataDir: t.TempDir(), Tick: 5 * time.Millisecond, Pipeline: InventoryPipeline{},
		Destinations: []Destination{{AE: "PACS", Host: "127.0.0.1", Port: 104}}})
	if err != nil {
		t.Fatal(err)
	}
	txid := func() int {
		var id int
		s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	time.Sleep(300 * time.Millisecond)
	after := txid()
	cancel()
	<-done
	s.Close()
	if after != before {
		t.Errorf("%d write transactions while idle", after-before)
	}
}
