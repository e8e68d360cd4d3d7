package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	if req.Continued != nil {
		return nil, errors.New("agent: a new request cannot carry a continuation")
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

// Pending returns the trades of workflow id (its latest run) that wait for
// a decision, through c's data converter.
func Pending(ctx context.Context, c client.Client, id string) ([]PendingApproval, error) {
	if c == nil || id == "" {
		return nil, errors.New("agent: no client or workflow ID")
	}
	v, err := c.QueryWorkflow(ctx, id, "", QueryPendingApprovals)
	if err != nil {
		return nil, fmt.Errorf("agent: query workflow %s: %w", id, err)
	}
	var ps []PendingApproval
	if err := v.Get(&ps); err != nil {
		return nil, fmt.Errorf("agent: query workflow %s: %w", id, err)
	}
	return ps, nil
}

// Decide sends d to workflow id and waits for the outcome: the fill, or
// why the trade was dropped. With d.OrderID empty it first asks which
// trade waits, and fails unless exactly one does. The update ID is
// [DecisionUpdateID] of the order, so sending the same decision twice is
// harmless, and a second, different decision on the same order gets the
// first one's outcome; check [ApprovalOutcome.Status].
func Decide(ctx context.Context, c client.Client, id string, d TradeDecision) (ApprovalOutcome, error) {
	if d.OrderID == "" {
		ps, err := Pending(ctx, c, id)
		if err != nil {
			return ApprovalOutcome{}, err
		}
		switch len(ps) {
		case 0:
			return ApprovalOutcome{}, fmt.Errorf("agent: no trade of workflow %s is waiting for approval", id)
		case 1:
			d.OrderID = ps[0].OrderID
		default:
			return ApprovalOutcome{}, fmt.Errorf("agent: %d trades of workflow %s wait: name the order", len(ps), id)
		}
	}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateID:     DecisionUpdateID(d.OrderID),
		UpdateName:   UpdateDecideTrade,
		Args:         []any{d},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return ApprovalOutcome{}, fmt.Errorf("agent: decide on order %s: %w", d.OrderID, err)
	}
	var out ApprovalOutcome
	if err := h.Get(ctx, &out); err != nil {
		return ApprovalOutcome{}, fmt.Errorf("agent: decide on order %s: %w", d.OrderID, err)
	}
	return out, nil
}

// FormatApproval writes a trade that needs approval on one line: "SELL 20
// AAPL, $3,236.40 (over $1,000.00), order ord-…".
func FormatApproval(p PendingApproval) string {
	return fmt.Sprintf("%s %d %s, %s (over %s), order %s", strings.ToUpper(string(p.Side)),
		p.Quantity, p.Symbol, money(p.Notional), money(p.Threshold), p.OrderID)
}

// FormatOutcome writes an [ApprovalOutcome] on one line: "SELL 20 AAPL,
// $3,236.40 (over $1,000.00), order ord-…: filled by dana, at $161.82".
func FormatOutcome(o ApprovalOutcome) string {
	s := FormatApproval(o.PendingApproval) + ": " + string(o.Status)
	if o.Approver != "" {
		s += " by " + o.Approver
	}
	if o.Reason != "" {
		s += " (" + o.Reason + ")"
	}
	switch {
	case o.Fill != nil:
		s += ", at " + money(o.Fill.Price)
	case o.Error != "":
		s += ": " + o.Error
	}
	return s
}
