// Package e2e measures what encryption costs a whole workflow: batches of
// the same workflow, with the same payloads, run on a real Temporal server
// once through a plain client and worker and once through encrypting ones.
//
// [Workflow] resembles one turn of the example agent: it receives a chat
// transcript (4 KiB of JSON), fetches market data (16 KiB) in one activity,
// hands it to a second activity that places orders (2 KiB back) and returns
// the orders. Each payload is encoded once and decoded once on its way, so
// a workflow's payloads put about 40 KiB through the codec each way.
//
// [Run] alternates the two modes round by round, plain first in even rounds
// and encrypted first in odd ones, so that drift (a server warming up, a
// neighbour's load) falls on both alike.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/temporal-encryption/temporal-encryption/bench"
)

// Payload sizes of one workflow.
const (
	transcriptSize = 4 << 10
	marketSize     = 16 << 10
	ordersSize     = 2 << 10
)

// Input is the workflow's argument.
type Input struct {
	Account    string          `json:"account"`
	Transcript json.RawMessage `json:"transcript"`
}

// Output is the workflow's result.
type Output struct {
	Account string          `json:"account"`
	Orders  json.RawMessage `json:"orders"`
}

// Activities serve fixed corpus data, so that both modes move the same
// bytes and the activities themselves cost next to nothing.
type Activities struct {
	market, orders json.RawMessage
}

// NewActivities returns the activities with their data generated.
func NewActivities() *Activities {
	return &Activities{
		market: bench.Data(bench.Market, marketSize),
		orders: bench.Data(bench.Orders, ordersSize),
	}
}

// MarketData returns 16 KiB of quotes.
func (a *Activities) MarketData(_ context.Context, account string) (json.RawMessage, error) {
	return a.market, nil
}

// PlaceOrders takes the market data and returns 2 KiB of orders.
func (a *Activities) PlaceOrders(_ context.Context, market json.RawMessage) (json.RawMessage, error) {
	if len(market) != marketSize {
		return nil, fmt.Errorf("e2e: market data is %d bytes, want %d", len(market), marketSize)
	}
	return a.orders, nil
}

// Workflow runs the two activities in turn and returns the orders.
func Workflow(ctx workflow.Context, in Input) (Output, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
	})
	var a *Activities
	var market, orders json.RawMessage
	if err := workflow.ExecuteActivity(ctx, a.MarketData, in.Account).Get(ctx, &market); err != nil {
		return Output{}, err
	}
	if err := workflow.ExecuteActivity(ctx, a.PlaceOrders, market).Get(ctx, &orders); err != nil {
		return Output{}, err
	}
	return Output{Account: in.Account, Orders: orders}, nil
}

// Register registers the workflow and activities with a worker.
func Register(r worker.Registry, a *Activities) {
	r.RegisterWorkflow(Workflow)
	r.RegisterActivity(a)
}

// Mode is one side of the comparison: the data and failure converters its
// client and worker use. Zero converters mean the SDK's defaults.
type Mode struct {
	Name             string
	DataConverter    converter.DataConverter
	FailureConverter converter.FailureConverter
}

// Options configure [Run].
type Options struct {
	HostPort  string
	Namespace string
	// Plain and Encrypted are the two modes compared.
	Plain, Encrypted Mode
	// Workflows is how many workflows one batch runs. Default 100.
	Workflows int
	// Rounds is how many batches of each mode are timed, after one
	// untimed warm-up batch each. Default 5.
	Rounds int
	// Concurrency bounds how many workflows are started and awaited at
	// once. Default 32.
	Concurrency int
	// Progress, when set, receives a line per batch.
	Progress io.Writer
	// Logger is the SDK logger of both clients. Default: the SDK's.
	Logger log.Logger
}

// Result holds per-workflow wall-clock times: the time of each batch
// divided by its size, one element per round, in the order run.
type Result struct {
	Workflows        int
	Plain, Encrypted []time.Duration
}

