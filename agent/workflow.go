package agent

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Application error types of the workflow itself.
const (
	ErrTypeInvalidRequest = "InvalidRequest"
	ErrTypeStepLimit      = "StepLimit"
)

// Activity timeouts and retries. The model gets longer, as a hosted model
// can be slow; tools are local and quick. Every activity heartbeats each
// second while it runs, so a worker that dies in the middle of one is
// noticed after heartbeatTimeout and the activity is retried elsewhere.
const (
	modelTimeout     = 2 * time.Minute
	toolTimeout      = 30 * time.Second
	heartbeatTimeout = 5 * time.Second
)

var retryPolicy = &temporal.RetryPolicy{
	InitialInterval:    200 * time.Millisecond,
	BackoffCoefficient: 2,
	MaximumInterval:    10 * time.Second,
	MaximumAttempts:    5,
}

// modelRetryPolicy gives a rate-limited or overloaded model service more
// room: a 429 that names a delay in Retry-After is retried after that
// delay instead (see [ErrTypeModelRateLimited]).
var modelRetryPolicy = &temporal.RetryPolicy{
	InitialInterval:        time.Second,
	BackoffCoefficient:     2,
	MaximumInterval:        time.Minute,
	MaximumAttempts:        8,
	NonRetryableErrorTypes: []string{ErrTypeModelAuth, ErrTypeModelRejected, ErrTypeBadModelReply},
}

// SystemPrompt opens every conversation.
const SystemPrompt = "You are a careful trading agent working for one trader. " +
	"Start with get_trader_info, read the market and the portfolio, " +
	"check every order with check_risk before execute_trade, " +
	"and finish with a short report of what you did and why."

// TradingWorkflow runs the agent for req and returns its answer and trades.
// It fails without retry on an invalid request, when a model call fails
// for good, or when the model has not answered after req.MaxSteps calls.
// A failing tool does not fail the workflow: the model sees the error as
// the tool's result.
//
// A trade whose notional is above [RiskLimits.ApprovalNotional] waits for
// the [UpdateDecideTrade] update, for at most req.ApprovalTimeout, and is
// dropped if rejected or not decided in time. Between turns, once history
// has req.ContinueAsNewAfter events or the server suggests it, the
// workflow continues as new with its state in [Request.Continued]; the
// result is the same as if it had not.
func TradingWorkflow(ctx workflow.Context, req Request) (Result, error) {
	if err := req.Validate(); err != nil {
		return Result{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidRequest, nil)
	}
	s := newSession(ctx, req)
	if err := s.registerApprovals(ctx); err != nil {
		return Result{}, err
	}

	for s.step < s.maxSteps {
		if s.shouldContinueAsNew(ctx) {
			if err := s.finishHandlers(ctx); err != nil {
				return Result{}, err
			}
			next := req
			next.Continued = s.continuation()
			return Result{}, workflow.NewContinueAsNewError(ctx, TradingWorkflow, next)
		}
		s.step++
		s.runSteps++
		s.trim()
		reply, err := s.callModel(ctx, s.step, s.msgs)
		if err != nil {
			return Result{}, err
		}
		s.msgs = append(s.msgs, reply.Message)
		if len(reply.Message.ToolCalls) == 0 {
			s.result.Answer = reply.Message.Content
			s.result.Account = s.account
			if err := s.finishHandlers(ctx); err != nil {
				return Result{}, err
			}
			return s.result, nil
		}
		s.msgs = append(s.msgs, s.runTools(ctx, s.step, reply.Message.ToolCalls)...)
	}
	return Result{}, temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("agent: no final answer after %d model calls", s.maxSteps), ErrTypeStepLimit, nil)
}

// session is the state of one workflow run.
type session struct {
	workflowID string
	limits     RiskLimits
	maxSteps   int
	budget     int // conversation bytes
	canAfter   int // history events
	runs       int // runs before this one
	runSteps   int // model turns in this run

	approvalTimeout time.Duration
	waiting         []*approvalWait             // trades waiting for a decision
	outcomes        map[string]*ApprovalOutcome // by order ID, this run

	step      int // model turns in all runs
	msgs      []Message
	trimmed   int
	toolTally map[string]int
	account   Account
	approved  []RiskDecision // approvals not yet used by a trade
	result    Result
}

