package main

import (
	"context"
	"errors"
	"io"
)

// EvaluateCommand is not implemented yet (placeholder so the binary builds while it is written).
type EvaluateCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *EvaluateCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum evaluate: not implemented yet")
}

// Usage describes the command.
func (c *EvaluateCommand) Usage() string { return "sacrum evaluate: not implemented yet" }
