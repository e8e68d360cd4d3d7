// Command starter runs one trading agent workflow and prints the agent's
// answer and trades. Its inputs are encrypted with the key in
// TEMPORAL_ENCRYPTION_KEY, which must be the worker's.
//
//	starter -prompt "Consider adding NVDA" -account ACCT-1234 -cash 50000 \
//	    -positions AAPL:40@175,MSFT:15@380
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	cli.Exit("starter", err)
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("starter", flag.ContinueOnError)
	var conn cli.Conn
	conn.AddFlags(fs)
	taskQueue := fs.String("task-queue", agent.DefaultTaskQueue, "task queue of the worker")
	id := fs.String("workflow-id", "", "workflow ID (default: trading-agent-<random>)")
	prompt := fs.String("prompt", "Rebalance my portfolio and consider adding NVDA. Be conservative.",
		"instruction for the agent")
	account := fs.String("account", "ACCT-DEMO-0001", "account ID")
	owner := fs.String("owner", "Dana Whitfield", "account owner's name")
	cash := fs.Float64("cash", 50_000, "cash in the account, dollars")
	positions := fs.String("positions", "AAPL:40@175,MSFT:15@380", "positions, SYMBOL:QTY[@COST],...")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for the answer")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}

	pos, err := agent.ParsePositions(*positions)
	if err != nil {
		return cli.WithHint(err, "write -positions as AAPL:40@175,MSFT:15")
	}
	req := agent.Request{
		Prompt:  *prompt,
		Account: agent.Account{ID: *account, Owner: *owner, Cash: *cash, Positions: pos},
	}
	if err := req.Validate(); err != nil {
		return err
	}
	if *id == "" {
		*id = "trading-agent-" + randomHex(4)
	}

	conv, err := cli.Converters()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c, err := cli.Dial(ctx, conn, conv, cli.Logger(os.Stderr))
	if err != nil {
		return err
	}
	defer c.Close()

	wr, err := agent.Start(ctx, c, agent.StartOptions{ID: *id, TaskQueue: *taskQueue}, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workflow %s, run %s\n\n", wr.GetID(), wr.GetRunID())
	var res agent.Result
	if err := wr.Get(ctx, &res); err != nil {
		return cli.WithHint(fmt.Errorf("workflow %s: %w", wr.GetID(), err),
			"is a worker with the same key polling task queue "+*taskQueue+"?")
	}

	fmt.Fprintln(out, res.Answer)
	fmt.Fprintln(out, "\nTrades:")
	if len(res.Trades) == 0 {
		fmt.Fprintln(out, "  none")
	}
	for _, f := range res.Trades {
		fmt.Fprintln(out, "  "+agent.FormatTrade(f))
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
