package agent

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Application error types the activities return; none of them is retried.
const (
	ErrTypeInvalidInput  = "InvalidInput"
	ErrTypeOrderConflict = "OrderConflict"
	ErrTypeBadModelReply = "BadModelReply"
)

// maxToolCalls caps the tool calls of one model turn.
const maxToolCalls = 16

// Activities are the agent's activities: one for the model and one per
// tool. Register them with [Register]. Their methods are safe for
// concurrent use.
type Activities struct {
	model  Model
	market *Market
	broker *PaperBroker
}

// NewActivities returns the activities that call model, read market and
// trade at broker. All three are required.
func NewActivities(model Model, market *Market, broker *PaperBroker) (*Activities, error) {
	if model == nil || market == nil || broker == nil {
		return nil, errors.New("agent: activities need a model, a market and a broker")
	}
	return &Activities{model: model, market: market, broker: broker}, nil
}

// CallModel runs one model turn. A reply that is neither a final answer nor
// a list of well-formed tool calls fails without retry.
func (a *Activities) CallModel(ctx context.Context, req CompletionRequest) (CompletionResponse, error) {
	resp, err := a.model.Complete(ctx, req)
	if err != nil {
		return CompletionResponse{}, fmt.Errorf("agent: model: %w", err)
	}
	resp.Message.Role = RoleAssistant
	if err := checkReply(resp.Message); err != nil {
		return CompletionResponse{}, temporal.NewNonRetryableApplicationError(
			err.Error(), ErrTypeBadModelReply, nil)
	}
	if len(resp.Message.ToolCalls) > 0 {
		resp.FinishReason = FinishToolCalls
	} else {
		resp.FinishReason = FinishStop
	}
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
		ids[c.ID] = true
	}
	return nil
}

// GetTraderInfo answers get_trader_info.
func (a *Activities) GetTraderInfo(_ context.Context, in TraderInfoInput) (TraderInfo, error) {
	if err := in.Account.validate(); err != nil {
		return TraderInfo{}, invalid(err)
	}
	return TraderInfo{Account: in.Account, Limits: in.Limits, BuyingPower: in.Account.Cash}, nil
}

// GetMarketData answers get_market_data. Symbols the market does not list
// are reported in [MarketData.Unknown], not as an error.
func (a *Activities) GetMarketData(_ context.Context, args MarketDataArgs) (MarketData, error) {
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
		q, err := a.market.Quote(s)
		if err != nil {
			md.Unknown = append(md.Unknown, s)
			continue
		}
		md.Quotes = append(md.Quotes, q)
	}
	return md, nil
}

// AnalyzePortfolio answers analyze_portfolio.
func (a *Activities) AnalyzePortfolio(_ context.Context, in AnalysisInput) (PortfolioAnalysis, error) {
	if err := in.Account.validate(); err != nil {
		return PortfolioAnalysis{}, invalid(err)
	}
	return Analyze(in.Account, a.prices(in.Account, "")), nil
}

// CheckRisk answers check_risk.
func (a *Activities) CheckRisk(_ context.Context, in RiskInput) (RiskDecision, error) {
	if err := in.Account.validate(); err != nil {
		return RiskDecision{}, invalid(err)
	}
	if err := in.Limits.validate(); err != nil {
		return RiskDecision{}, invalid(err)
	}
	if err := in.Idea.validate(); err != nil {
		return RiskDecision{}, invalid(err)
	}
	prices := a.prices(in.Account, in.Idea.Symbol)
	if _, ok := prices[in.Idea.Symbol]; !ok {
		return RiskDecision{}, invalid(fmt.Errorf("%w %q", ErrUnknownSymbol, in.Idea.Symbol))
	}
	return EvaluateRisk(in.Account, in.Idea, prices, in.Limits), nil
}

// ExecuteTrade answers execute_trade: it sends o to the broker. A retry
// with the same order returns the first fill.
func (a *Activities) ExecuteTrade(_ context.Context, o Order) (Fill, error) {
	f, err := a.broker.Execute(o)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, ErrAckLost):
		return Fill{}, err
	case errors.Is(err, ErrOrderConflict):
		return Fill{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeOrderConflict, nil)
	default:
		return Fill{}, invalid(err)
	}
}

// prices returns the market prices of acct's holdings and of extra.
func (a *Activities) prices(acct Account, extra string) map[string]float64 {
	prices := make(map[string]float64, len(acct.Positions)+1)
	for _, p := range acct.Positions {
		if px, err := a.market.Price(p.Symbol); err == nil {
			prices[p.Symbol] = px
		}
	}
	if extra != "" {
		if px, err := a.market.Price(extra); err == nil {
			prices[extra] = px
		}
	}
	return prices
}

func invalid(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, nil)
}
