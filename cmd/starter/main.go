// Command starter runs one trading agent workflow and prints the agent's
// answer and trades, and approves or rejects the trades that wait for a
// person. Its payloads are encrypted with the key in
// TEMPORAL_ENCRYPTION_KEY, which must be the worker's.
//
//	starter -prompt "Consider adding NVDA" -account ACCT-1234 -cash 50000 \
//	    -positions AAPL:40@175,MSFT:15@380 -approval-above 3000
//	starter pending -workflow-id trading-agent-1a2b3c4d
//	starter approve -workflow-id trading-agent-1a2b3c4d [-order ord-…]
//	starter reject  -workflow-id trading-agent-1a2b3c4d -reason "too big"
//
// A trade above the approval threshold waits (5 minutes by default) for
// approve or reject, and is dropped if neither comes.
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
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	cli.Exit("starter", err)
}
