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
//
// The agent's model is the offline rule planner unless AGENT_MODEL says
// openai or anthropic (see package agent/llm), for example:
//
//	AGENT_MODEL=openai OPENAI_BASE_URL=http://127.0.0.1:8000/v1 \
//	OPENAI_MODEL=my-model OPENAI_API_KEY=... make demo
//
// With a remote model the audit also looks for the API key in the history.
// With -approval-above, trades over that value wait for approval, and the
// demo approves them through the same update as starter approve.
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
