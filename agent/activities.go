package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Application error types the activities return. The first three are never
// retried.
const (
	ErrTypeInvalidInput  = "InvalidInput"
	ErrTypeOrderConflict = "OrderConflict"
	ErrTypeBadModelReply = "BadModelReply"
)

// Application error types for a [Model] that calls a remote service. A
// provider returns them from Complete (see agent/openai) so that Temporal's
// activity retries, not the provider's client library, deal with rate
// limits and outages: the workflow's retry policy never retries the first
// two, and waits as long as the service asked before retrying the third.
const (
	// ErrTypeModelAuth: the service refused the credentials (HTTP 401,
	// 403), or none are configured. Not retried.
	ErrTypeModelAuth = "ModelAuth"

	// ErrTypeModelRejected: the service refused the request itself (HTTP
	// 400, 404, 413, 422 and other 4xx). Not retried: the same request
	// would fail the same way.
	ErrTypeModelRejected = "ModelRequestRejected"

	// ErrTypeModelRateLimited: HTTP 429. Retried, after the delay the
	// service named in Retry-After when it named one.
	ErrTypeModelRateLimited = "ModelRateLimited"

	// ErrTypeModelUnavailable: HTTP 408, 409, 5xx, or no answer at all.
	// Retried with the workflow's backoff.
	ErrTypeModelUnavailable = "ModelUnavailable"
)

// Limits on what one model reply may hold; a longer answer is cut, a longer
// tool call is refused. They keep model replies, which are recorded in
// history and sent back to the model each turn, well under Temporal's
// payload limits.
const (
	maxToolCalls    = 16
	maxAnswerBytes  = 32 << 10
	maxArgBytes     = 8 << 10
	maxToolIDBytes  = 128
	maxToolNameSize = 64
)

// heartbeatEvery is how often a running activity heartbeats. The workflow
// sets a heartbeat timeout a few times longer, so a worker that dies in
// the middle of an activity is noticed in seconds rather than at the
// start-to-close timeout.
const heartbeatEvery = time.Second

// Activities are the agent's activities: one for the model and one per
// tool. Register them with [Register]. Their methods are safe for
// concurrent use.
type Activities struct {
	model  Model
	feed   MarketFeed
	broker *PaperBroker
}

// NewActivities returns the activities that call model, read quotes from
// feed (a [*Market] for the simulation) and trade at broker. All three are
// required.
func NewActivities(model Model, feed MarketFeed, broker *PaperBroker) (*Activities, error) {
	if model == nil || feed == nil || broker == nil {
		return nil, errors.New("agent: activities need a model, a market and a broker")
	}
	if m, ok := feed.(*Market); ok && m == nil {
		return nil, errors.New("agent: activities need a model, a market and a broker")
	}
	return &Activities{model: model, feed: feed, broker: broker}, nil
}

// CallModel runs one model turn. A reply that is neither a final answer nor
// a list of well-formed tool calls fails without retry; a final answer over
// 32 KiB is cut short. An [*temporal.ApplicationError] from the model is
// returned as it is, so its type and retry advice reach Temporal; any other
// error is retried.
func (a *Activities) CallModel(ctx context.Context, req CompletionRequest) (CompletionResponse, error) {
	defer keepAlive(ctx)()
	resp, err := a.model.Complete(ctx, req)
	if err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) {
			return CompletionResponse{}, app
		}
		if ctx.Err() != nil {
			return CompletionResponse{}, ctx.Err()
		}
		return CompletionResponse{}, fmt.Errorf("agent: model: %w", err)
	}
	resp.Message.Role = RoleAssistant
	resp.Message.ToolCallID = ""
	if err := checkReply(resp.Message); err != nil {
		return CompletionResponse{}, temporal.NewNonRetryableApplicationError(
			err.Error(), ErrTypeBadModelReply, nil)
	}
	resp.FinishReason = FinishStop
	if len(resp.Message.ToolCalls) > 0 {
		resp.FinishReason = FinishToolCalls
	}
	resp.Message.Content = clip(resp.Message.Content, maxAnswerBytes)
	return resp, nil
}

func checkReply(m Message) error {
	if len(m.ToolCalls) == 0 {
		if m.Content == "" {
			return errors.New("agent: model returned neither tool calls nor an answer")
		}
		return nil
	}
	if len(m.ToolCalls) > maxToolCalls {
		return fmt.Errorf("agent: model asked for %d tool calls, limit %d", len(m.ToolCalls), maxToolCalls)
	}
	ids := make(map[string]bool, len(m.ToolCalls))
	for i, c := range m.ToolCalls {
		if c.ID == "" || c.Name == "" || ids[c.ID] {
			return fmt.Errorf("agent: tool call %d has an empty or repeated ID or no name", i)
		}
		if len(c.ID) > maxToolIDBytes || len(c.Name) > maxToolNameSize || len(c.Arguments) > maxArgBytes {
			return fmt.Errorf("agent: tool call %d is too long (ID %d, name %d, arguments %d bytes)",
				i, len(c.ID), len(c.Name), len(c.Arguments))
		}
		ids[c.ID] = true
	}
	return nil
}

