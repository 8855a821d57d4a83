package dimsetest

import (
	"testing"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/dimse/internal/loopback"
)

// StartSCP runs a dimse server with cfg on a free loopback port and returns its address
// (host:port) and a stop function that stops the server and waits for Serve, reporting its error.
// stop runs in t.Cleanup if the test does not call it first.
func StartSCP(t testing.TB, cfg dimse.ServerConfig) (addr string, stop func()) {
	t.Helper()
	srv, err := dimse.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return loopback.Serve(t, srv.Serve)
}
