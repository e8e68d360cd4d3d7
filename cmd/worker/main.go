// Command worker runs the trading agent's Temporal worker. Every payload it
// writes is encrypted with the key in TEMPORAL_ENCRYPTION_KEY; a missing or
// malformed key stops it at start-up.
//
//	export TEMPORAL_ENCRYPTION_KEY=$(openssl rand -hex 32)
//	worker -address 127.0.0.1:7233 -task-queue trading-agent
//
// The model is the offline rule planner unless AGENT_MODEL (or -model) says
// openai or anthropic; see package agent/llm for the variables. The API
// key stays in this process's environment: it is read inside the model
// activity and never sent to Temporal.
//
//	AGENT_MODEL=openai OPENAI_BASE_URL=http://127.0.0.1:8000/v1 \
//	OPENAI_MODEL=my-model OPENAI_API_KEY=... worker -ledger fills.jsonl
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"go.temporal.io/sdk/worker"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/agent/llm"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

func main() {
	cli.Exit("worker", run(os.Args[1:]))
}

func run(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	var conn cli.Conn
	conn.AddFlags(fs)
	var mc llm.Config
	mc.AddFlags(fs)
	taskQueue := fs.String("task-queue", agent.DefaultTaskQueue, "task queue to poll")
	seed := fs.Int64("market-seed", agent.DefaultMarketSeed, "seed of the simulated market")
	ledger := fs.String("ledger", "", "file for the paper broker's fills, so that a restarted worker "+
		"never fills an order twice (default: memory only)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}

	conv, err := cli.Converters()
	if err != nil {
		return err
	}
	model, err := llm.New(mc)
	if err != nil {
		return cli.WithHint(err, "see -h for the model flags and variables")
	}
	market := agent.NewMarket(*seed)
	broker, err := agent.NewPaperBroker(market, agent.PaperBrokerOptions{LedgerPath: *ledger})
	if err != nil {
		return err
	}
	defer broker.Close()
	acts, err := agent.NewActivities(model, market, broker)
	if err != nil {
		return err
	}

	c, err := cli.Dial(context.Background(), conn, conv, cli.Logger(os.Stderr))
	if err != nil {
		return err
	}
	defer c.Close()
	w := worker.New(c, *taskQueue, worker.Options{})
	agent.Register(w, acts)

	fmt.Fprintf(os.Stderr, "worker: polling task queue %s at %s, namespace %s, model: %s; Ctrl-C stops\n",
		*taskQueue, conn.Address, conn.Namespace, mc)
	if err := w.Run(worker.InterruptCh()); err != nil {
		return fmt.Errorf("worker stopped: %w", err)
	}
	return nil
}
