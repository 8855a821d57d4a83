package main

import (
	"context"
	"errors"
	"io"
)

// ServeCommand is not implemented yet (placeholder so the binary builds while it is written).
type ServeCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum serve: not implemented yet")
}

// Usage describes the command.
func (c *ServeCommand) Usage() string { return "sacrum serve: not implemented yet" }
