// Command aead-info reports which AEAD this machine runs best and why: the
// architecture, the CPU features that matter, whether the standard
// library's AES-GCM runs on hardware instructions, the default algorithm
// and the reason for it, and the parameters of every algorithm.
//
// Usage:
//
//	aead-info
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "aead-info: error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("aead-info", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: aead-info\n\n"+
			"Prints the CPU features and AEAD defaults of this machine.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return writeReport(stdout, aead.Detect(), aead.All())
}
