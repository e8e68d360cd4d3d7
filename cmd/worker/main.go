// Command worker runs the trading agent's Temporal worker. Every payload it
// writes is encrypted with the key in TEMPORAL_ENCRYPTION_KEY; a missing or
// malformed key stops it at start-up.
//
//	export TEMPORAL_ENCRYPTION_KEY=$(openssl rand -hex 32)
//	worker -address 127.0.0.1:7233 -task-queue trading-agent
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"go.temporal.io/sdk/worker"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

func main() {
	cli.Exit("worker", run(os.Args[1:]))
}

func run(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	var conn cli.Conn
	conn.AddFlags(fs)
	taskQueue := fs.String("task-queue", agent.DefaultTaskQueue, "task queue to poll")
	seed := fs.Int64("market-seed", agent.DefaultMarketSeed, "seed of the simulated market")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}

	conv, err := cli.Converters()
	if err != nil {
		return err
	}
	c, err := cli.Dial(context.Background(), conn, conv, cli.Logger(os.Stderr))
	if err != nil {
		return err
	}
	defer c.Close()

	market := agent.NewMarket(*seed)
	broker, err := agent.NewPaperBroker(market, agent.PaperBrokerOptions{})
	if err != nil {
		return err
	}
	acts, err := agent.NewActivities(agent.RulePlanner{}, market, broker)
	if err != nil {
		return err
	}
	w := worker.New(c, *taskQueue, worker.Options{})
	agent.Register(w, acts)

	fmt.Fprintf(os.Stderr, "worker: polling task queue %s at %s, namespace %s; Ctrl-C stops\n",
		*taskQueue, conn.Address, conn.Namespace)
	if err := w.Run(worker.InterruptCh()); err != nil {
		return fmt.Errorf("worker stopped: %w", err)
	}
	return nil
}
