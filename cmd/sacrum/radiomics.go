package main

import (
	"context"
	"errors"
	"io"
)

// RadiomicsCommand is not implemented yet (placeholder so the binary builds while it is written).
type RadiomicsCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *RadiomicsCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum radiomics: not implemented yet")
}

// Usage describes the command.
func (c *RadiomicsCommand) Usage() string { return "sacrum radiomics: not implemented yet" }
