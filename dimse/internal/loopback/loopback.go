// Package loopback runs a server on a free loopback port for the life of a test. It is the one
// start/stop helper behind dimse's own tests (which cannot import dimsetest: it imports dimse) and
// dimsetest.StartSCP.
//
// Imports: the standard library only.
package loopback

import (
	"context"
	"net"
	"sync"
	"testing"
)

// Serve listens on 127.0.0.1:0, runs serve(ctx, ln) in a goroutine and returns the address and a
// stop function that cancels ctx and waits for serve to return, reporting its error on t. stop may
// be called more than once; it runs in t.Cleanup if the test does not call it.
func Serve(t testing.TB, serve func(context.Context, net.Listener) error) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}
