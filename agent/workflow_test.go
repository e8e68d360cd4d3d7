package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// demoRequest holds one falling stock (AAPL) and asks about a rising one
// (NVDA) in the market of DefaultMarketSeed.
func demoRequest() Request {
	return Request{
		Prompt: "Rebalance my portfolio and consider adding NVDA. Be conservative.",
		Account: Account{
			ID:    "ACCT-TEST-0042",
			Owner: "Test Owner",
			Cash:  50_000,
			Positions: []Position{
				{Symbol: "AAPL", Quantity: 40, AvgCost: 175},
				{Symbol: "MSFT", Quantity: 15, AvgCost: 380},
			},
		},
	}
}

type harness struct {
	env    *testsuite.TestWorkflowEnvironment
	broker *PaperBroker
}

func newHarness(t *testing.T, model Model, opts PaperBrokerOptions) *harness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	market := NewMarket(DefaultMarketSeed)
	broker, err := NewPaperBroker(market, opts)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewActivities(model, market, broker)
	if err != nil {
		t.Fatal(err)
	}
	env.RegisterWorkflow(TradingWorkflow)
	env.RegisterActivity(a)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "wf-test-1"})
	return &harness{env: env, broker: broker}
}

func (h *harness) run(t *testing.T, req Request) (Result, error) {
	t.Helper()
	h.env.ExecuteWorkflow(TradingWorkflow, req)
	if !h.env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		return Result{}, err
	}
	var res Result
	if err := h.env.GetWorkflowResult(&res); err != nil {
		t.Fatalf("GetWorkflowResult: %v", err)
	}
	return res, nil
}

func TestWorkflowTrades(t *testing.T) {
	h := newHarness(t, RulePlanner{}, PaperBrokerOptions{LoseFirstAck: true})
	req := demoRequest()
	res, err := h.run(t, req)
	if err != nil {
		t.Fatalf("workflow error: %v", err)
	}

	// AAPL is falling and NVDA rising in this market: sell half the AAPL,
	// buy some NVDA.
	if len(res.Trades) != 2 {
		t.Fatalf("trades = %+v, want 2", res.Trades)
	}
	sell, buy := res.Trades[0], res.Trades[1]
	if sell.Symbol != "AAPL" || sell.Side != Sell || sell.Quantity != 20 {
		t.Errorf("first trade %+v, want sell 20 AAPL", sell)
	}
	if buy.Symbol != "NVDA" || buy.Side != Buy || buy.Quantity < 1 {
		t.Errorf("second trade %+v, want a buy of NVDA", buy)
	}
	for i, f := range res.Trades {
		if want := orderID("wf-test-1", 4, i); f.OrderID != want {
			t.Errorf("trade %d order ID %s, want %s (workflow ID, turn 4, call %d)", i, f.OrderID, want, i)
		}
		if f.AccountID != req.Account.ID {
			t.Errorf("trade %d account %s, want %s", i, f.AccountID, req.Account.ID)
		}
	}

	// Every first acknowledgement was lost; the retries must not trade again.
	if fills := h.broker.Fills(); len(fills) != 2 || h.broker.Attempts() != 4 {
		t.Errorf("broker: %d fills in %d attempts, want 2 in 4", len(fills), h.broker.Attempts())
	}

	wantCash := cents(req.Account.Cash + sell.Notional - buy.Notional)
	if res.Account.Cash != wantCash || res.Account.held("AAPL") != 20 || res.Account.held("NVDA") != buy.Quantity {
		t.Errorf("final account %+v, want cash %v, 20 AAPL, %d NVDA", res.Account, wantCash, buy.Quantity)
	}
	if res.ModelCalls != 5 || res.ToolCalls != 7 {
		t.Errorf("%d model calls and %d tool calls, want 5 and 7", res.ModelCalls, res.ToolCalls)
	}
	for _, want := range []string{req.Account.ID, "SELL 20 AAPL", "BUY", "NVDA", sell.OrderID} {
		if !strings.Contains(res.Answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, res.Answer)
		}
	}
}

func TestWorkflowAnalysisOnly(t *testing.T) {
	h := newHarness(t, RulePlanner{}, PaperBrokerOptions{})
	req := demoRequest()
	req.Prompt = "Analysis only, do not trade: how do AAPL and NVDA look?"
	res, err := h.run(t, req)
	if err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	if len(res.Trades) != 0 || len(h.broker.Fills()) != 0 {
		t.Errorf("trades %+v on an analysis-only prompt, want none", res.Trades)
	}
	if !strings.Contains(res.Answer, "Recommendations (not executed") {
		t.Errorf("answer lacks recommendations:\n%s", res.Answer)
	}
	if res.Account.Cash != req.Account.Cash {
		t.Errorf("cash changed from %v to %v without trades", req.Account.Cash, res.Account.Cash)
	}
}

