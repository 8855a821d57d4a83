package main

import (
	"context"
	"log/slog"
	"net"
	"sync"

	"github.com/sacrum-dev/sacrum/store"
)

// The DICOM server has no metrics hooks, so serve feeds the association metrics from the outside:
// open connections from the listener, accepted and rejected associations from the server's
// "association accepted" and "association rejected" log records (TestServeAssociationMetrics guards
// the coupling). A dimse observer interface would replace assocLogObserver.

// countingListener reports each accepted connection as active until it is closed.
type countingListener struct {
	net.Listener
	m *store.Metrics
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.m.ConnectionOpened()
	return &countedConn{Conn: c, m: l.m}, nil
}

type countedConn struct {
	net.Conn
	m    *store.Metrics
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(c.m.ConnectionClosed)
	return c.Conn.Close()
}

// assocLogObserver passes records to the node's log handler and counts association outcomes.
type assocLogObserver struct {
	inner slog.Handler
	m     *store.Metrics
}

func (h assocLogObserver) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.inner.Enabled(ctx, l)
}

func (h assocLogObserver) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case "association accepted":
		h.m.AssociationAccepted()
	case "association rejected":
		h.m.AssociationRejected()
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h assocLogObserver) WithAttrs(as []slog.Attr) slog.Handler {
	return assocLogObserver{inner: h.inner.WithAttrs(as), m: h.m}
}

func (h assocLogObserver) WithGroup(name string) slog.Handler {
	return assocLogObserver{inner: h.inner.WithGroup(name), m: h.m}
}
