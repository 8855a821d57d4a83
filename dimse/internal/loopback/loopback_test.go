package loopback

import (
	"context"
	"net"
	"testing"
)

// TestServe: the address accepts connections while serving, and stop waits for serve to return.
func TestServe(t *testing.T) {
	returned := false
	addr, stop := Serve(t, func(ctx context.Context, ln net.Listener) error {
		go func() { <-ctx.Done(); ln.Close() }()
		for {
			c, err := ln.Accept()
			if err != nil {
				returned = true
				return nil
			}
			c.Close()
		}
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c.Close()
	stop()
	if !returned {
		t.Fatal("stop returned before serve did")
	}
	stop() // a second call is a no-op
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatalf("%s still accepts after stop", addr)
	}
}
