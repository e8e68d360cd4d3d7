package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

// run dispatches on the subcommand; without one it starts a workflow.
func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "start":
			return runStart(ctx, args[1:], out)
		case "approve":
			return runDecide(ctx, "approve", args[1:], out)
		case "reject":
			return runDecide(ctx, "reject", args[1:], out)
		case "pending":
			return runPending(ctx, args[1:], out)
		}
	}
	return runStart(ctx, args, out)
}

func runStart(ctx context.Context, args []string, out io.Writer) error {
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
	approvalAbove := fs.Float64("approval-above", 0,
		"order value in dollars above which a trade waits for approve or reject (default 10000)")
	approvalTimeout := fs.Duration("approval-timeout", 0,
		"how long a trade waits for a decision before it is dropped (default 5m)")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for the answer")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}

	pos, err := agent.ParsePositions(*positions)
	if err != nil {
		return cli.WithHint(err, "write -positions as AAPL:40@175,MSFT:15")
	}
	req := agent.Request{
		Prompt:          *prompt,
		Account:         agent.Account{ID: *account, Owner: *owner, Cash: *cash, Positions: pos},
		Limits:          agent.RiskLimits{ApprovalNotional: *approvalAbove},
		ApprovalTimeout: *approvalTimeout,
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

	wr, err := agent.Start(ctx, c, agent.StartOptions{ID: *id, TaskQueue: *taskQueue, Timeout: *timeout}, req)
	if err != nil {
		return err
	}
	w := &lockedWriter{w: out}
	fmt.Fprintf(w, "workflow %s, run %s\n\n", wr.GetID(), wr.GetRunID())

	stop := watchApprovals(ctx, c, wr.GetID(), w)
	var res agent.Result
	err = wr.Get(ctx, &res)
	stop()
	if err != nil {
		return cli.WithHint(fmt.Errorf("workflow %s: %w", wr.GetID(), err),
			"is a worker with the same key polling task queue "+*taskQueue+"?")
	}

	fmt.Fprintln(w, res.Answer)
	fmt.Fprintln(w, "\nTrades:")
	if len(res.Trades) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, f := range res.Trades {
		fmt.Fprintln(w, "  "+agent.FormatTrade(f))
	}
	if len(res.Approvals) > 0 {
		fmt.Fprintln(w, "\nApprovals:")
		for _, a := range res.Approvals {
			fmt.Fprintln(w, "  "+agent.FormatOutcome(a))
		}
	}
	return nil
}

// watchApprovals prints each trade that starts waiting for a decision,
// with the command that decides it, until stop is called.
func watchApprovals(ctx context.Context, c client.Client, id string, out io.Writer) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		seen := map[string]bool{}
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
			ps, err := agent.Pending(qctx, c, id)
			qcancel()
			if err != nil {
				continue // not started yet, or finished: the result will say
			}
			for _, p := range ps {
				if !seen[p.OrderID] {
					seen[p.OrderID] = true
					fmt.Fprintf(out, "waiting for approval until %s: %s\n  starter approve -workflow-id %s\n"+
						"  starter reject -workflow-id %s -reason \"...\"\n\n",
						p.Deadline.Local().Format(time.TimeOnly), agent.FormatApproval(p), id, id)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// runDecide is starter approve and starter reject.
func runDecide(ctx context.Context, verb string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("starter "+verb, flag.ContinueOnError)
	var conn cli.Conn
	conn.AddFlags(fs)
	id := fs.String("workflow-id", "", "workflow whose trade to "+verb+" (required)")
	order := fs.String("order", "", "order ID of the trade (default: the one waiting)")
	approver := fs.String("approver", cli.Env("USER", "starter"), "who decides, recorded with the trade")
	reason := fs.String("reason", "", "why, recorded with the trade and shown to the agent")
	timeout := fs.Duration("timeout", time.Minute, "how long to wait for the trade's outcome")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return cli.WithHint(errors.New("no -workflow-id"), "the starter printed it when it started the workflow")
	}
	d := agent.TradeDecision{OrderID: *order, Approve: verb == "approve", Approver: *approver, Reason: *reason}
	if len(d.Approver) > agent.MaxApproverBytes || len(d.Reason) > agent.MaxReasonBytes {
		return fmt.Errorf("-approver or -reason too long (limits %d and %d bytes)",
			agent.MaxApproverBytes, agent.MaxReasonBytes)
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

	o, err := agent.Decide(ctx, c, *id, d)
	if err != nil {
		return cli.WithHint(err, "starter pending -workflow-id "+*id+" lists the trades waiting")
	}
	fmt.Fprintln(out, agent.FormatOutcome(o))
	switch {
	case d.Approve && o.Status == agent.ApprovalFailed:
		return fmt.Errorf("order %s was approved but not filled", o.OrderID)
	case d.Approve != (o.Status != agent.ApprovalRejected):
		return fmt.Errorf("order %s had already been decided: %s", o.OrderID, o.Status)
	}
	return nil
}

// runPending is starter pending.
func runPending(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("starter pending", flag.ContinueOnError)
	var conn cli.Conn
	conn.AddFlags(fs)
	id := fs.String("workflow-id", "", "workflow to ask (required)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return cli.WithHint(errors.New("no -workflow-id"), "the starter printed it when it started the workflow")
	}
	conv, err := cli.Converters()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := cli.Dial(ctx, conn, conv, cli.Logger(os.Stderr))
	if err != nil {
		return err
	}
	defer c.Close()
	ps, err := agent.Pending(ctx, c, *id)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		fmt.Fprintln(out, "no trade is waiting for approval")
	}
	for _, p := range ps {
		fmt.Fprintf(out, "%s, until %s\n", agent.FormatApproval(p), p.Deadline.Local().Format(time.DateTime))
	}
	return nil
}

// lockedWriter serializes writes from the approval watcher and the main
// flow.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