// OverheadPercent returns how much longer a workflow takes with
// encryption, in percent: the median over rounds of encrypted time over
// plain time, less one. Pairing rounds cancels drift that a comparison of
// overall medians would keep.
func (r Result) OverheadPercent() float64 {
	n := min(len(r.Plain), len(r.Encrypted))
	if n == 0 {
		return 0
	}
	ratios := make([]float64, n)
	for i := range n {
		ratios[i] = float64(r.Encrypted[i]) / float64(r.Plain[i])
	}
	return (median(ratios) - 1) * 100
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// side is a mode with its running client and worker.
type side struct {
	mode      Mode
	client    client.Client
	worker    worker.Worker
	taskQueue string
}

// Run starts a client and a worker for each mode against the server at
// opts.HostPort, runs a warm-up batch and then opts.Rounds timed rounds of
// both, and stops what it started.
func Run(ctx context.Context, opts Options) (Result, error) {
	if opts.Workflows <= 0 {
		opts.Workflows = 100
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 5
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 32
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Plain.Name == "" || opts.Encrypted.Name == "" {
		return Result{}, errors.New("e2e: both modes need a name")
	}

	acts := NewActivities()
	var sides [2]*side
	for i, m := range []Mode{opts.Plain, opts.Encrypted} {
		s, err := start(opts, m, acts)
		if err != nil {
			return Result{}, err
		}
		defer s.stop()
		sides[i] = s
	}

	in := Input{Account: "ACCT-4471-09", Transcript: bench.Data(bench.Agent, transcriptSize)}
	res := Result{Workflows: opts.Workflows}
	for round := -1; round < opts.Rounds; round++ {
		order := sides
		if round%2 != 0 { // odd rounds, and the warm-up, go encrypted first
			order[0], order[1] = order[1], order[0]
		}
		for _, s := range order {
			d, err := s.batch(ctx, opts, in, round)
			if err != nil {
				return res, err
			}
			per := d / time.Duration(opts.Workflows)
			label := fmt.Sprintf("round %d", round+1)
			if round < 0 {
				label = "warm-up"
			}
			fmt.Fprintf(opts.Progress, "e2e: %s, %s: %d workflows in %v (%v each)\n",
				label, s.mode.Name, opts.Workflows, d.Round(time.Millisecond), per.Round(time.Microsecond))
			if round < 0 {
				continue
			}
			if s == sides[0] {
				res.Plain = append(res.Plain, per)
			} else {
				res.Encrypted = append(res.Encrypted, per)
			}
		}
	}
	return res, nil
}

func start(opts Options, m Mode, acts *Activities) (*side, error) {
	c, err := client.Dial(client.Options{
		HostPort:         opts.HostPort,
		Namespace:        opts.Namespace,
		DataConverter:    m.DataConverter,
		FailureConverter: m.FailureConverter,
		Logger:           opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("e2e: %s: dial %s: %w", m.Name, opts.HostPort, err)
	}
	tq := "bench-e2e-" + m.Name
	w := worker.New(c, tq, worker.Options{})
	Register(w, acts)
	if err := w.Start(); err != nil {
		c.Close()
		return nil, fmt.Errorf("e2e: %s: start worker: %w", m.Name, err)
	}
	return &side{mode: m, client: c, worker: w, taskQueue: tq}, nil
}

func (s *side) stop() {
	s.worker.Stop()
	s.client.Close()
}

// batch runs opts.Workflows workflows, at most opts.Concurrency at a time,
// and returns how long they took from the first start to the last result.
func (s *side) batch(ctx context.Context, opts Options, in Input, round int) (time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, opts.Workflows)
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range opts.Workflows {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs <- s.one(ctx, in, fmt.Sprintf("bench-%s-%d-%d-%d", s.mode.Name, begin.UnixNano(), round, i))
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return elapsed, nil
}

func (s *side) one(ctx context.Context, in Input, id string) error {
	run, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                s.taskQueue,
		WorkflowExecutionTimeout: 2 * time.Minute,
	}, Workflow, in)
	if err != nil {
		return fmt.Errorf("e2e: %s: start %s: %w", s.mode.Name, id, err)
	}
	var out Output
	if err := run.Get(ctx, &out); err != nil {
		return fmt.Errorf("e2e: %s: workflow %s: %w", s.mode.Name, id, err)
	}
	if out.Account != in.Account || len(out.Orders) != ordersSize {
		return fmt.Errorf("e2e: %s: workflow %s returned the wrong result", s.mode.Name, id)
	}
	return nil
}