// newSession starts from req, or from where the previous run stopped.
func newSession(ctx workflow.Context, req Request) *session {
	s := &session{
		workflowID:      workflow.GetInfo(ctx).WorkflowExecution.ID,
		limits:          req.Limits.withDefaults(),
		maxSteps:        orDefault(req.MaxSteps, DefaultSteps),
		budget:          orDefault(req.MaxConversationBytes, DefaultConversationBytes),
		canAfter:        orDefault(req.ContinueAsNewAfter, DefaultContinueAsNewEvents),
		approvalTimeout: req.ApprovalTimeout,
		outcomes:        make(map[string]*ApprovalOutcome),
	}
	if s.approvalTimeout == 0 {
		s.approvalTimeout = DefaultApprovalTimeout
	}
	if c := req.Continued; c != nil {
		s.step, s.runs = c.Step, c.Runs
		s.msgs = c.Messages
		s.trimmed, s.toolTally = c.Trimmed, c.ToolTally
		s.account = c.Account.clone()
		s.approved = c.Approved
		s.result = c.Result
		return s
	}
	s.account = req.Account.clone()
	s.msgs = []Message{
		{Role: RoleSystem, Content: SystemPrompt},
		{Role: RoleUser, Content: req.Prompt},
	}
	return s
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// finishHandlers waits for running update handlers to return, so that
// nobody who decided on a trade is left without an answer.
func (s *session) finishHandlers(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// acts is only used to name activity methods; it is never called.
var acts *Activities

func (s *session) callModel(ctx workflow.Context, step int, msgs []Message) (CompletionResponse, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: modelTimeout,
		HeartbeatTimeout:    heartbeatTimeout,
		RetryPolicy:         modelRetryPolicy,
		Summary:             fmt.Sprintf("model turn %d", step),
	})
	var reply CompletionResponse
	err := workflow.ExecuteActivity(ctx, acts.CallModel, CompletionRequest{
		Messages: msgs,
		Tools:    Tools(),
	}).Get(ctx, &reply)
	s.result.ModelCalls++
	if err != nil {
		// The activity error names the activity and its event IDs already.
		return CompletionResponse{}, err
	}
	return reply, nil
}

// pending is a tool call in flight, or one refused before it ran.
type pending struct {
	future workflow.Future
	result any
	done   func() // bookkeeping after success, run in call order
	err    error
}

// runTools runs one turn's tool calls and returns one tool message per call,
// in call order. Read-only tools start at once and run concurrently; trades
// then run one at a time, so each sees the account the previous one left.
func (s *session) runTools(ctx workflow.Context, step int, calls []ToolCall) []Message {
	ps := make([]*pending, len(calls))
	for i, c := range calls {
		if c.Name != ToolExecuteTrade {
			ps[i] = s.startTool(ctx, c)
		}
	}
	for _, p := range ps {
		if p != nil && p.future != nil {
			s.result.ToolCalls++
			p.err = p.future.Get(ctx, p.result)
			if p.err == nil && p.done != nil {
				p.done()
			}
		}
	}
	for i, c := range calls {
		if c.Name == ToolExecuteTrade {
			ps[i] = s.trade(ctx, c, orderID(s.workflowID, step, i))
		}
	}

	out := make([]Message, len(calls))
	for i, p := range ps {
		out[i] = Message{Role: RoleTool, ToolCallID: calls[i].ID, Content: toolContent(p)}
	}
	return out
}

func (s *session) startTool(ctx workflow.Context, c ToolCall) *pending {
	acct := s.account.clone()
	switch c.Name {
	case ToolTraderInfo:
		if err := decodeArgs(c.Arguments, &struct{}{}); err != nil {
			return &pending{err: err}
		}
		p := &pending{result: new(TraderInfo)}
		in := TraderInfoInput{Account: acct, Limits: s.limits}
		p.future = workflow.ExecuteActivity(s.toolCtx(ctx, c.Name), acts.GetTraderInfo, in)
		return p

	case ToolMarketData:
		var args MarketDataArgs
		if err := decodeArgs(c.Arguments, &args); err != nil {
			return &pending{err: err}
		}
		p := &pending{result: new(MarketData)}
		summary := fmt.Sprintf("%s %d symbols", c.Name, len(args.Symbols))
		p.future = workflow.ExecuteActivity(s.toolCtx(ctx, summary), acts.GetMarketData, args)
		return p

	case ToolAnalyze:
		if err := decodeArgs(c.Arguments, &struct{}{}); err != nil {
			return &pending{err: err}
		}
		p := &pending{result: new(PortfolioAnalysis)}
		in := AnalysisInput{Account: acct}
		p.future = workflow.ExecuteActivity(s.toolCtx(ctx, c.Name), acts.AnalyzePortfolio, in)
		return p

	case ToolCheckRisk:
		var idea TradeIdea
		if err := decodeArgs(c.Arguments, &idea); err != nil {
			return &pending{err: err}
		}
		if err := idea.validate(); err != nil {
			return &pending{err: err}
		}
		d := new(RiskDecision)
		p := &pending{result: d}
		p.done = func() {
			if d.Approved {
				s.approved = append(s.approved, *d)
			}
		}
		in := RiskInput{Account: acct, Idea: idea, Limits: s.limits}
		summary := fmt.Sprintf("%s %s", c.Name, idea)
		p.future = workflow.ExecuteActivity(s.toolCtx(ctx, summary), acts.CheckRisk, in)
		return p
	}
	return &pending{err: fmt.Errorf("agent: unknown tool %q", c.Name)}
}

