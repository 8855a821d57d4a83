// Command mkmr writes a synthetic MR series of Part 10 files (for benchmarks and manual tests).
//
//	go run ./dimse/dimsetest/mkmr -n 500 -rows 256 -cols 256 -out /tmp/mr
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sacrum-dev/sacrum/dimse/dimsetest"
)

func main() {
	n := flag.Int("n", 100, "number of images")
	rows := flag.Int("rows", 256, "rows")
	cols := flag.Int("cols", 256, "columns")
	seed := flag.Uint64("seed", 1, "seed for UIDs and pixels")
	out := flag.String("out", "", "output directory (required)")
	flag.Parse()
	if *out == "" || *n < 1 || *rows < 1 || *cols < 1 || *rows > 65535 || *cols > 65535 {
		fmt.Fprintln(os.Stderr, "usage: mkmr -out DIR [-n 100] [-rows 256] [-cols 256] [-seed 1]")
		os.Exit(2)
	}
	paths, err := dimsetest.WriteSeries(*out, dimsetest.Series(*seed, *n, *rows, *cols))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d files to %s\n", len(paths), *out)
}
