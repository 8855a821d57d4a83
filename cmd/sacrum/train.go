package main

import (
	"context"
	"errors"
	"io"
)

// TrainCommand is not implemented yet (placeholder so the binary builds while it is written).
type TrainCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *TrainCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum train: not implemented yet")
}

// Usage describes the command.
func (c *TrainCommand) Usage() string { return "sacrum train: not implemented yet" }