// trade runs one execute_trade call: it needs an unused approval for the
// same idea, cash for a buy and the shares for a sale.
func (s *session) trade(ctx workflow.Context, c ToolCall, id string) *pending {
	var idea TradeIdea
	if err := decodeArgs(c.Arguments, &idea); err != nil {
		return &pending{err: err}
	}
	if err := idea.validate(); err != nil {
		return &pending{err: err}
	}
	k := -1
	for i, d := range s.approved {
		if d.TradeIdea == idea {
			k = i
			break
		}
	}
	if k < 0 {
		return &pending{err: fmt.Errorf("agent: %s has no approval from %s", idea, ToolCheckRisk)}
	}
	approval := s.approved[k]
	if idea.Side == Buy && approval.Notional > s.account.Cash {
		return &pending{err: fmt.Errorf("agent: %s needs %.2f, cash is %.2f",
			idea, approval.Notional, s.account.Cash)}
	}
	if idea.Side == Sell && idea.Quantity > s.account.held(idea.Symbol) {
		return &pending{err: fmt.Errorf("agent: %s sells more than the %d held",
			idea, s.account.held(idea.Symbol))}
	}

	order := Order{ID: id, AccountID: s.account.ID, Symbol: idea.Symbol, Side: idea.Side,
		Quantity: idea.Quantity}
	var outcome *ApprovalOutcome
	if approval.Notional > s.limits.ApprovalNotional {
		out, err := s.approve(ctx, order, approval)
		if out == nil {
			return &pending{err: err} // the workflow is being cancelled
		}
		if err != nil {
			s.approved = append(s.approved[:k], s.approved[k+1:]...)
			s.settle(out, nil, nil)
			return &pending{err: err}
		}
		outcome = out
	}

	fill := new(Fill)
	summary := fmt.Sprintf("%s %s", c.Name, idea)
	s.result.ToolCalls++
	err := workflow.ExecuteActivity(s.toolCtx(ctx, summary), acts.ExecuteTrade, order).Get(ctx, fill)
	if outcome != nil {
		s.settle(outcome, fill, err)
	}
	if err != nil {
		return &pending{err: err}
	}
	s.approved = append(s.approved[:k], s.approved[k+1:]...)
	s.account.apply(*fill)
	s.result.Trades = append(s.result.Trades, *fill)
	return &pending{result: fill}
}

func (s *session) toolCtx(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: toolTimeout,
		HeartbeatTimeout:    heartbeatTimeout,
		RetryPolicy:         retryPolicy,
		Summary:             summary,
	})
}

// orderID derives the broker order ID of the call-th tool call of a model
// turn. It depends only on values fixed in history, so a retried activity
// and a replayed workflow task both send the same ID.
func orderID(workflowID string, step, call int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", workflowID, step, call))
	return "ord-" + hex.EncodeToString(sum[:12])
}

// decodeArgs parses a tool call's JSON arguments strictly: unknown fields
// and trailing data are errors. Empty arguments mean {}.
func decodeArgs(args string, v any) error {
	if args == "" {
		args = "{}"
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(args)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("agent: bad tool arguments: %w", err)
	}
	if dec.More() {
		return errors.New("agent: bad tool arguments: trailing data")
	}
	return nil
}

// toolError is the content of a tool message for a call that failed.
type toolError struct {
	Error string `json:"error"`
}

// errorText is the message of an activity error without the SDK's wrapping.
func errorText(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}
