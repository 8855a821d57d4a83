package main

import (
	"context"
	"errors"
	"io"
)

// SendCommand is not implemented yet (placeholder so the binary builds while it is written).
type SendCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *SendCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum send: not implemented yet")
}

// Usage describes the command.
func (c *SendCommand) Usage() string { return "sacrum send: not implemented yet" }
