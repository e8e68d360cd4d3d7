package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
)

// DefaultTaskQueue is the task queue the commands use unless told otherwise.
const DefaultTaskQueue = "trading-agent"

// Memo keys set by [Start].
const (
	MemoApp     = "app"
	MemoAccount = "account_id"
	MemoOwner   = "owner"
)

// Register registers [TradingWorkflow] and a's activities with a worker.
func Register(r worker.Registry, a *Activities) {
	r.RegisterWorkflow(TradingWorkflow)
	r.RegisterActivity(a)
}

// StartOptions say where and as what [Start] runs the workflow.
type StartOptions struct {
	// ID is the workflow ID. Required. Order IDs derive from it, so reusing
	// an ID for a new run repeats its order IDs.
	ID string

	// TaskQueue is the worker's task queue. Default DefaultTaskQueue.
	TaskQueue string

	// Timeout bounds the whole workflow execution. Default 10 minutes.
	Timeout time.Duration

	// SearchAttributes are set on the execution as given. They are indexed
	// by the server and never encrypted: keep secrets out of them.
	SearchAttributes temporal.SearchAttributes
}

// Start validates req and starts [TradingWorkflow] with it through c. The
// execution gets a memo (app, account ID, owner) and a static summary and
// details naming the account and quoting the prompt; all of these pass
// through c's data converter like the input does.
func Start(ctx context.Context, c client.Client, opts StartOptions, req Request) (client.WorkflowRun, error) {
	if c == nil {
		return nil, errors.New("agent: no client")
	}
	if opts.ID == "" {
		return nil, errors.New("agent: workflow ID is empty")
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if opts.TaskQueue == "" {
		opts.TaskQueue = DefaultTaskQueue
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Minute
	}

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       opts.ID,
		TaskQueue:                opts.TaskQueue,
		WorkflowExecutionTimeout: opts.Timeout,
		Memo: map[string]any{
			MemoApp:     "trading-agent",
			MemoAccount: req.Account.ID,
			MemoOwner:   req.Account.Owner,
		},
		StaticSummary:         fmt.Sprintf("Trading agent for account %s", req.Account.ID),
		StaticDetails:         fmt.Sprintf("Owner: %s\n\nPrompt:\n\n> %s", req.Account.Owner, req.Prompt),
		TypedSearchAttributes: opts.SearchAttributes,
	}, TradingWorkflow, req)
	if err != nil {
		return nil, fmt.Errorf("agent: start workflow: %w", err)
	}
	return run, nil
}
