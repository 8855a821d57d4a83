package main

import (
	"context"
	"errors"
	"io"
)

// FeaturesCommand is not implemented yet (placeholder so the binary builds while it is written).
type FeaturesCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run reports that the command is not implemented yet.
func (c *FeaturesCommand) Run(ctx context.Context, args []string) error {
	return errors.New("sacrum features: not implemented yet")
}

// Usage describes the command.
func (c *FeaturesCommand) Usage() string { return "sacrum features: not implemented yet" }
