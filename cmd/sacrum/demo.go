package main

import (
	"context"
	"errors"
	"io"
)

// DemoCommand is not implemented yet (placeholder so the binary builds while it is written).
type DemoCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *DemoCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum demo: not implemented yet")
}

// Usage describes the command.
func (c *DemoCommand) Usage() string { return "sacrum demo: not implemented yet" }
