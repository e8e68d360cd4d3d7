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
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/agent/llm"
	"github.com/temporal-encryption/temporal-encryption/audit"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

// run is the demo; every resource it starts is released by a defer, so an
// early return, a failure or a cancelled ctx all clean up.
func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	prompt := fs.String("prompt", "Rebalance my portfolio and consider adding NVDA. Be conservative.",
		"instruction for the agent")
	account := fs.String("account", "ACCT-DEMO-0001", "account ID")
	owner := fs.String("owner", "Dana Whitfield", "account owner's name")
	cash := fs.Float64("cash", 50_000, "cash in the account, dollars")
	positions := fs.String("positions", "AAPL:40@175,MSFT:15@380", "positions, SYMBOL:QTY[@COST],...")
	seed := fs.Int64("market-seed", agent.DefaultMarketSeed, "seed of the simulated market")
	approvalAbove := fs.Float64("approval-above", 0, "order value in dollars above which a trade "+
		"waits for approval; the demo approves it, as starter approve would (default 10000)")
	var mc llm.Config
	mc.AddFlags(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	var outMu sync.Mutex
	say := func(format string, a ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, "demo: "+format+"\n", a...)
	}

	pos, err := agent.ParsePositions(*positions)
	if err != nil {
		return cli.WithHint(err, "write -positions as AAPL:40@175,MSFT:15")
	}
	ticket := "TICKET-" + randomHex(6) // a marker that must not leak
	req := agent.Request{
		Prompt:  fmt.Sprintf("%s (ticket %s)", *prompt, ticket),
		Account: agent.Account{ID: *account, Owner: *owner, Cash: *cash, Positions: pos},
		Limits:  agent.RiskLimits{ApprovalNotional: *approvalAbove},
	}
	if err := req.Validate(); err != nil {
		return err
	}
	model, err := llm.New(mc)
	if err != nil {
		return cli.WithHint(err, "run demo -h for the model flags and variables; "+
			"without them the demo uses the offline planner")
	}

	cliPath, err := devserver.CLIPath()
	if err != nil {
		return cli.WithHint(err, devserver.Hint)
	}

	if os.Getenv(envkey.VarKey) == "" {
		key, err := envkey.Generate()
		if err != nil {
			return err
		}
		if err := os.Setenv(envkey.VarKey, key); err != nil {
			return err
		}
		say("%s is not set: using a random key for this run only", envkey.VarKey)
		say("(set it to 32 random bytes in hex to use your own key)")
	}
	conv, err := cli.Converters()
	if err != nil {
		return err
	}

	// The dev server.
	logFile, err := os.CreateTemp("", "temporal-demo-server-*.log")
	if err != nil {
		return err
	}
	started := false
	defer func() {
		logFile.Close()
		if err != nil && started {
			say("the dev server's log is in %s", logFile.Name())
		} else {
			os.Remove(logFile.Name())
		}
	}()
	// The SDK's own log (it reports the dropped broker answers as activity
	// errors) goes to the same file, to keep the demo's output readable.
	logger := cli.Logger(logFile)
	srv, err := devserver.Start(ctx, devserver.Options{CLI: cliPath, Output: logFile, Logger: logger})
	started = true
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := srv.Stop(); stopErr != nil && err == nil {
			err = stopErr
		}
		say("dev server stopped")
	}()
	say("Temporal dev server on %s (in memory, version check off)", srv.HostPort())

	// The worker, with the encrypting converters inherited from its client.
	c, err := cli.Dial(ctx, cli.Conn{Address: srv.HostPort(), Namespace: srv.Namespace()}, conv, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	market := agent.NewMarket(*seed)
	broker, err := agent.NewPaperBroker(market, agent.PaperBrokerOptions{LoseFirstAck: true})
	if err != nil {
		return err
	}
	acts, err := agent.NewActivities(model, market, broker)
	if err != nil {
		return err
	}
	w := worker.New(c, agent.DefaultTaskQueue, worker.Options{})
	agent.Register(w, acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	say("worker polling task queue %s, model: %s", agent.DefaultTaskQueue, mc)

	// The workflow.
	id := "trading-agent-demo-" + randomHex(4)
	wr, err := agent.Start(ctx, c, agent.StartOptions{ID: id, TaskQueue: agent.DefaultTaskQueue}, req)
	if err != nil {
		return err
	}
	say("started workflow %s for account %s", id, req.Account.ID)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	stopApproving := approveAll(wctx, c, id, say)
	var res agent.Result
	err = wr.Get(wctx, &res)
	stopApproving()
	if err != nil {
		return fmt.Errorf("workflow %s: %w", id, err)
	}
	fmt.Fprintf(out, "\n%s\n\n", indent(res.Answer))
	say("%d model calls and %d tool calls, each its own activity", res.ModelCalls, res.ToolCalls)
	say("broker filled %d orders in %d attempts: the first answer to each order was dropped on "+
		"purpose, and the retries reused the order IDs", len(broker.Fills()), broker.Attempts())

	// The proof: what the server holds, read without the codec.
	canaries := []string{req.Account.ID, req.Account.Owner, ticket}
	for _, f := range res.Trades {
		canaries = append(canaries, f.OrderID)
	}
	shown := canaries
	if v := mc.KeyVar(); v != "" && os.Getenv(v) != "" {
		canaries = append(canaries, os.Getenv(v)) // the model's API key, never printed
		shown = append(shown[:len(shown):len(shown)], "$"+v)
	}
	report, err := audit.Workflow(ctx, srv.Client(), id, wr.GetRunID(), canaries...)
	if err != nil {
		return err
	}
	say("audit of %d history events with a codec-less client, looking for %s:",
		report.Events, strings.Join(shown, ", "))
	say("  %s", report.Verdict())
	for _, f := range report.Findings() {
		for i, c := range canaries {
			f = strings.ReplaceAll(f, c, shown[i]) // the API key only
		}
		say("  %s", f)
	}

	var stolen agent.Result
	readErr := srv.Client().GetWorkflow(ctx, id, wr.GetRunID()).Get(ctx, &stolen)
	if readErr == nil {
		return errors.New("a client without the key decoded the workflow result")
	}
	say("a client without the key cannot read the result: %s", firstLine(readErr.Error(), 100))

	if !report.OK() {
		return errors.New("audit failed: the server holds plaintext")
	}
	say("OK: the server holds only ciphertext for workflow %s", id)
	return nil
}

// approveAll approves every trade of workflow id that waits for approval,
// as a person running starter approve would, until stop is called.
func approveAll(ctx context.Context, c client.Client, id string, say func(string, ...any)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			ps, err := agent.Pending(ctx, c, id)
			if err != nil || len(ps) == 0 {
				continue
			}
			say("waiting for approval: %s", agent.FormatApproval(ps[0]))
			say("  approving, as `starter approve -workflow-id %s` would", id)
			o, err := agent.Decide(ctx, c, id, agent.TradeDecision{OrderID: ps[0].OrderID, Approve: true,
				Approver: "demo", Reason: "approved by the demo"})
			if err != nil {
				say("  approval failed: %v", err)
				continue
			}
			say("  %s", agent.FormatOutcome(o))
		}
	}()
	return func() { cancel(); <-done }
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string, limit int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
