package main

import (
	"context"
	"errors"
	"io"
)

// SynthCommand is not implemented yet (placeholder so the binary builds while it is written).
type SynthCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *SynthCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum synth: not implemented yet")
}

// Usage describes the command.
func (c *SynthCommand) Usage() string { return "sacrum synth: not implemented yet" }
