package main

import (
	"context"
	"errors"
	"io"
)

// StatusCommand is not implemented yet (placeholder so the binary builds while it is written).
type StatusCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *StatusCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum status: not implemented yet")
}

// Usage describes the command.
func (c *StatusCommand) Usage() string { return "sacrum status: not implemented yet" }
