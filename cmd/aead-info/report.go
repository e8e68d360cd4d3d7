package main

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
	"text/tabwriter"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// writeReport prints h and a table of algs to w.
func writeReport(w io.Writer, h aead.Hardware, algs []aead.Algorithm) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)

	features := strings.Join(h.Features, " ")
	if features == "" {
		features = "(none that matter here)"
	}
	accel := "no: generic code, slower and not guaranteed constant-time"
	if h.AESGCM {
		accel = "yes: hardware instructions, constant-time"
	}
	fmt.Fprintf(tw, "architecture:\t%s\n", h.Arch)
	fmt.Fprintf(tw, "cpu features:\t%s\n", features)
	fmt.Fprintf(tw, "aes-gcm accelerated:\t%s\n", accel)
	fmt.Fprintf(tw, "default algorithm:\t%s\n", h.Default)
	fmt.Fprintf(tw, "because:\t%s\n", h.Reason)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	fmt.Fprintln(tw, "ALGORITHM\tKEY\tNONCE\tOVERHEAD\tMAX MESSAGES PER KEY")
	for _, a := range algs {
		fmt.Fprintf(tw, "%s\t%d B\t%d B\t%d B\t%s\n",
			a.ID(), a.KeySize(), a.NonceSize(), a.Overhead(), formatCount(a.MaxMessages()))
	}
	return tw.Flush()
}

// formatCount writes a message limit as a power of two where it is one.
func formatCount(n uint64) string {
	switch {
	case n == math.MaxUint64:
		return "no practical limit (over 2^64)"
	case n != 0 && n&(n-1) == 0:
		return fmt.Sprintf("2^%d", bits.TrailingZeros64(n))
	default:
		return fmt.Sprint(n)
	}
}
