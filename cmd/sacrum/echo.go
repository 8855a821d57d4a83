package main

import (
	"context"
	"errors"
	"io"
)

// EchoCommand is not implemented yet (placeholder so the binary builds while it is written).
type EchoCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *EchoCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum echo: not implemented yet")
}

// Usage describes the command.
func (c *EchoCommand) Usage() string { return "sacrum echo: not implemented yet" }
