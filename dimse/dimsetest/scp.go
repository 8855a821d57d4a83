package dimsetest

import (
	"context"
	"net"
	"testing"

	"github.com/sacrum-dev/sacrum/dimse"
)

// StartSCP runs a dimse server with cfg on a free loopback port until the test ends and returns
// its address (host:port). The server is stopped, and Serve's error reported, in t.Cleanup.
func StartSCP(t testing.TB, cfg dimse.ServerConfig) string {
	t.Helper()
	srv, err := dimse.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}