func TestWorkflowRejectsBadRequest(t *testing.T) {
	h := newHarness(t, RulePlanner{}, PaperBrokerOptions{})
	req := demoRequest()
	req.Account.Cash = -1
	_, err := h.run(t, req)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrTypeInvalidRequest || !app.NonRetryable() {
		t.Fatalf("workflow error = %v, want a non-retryable %s", err, ErrTypeInvalidRequest)
	}
}

// script is a Model that replays fixed replies, one per turn, and keeps
// the tool messages it was shown.
type script struct {
	replies []Message
	mu      sync.Mutex
	seen    map[string]string // tool call ID -> tool message content
}

func (s *script) Complete(_ context.Context, req CompletionRequest) (CompletionResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	turn := 0
	for _, m := range req.Messages {
		switch m.Role {
		case RoleAssistant:
			turn++
		case RoleTool:
			s.seen[m.ToolCallID] = m.Content
		}
	}
	if turn >= len(s.replies) {
		return CompletionResponse{}, errors.New("script ran out")
	}
	return CompletionResponse{Message: s.replies[turn]}, nil
}

func calls(cs ...ToolCall) Message { return Message{Role: RoleAssistant, ToolCalls: cs} }

func TestWorkflowGuardsTrades(t *testing.T) {
	buy := `{"symbol":"NVDA","side":"buy","quantity":5}`
	m := &script{seen: map[string]string{}, replies: []Message{
		calls(
			ToolCall{ID: "a", Name: ToolExecuteTrade, Arguments: buy},
			ToolCall{ID: "b", Name: "launch_rockets", Arguments: `{}`},
			ToolCall{ID: "c", Name: ToolMarketData, Arguments: `{"symbols":["NVDA"],"extra":1}`},
			ToolCall{ID: "d", Name: ToolExecuteTrade, Arguments: `{"symbol":"AAPL","side":"sell","quantity":999}`},
		),
		calls(ToolCall{ID: "e", Name: ToolCheckRisk, Arguments: buy}),
		calls(
			ToolCall{ID: "f", Name: ToolExecuteTrade, Arguments: buy},
			ToolCall{ID: "g", Name: ToolExecuteTrade, Arguments: buy},
		),
		{Role: RoleAssistant, Content: "done"},
	}}
	h := newHarness(t, m, PaperBrokerOptions{})
	res, err := h.run(t, demoRequest())
	if err != nil {
		t.Fatalf("workflow error: %v", err)
	}

	wantErr := map[string]string{
		"a": "has no approval",
		"b": `unknown tool "launch_rockets"`,
		"c": "bad tool arguments",
		"d": "has no approval",
		"g": "has no approval", // the approval was used by f
	}
	for id, want := range wantErr {
		var te toolError
		if err := json.Unmarshal([]byte(m.seen[id]), &te); err != nil || !strings.Contains(te.Error, want) {
			t.Errorf("tool message %s = %s, want an error containing %q", id, m.seen[id], want)
		}
	}
	var d RiskDecision
	if err := json.Unmarshal([]byte(m.seen["e"]), &d); err != nil || !d.Approved {
		t.Errorf("check_risk result %s, want an approval", m.seen["e"])
	}
	if len(res.Trades) != 1 || res.Trades[0].Symbol != "NVDA" || len(h.broker.Fills()) != 1 {
		t.Errorf("trades %+v, want exactly the one approved NVDA buy", res.Trades)
	}
	if res.Answer != "done" {
		t.Errorf("answer %q, want %q", res.Answer, "done")
	}
}

func TestWorkflowStepLimit(t *testing.T) {
	loop := calls(ToolCall{ID: "x", Name: ToolTraderInfo})
	m := &script{seen: map[string]string{}, replies: []Message{loop, loop, loop}}
	h := newHarness(t, m, PaperBrokerOptions{})
	req := demoRequest()
	req.MaxSteps = 3
	_, err := h.run(t, req)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrTypeStepLimit {
		t.Fatalf("workflow error = %v, want %s", err, ErrTypeStepLimit)
	}
}

func TestWorkflowBadModelReply(t *testing.T) {
	dup := calls(ToolCall{ID: "x", Name: ToolTraderInfo}, ToolCall{ID: "x", Name: ToolAnalyze})
	m := &script{seen: map[string]string{}, replies: []Message{dup}}
	h := newHarness(t, m, PaperBrokerOptions{})
	_, err := h.run(t, demoRequest())
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrTypeBadModelReply {
		t.Fatalf("workflow error = %v, want %s", err, ErrTypeBadModelReply)
	}
}
