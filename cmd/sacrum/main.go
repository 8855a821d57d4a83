// Command sacrum is a DICOM node that predicts TNF-inhibitor response in axial
// spondyloarthritis from sacroiliac-joint MRI. Research use only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Command is one subcommand, in the manner of Litestream's cmd/litestream.
type Command interface {
	Run(ctx context.Context, args []string) error
	Usage() string
}

// ExitError carries a specific exit code (2 = bad arguments).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks an error as bad usage (exit code 2).
func usageError(format string, a ...any) error {
	return &ExitError{Code: 2, Err: fmt.Errorf(format, a...)}
}

// parseFlags parses a command's arguments into fs: -h gives flag.ErrHelp, a bad flag is a usage
// error (exit 2) naming the command ("sacrum train"). With noArgs a positional argument is one too.
func parseFlags(fs *flag.FlagSet, args []string, command string, noArgs bool) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError("%s: %v", command, err)
	}
	if noArgs && fs.NArg() != 0 {
		return usageError("%s: unexpected argument %q", command, fs.Arg(0))
	}
	return nil
}

// Main holds the streams of one invocation so tests can run commands in-process.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
}

func (m *Main) commands() map[string]Command {
	return map[string]Command{
		"serve":     &ServeCommand{Stdout: m.Stdout, Stderr: m.Stderr},
		"status":    &StatusCommand{Stdout: m.Stdout, Stderr: m.Stderr},
		"echo":      &EchoCommand{Stdout: m.Stdout, Stderr: m.Stderr},
		"send":      &SendCommand{Stdout: m.Stdout, Stderr: m.Stderr},
		"synth":     &SynthCommand{Stdout: m.Stdout, Stderr: m.Stderr},
		"radiomics": &RadiomicsCommand{Stdout: m.Stdout, Stderr: m.Stderr},
		"features":  &FeaturesCommand{Stdout: m.Stdout, Stderr: m.Stderr},
		"train":     &TrainCommand{Stdout: m.Stdout, Stderr: m.Stderr},
		"evaluate":  &EvaluateCommand{Stdout: m.Stdout, Stderr: m.Stderr},
		"predict":   &PredictCommand{Stdout: m.Stdout, Stderr: m.Stderr},
		"demo":      &DemoCommand{Stdout: m.Stdout, Stderr: m.Stderr},
	}
}

// Run dispatches args[0] to its subcommand.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := m.commands()[args[1]]; ok {
				fmt.Fprintln(m.Stdout, c.Usage())
				return nil
			}
		}
		fmt.Fprint(m.Stdout, m.Usage())
		return nil
	}
	c, ok := m.commands()[args[0]]
	if !ok {
		return usageError("sacrum: unknown command %q (run 'sacrum help')", args[0])
	}
	err := c.Run(ctx, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(m.Stdout, c.Usage())
		return nil
	}
	return err
}

// Usage lists the subcommands.
func (m *Main) Usage() string {
	return `sacrum predicts TNF-inhibitor response in axSpA from sacroiliac-joint MRI.
Research use only, not for diagnostic use.

Usage:

	sacrum <command> [arguments]

Commands:

	serve      run the DICOM node (C-ECHO/C-STORE SCP, queue, pipeline, outbox, admin HTTP)
	status     show the study queue (from the running node or the database file)
	echo       C-ECHO a remote application entity
	send       C-STORE files or directories to a remote application entity
	synth      generate synthetic SIJ MRI studies and an axSpA cohort
	radiomics  compute IBSI / PyRadiomics features for an image and a mask
	features   compute features for every patient of a cohort
	train      train DLR / DLRC models and write a model bundle
	evaluate   evaluate predicted probabilities or a bundle on new data
	predict    run the offline pipeline on a folder of DICOM files
	demo       run the whole node on one synthetic patient and print the result

Run 'sacrum help <command>' for details.
`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr}
	err := m.Run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		var ee *ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.Code)
		}
		os.Exit(1)
	}
}
