// Command demo shows the whole project in one run: it starts a Temporal dev
// server on 127.0.0.1 (version check off), a worker with the encrypting
// converters, and the trading agent workflow; prints the agent's answer;
// then reads the raw history back with a client that has no codec and
// prints the audit's verdict. Everything it started is stopped on the way
// out, after a failure or Ctrl-C too. The exit status is 1 if any step or
// the audit failed.
//
// If TEMPORAL_ENCRYPTION_KEY is not set, demo makes a random key for this
// run only, and says so.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once
	}()
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	cli.Exit("demo", err)
}
