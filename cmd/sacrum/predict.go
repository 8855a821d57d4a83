package main

import (
	"context"
	"errors"
	"io"
)

// PredictCommand is not implemented yet (placeholder so the binary builds while it is written).
type PredictCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *PredictCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum predict: not implemented yet")
}

// Usage describes the command.
func (c *PredictCommand) Usage() string { return "sacrum predict: not implemented yet" }