// GetTraderInfo answers get_trader_info.
func (a *Activities) GetTraderInfo(ctx context.Context, in TraderInfoInput) (TraderInfo, error) {
	defer keepAlive(ctx)()
	if err := in.Account.validate(); err != nil {
		return TraderInfo{}, invalid(err)
	}
	return TraderInfo{Account: in.Account, Limits: in.Limits, BuyingPower: in.Account.Cash}, nil
}

// GetMarketData answers get_market_data. Symbols the feed does not list
// are reported in [MarketData.Unknown], not as an error; any other feed
// error fails the activity, to be retried.
func (a *Activities) GetMarketData(ctx context.Context, args MarketDataArgs) (MarketData, error) {
	defer keepAlive(ctx)()
	if len(args.Symbols) == 0 || len(args.Symbols) > MaxSymbols {
		return MarketData{}, invalid(fmt.Errorf("agent: %d symbols, want 1..%d",
			len(args.Symbols), MaxSymbols))
	}
	var md MarketData
	seen := make(map[string]bool, len(args.Symbols))
	for _, s := range args.Symbols {
		if seen[s] {
			continue
		}
		seen[s] = true
		if !validSymbol(s) {
			md.Unknown = append(md.Unknown, clip(s, 16))
			continue
		}
		q, err := a.feed.LatestQuote(ctx, s)
		switch {
		case errors.Is(err, ErrUnknownSymbol):
			md.Unknown = append(md.Unknown, s)
		case err != nil:
			return MarketData{}, fmt.Errorf("agent: quote %s: %w", s, err)
		default:
			if len(q.Closes) > quoteDays {
				q.Closes = q.Closes[len(q.Closes)-quoteDays:]
			}
			md.Quotes = append(md.Quotes, q)
		}
	}
	return md, nil
}

// AnalyzePortfolio answers analyze_portfolio.
func (a *Activities) AnalyzePortfolio(ctx context.Context, in AnalysisInput) (PortfolioAnalysis, error) {
	defer keepAlive(ctx)()
	if err := in.Account.validate(); err != nil {
		return PortfolioAnalysis{}, invalid(err)
	}
	prices, err := a.prices(ctx, in.Account, "")
	if err != nil {
		return PortfolioAnalysis{}, err
	}
	return Analyze(in.Account, prices), nil
}

// CheckRisk answers check_risk.
func (a *Activities) CheckRisk(ctx context.Context, in RiskInput) (RiskDecision, error) {
	defer keepAlive(ctx)()
	if err := in.Account.validate(); err != nil {
		return RiskDecision{}, invalid(err)
	}
	if err := in.Limits.validate(); err != nil {
		return RiskDecision{}, invalid(err)
	}
	if err := in.Idea.validate(); err != nil {
		return RiskDecision{}, invalid(err)
	}
	prices, err := a.prices(ctx, in.Account, in.Idea.Symbol)
	if err != nil {
		return RiskDecision{}, err
	}
	if _, ok := prices[in.Idea.Symbol]; !ok {
		return RiskDecision{}, invalid(fmt.Errorf("%w %q", ErrUnknownSymbol, in.Idea.Symbol))
	}
	return EvaluateRisk(in.Account, in.Idea, prices, in.Limits.withDefaults()), nil
}

// ExecuteTrade answers execute_trade: it sends o to the broker. A retry
// with the same order returns the first fill.
func (a *Activities) ExecuteTrade(ctx context.Context, o Order) (Fill, error) {
	defer keepAlive(ctx)()
	f, err := a.broker.Execute(ctx, o)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, ErrAckLost):
		return Fill{}, err
	case errors.Is(err, ErrOrderConflict):
		return Fill{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeOrderConflict, nil)
	case errors.As(err, new(transientError)):
		return Fill{}, err // the feed or the ledger failed: try again
	default:
		return Fill{}, invalid(err)
	}
}

// prices returns the market prices of acct's holdings and of extra. A
// symbol the feed does not list is left out; any other feed error is
// returned.
func (a *Activities) prices(ctx context.Context, acct Account, extra string) (map[string]float64, error) {
	prices := make(map[string]float64, len(acct.Positions)+1)
	syms := make([]string, 0, len(acct.Positions)+1)
	for _, p := range acct.Positions {
		syms = append(syms, p.Symbol)
	}
	if extra != "" {
		syms = append(syms, extra)
	}
	for _, s := range syms {
		q, err := a.feed.LatestQuote(ctx, s)
		switch {
		case errors.Is(err, ErrUnknownSymbol):
		case err != nil:
			return nil, fmt.Errorf("agent: quote %s: %w", s, err)
		case finite(q.Price) && q.Price > 0:
			prices[s] = q.Price
		}
	}
	return prices, nil
}

// keepAlive heartbeats every second until the returned function is called.
// Outside an activity it does nothing.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	activity.RecordHeartbeat(ctx)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done); <-exited } // no heartbeat after the activity returns
}

func invalid(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, nil)
}

// clip cuts s to at most n bytes, on a UTF-8 boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = " […]"
	cut := n - len(mark)
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + mark
}
