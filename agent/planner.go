package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
)

// RulePlanner is the default [Model]: a deterministic planner that needs no
// network and no API key. It reads the prompt and the tool results in the
// conversation and works through a fixed plan:
//
//  1. get_trader_info;
//  2. get_market_data for the symbols named in the prompt and the ones
//     held (SPY if there are none), together with analyze_portfolio;
//  3. check_risk for each trade idea: sell half of a holding whose 5-day
//     average is 1% or more below its 20-day average; buy a named symbol
//     (or a holding, if none is named) whose 5-day average is 1% or more
//     above, sized to 10% of equity ("conservative": 5%, "aggressive":
//     15%) within the limits from get_trader_info;
//  4. execute_trade for each approved idea;
//  5. a final report.
//
// A prompt asking for no trades ("analysis only", "do not trade", "dry
// run") stops after step 2 and reports the ideas as recommendations. A tool
// error moves the plan on rather than repeating the call. RulePlanner keeps
// no state and is safe for concurrent use.
type RulePlanner struct{}

var _ Model = RulePlanner{}

// Planner tuning.
const (
	signalThreshold = 0.01
	plannerMaxTurns = 6
)

// Complete implements [Model].
func (RulePlanner) Complete(ctx context.Context, req CompletionRequest) (CompletionResponse, error) {
	if err := ctx.Err(); err != nil {
		return CompletionResponse{}, err
	}
	t, err := readTranscript(req.Messages)
	if err != nil {
		return CompletionResponse{}, err
	}
	return t.next(), nil
}

// transcript is what the planner learns from a conversation.
type transcript struct {
	prompt   string
	intent   intent
	turns    int
	called   map[string]bool
	trader   *TraderInfo
	market   *MarketData
	analysis *PortfolioAnalysis
	risk     []RiskDecision
	fills    []Fill
	problems []string
}

func readTranscript(msgs []Message) (*transcript, error) {
	t := &transcript{called: make(map[string]bool)}
	names := make(map[string]string)
	for _, m := range msgs {
		switch m.Role {
		case RoleUser:
			if t.prompt == "" {
				t.prompt = m.Content
			}
		case RoleAssistant:
			t.turns++
			for _, c := range m.ToolCalls {
				names[c.ID] = c.Name
				t.called[c.Name] = true
			}
		case RoleTool:
			t.record(names[m.ToolCallID], m.Content)
		}
	}
	if t.prompt == "" {
		return nil, fmt.Errorf("agent: planner: conversation has no user message")
	}
	t.intent = readIntent(t.prompt)
	return t, nil
}

// record stores one tool result; an error result, or one that does not
// parse, becomes a problem to report.
func (t *transcript) record(name, content string) {
	var te toolError
	if json.Unmarshal([]byte(content), &te) == nil && te.Error != "" {
		t.problems = append(t.problems, fmt.Sprintf("%s: %s", name, te.Error))
		return
	}
	var err error
	switch name {
	case ToolTraderInfo:
		t.trader = new(TraderInfo)
		err = json.Unmarshal([]byte(content), t.trader)
	case ToolMarketData:
		t.market = new(MarketData)
		err = json.Unmarshal([]byte(content), t.market)
	case ToolAnalyze:
		t.analysis = new(PortfolioAnalysis)
		err = json.Unmarshal([]byte(content), t.analysis)
	case ToolCheckRisk:
		var d RiskDecision
		if err = json.Unmarshal([]byte(content), &d); err == nil {
			t.risk = append(t.risk, d)
		}
	case ToolExecuteTrade:
		var f Fill
		if err = json.Unmarshal([]byte(content), &f); err == nil {
			t.fills = append(t.fills, f)
		}
	}
	if err != nil {
		t.problems = append(t.problems, fmt.Sprintf("%s: unreadable result", name))
	}
}

func (t *transcript) next() CompletionResponse {
	switch {
	case t.turns >= plannerMaxTurns:
		return t.answer()
	case !t.called[ToolTraderInfo]:
		return t.calls(call{ToolTraderInfo, struct{}{}})
	case t.trader == nil:
		return t.answer()
	case !t.called[ToolMarketData]:
		return t.calls(
			call{ToolMarketData, MarketDataArgs{Symbols: t.watchlist()}},
			call{ToolAnalyze, struct{}{}},
		)
	case t.intent.noTrade || t.market == nil || t.analysis == nil:
		return t.answer()
	case !t.called[ToolCheckRisk]:
		var cs []call
		for _, idea := range t.ideas() {
			cs = append(cs, call{ToolCheckRisk, idea})
		}
		if len(cs) == 0 {
			return t.answer()
		}
		return t.calls(cs...)
	case !t.called[ToolExecuteTrade]:
		var cs []call
		for _, d := range t.risk {
			if d.Approved {
				cs = append(cs, call{ToolExecuteTrade, d.TradeIdea})
			}
		}
		if len(cs) == 0 {
			return t.answer()
		}
		return t.calls(cs...)
	}
	return t.answer()
}

type call struct {
	name string
	args any
}

func (t *transcript) calls(cs ...call) CompletionResponse {
	m := Message{Role: RoleAssistant}
	for i, c := range cs {
		args, _ := json.Marshal(c.args) // plain structs: cannot fail
		m.ToolCalls = append(m.ToolCalls, ToolCall{
			ID:        fmt.Sprintf("call_%d_%d", t.turns+1, i+1),
			Name:      c.name,
			Arguments: string(args),
		})
	}
	return CompletionResponse{Message: m, FinishReason: FinishToolCalls}
}

// watchlist is the symbols named in the prompt and the ones held, sorted,
// or SPY when there are none.
func (t *transcript) watchlist() []string {
	syms := slices.Clone(t.intent.tickers)
	for _, p := range t.trader.Account.Positions {
		syms = append(syms, p.Symbol)
	}
	slices.Sort(syms)
	syms = slices.Compact(syms)
	if len(syms) == 0 {
		syms = []string{"SPY"}
	}
	if len(syms) > MaxSymbols {
		syms = syms[:MaxSymbols]
	}
	return syms
}

// ideas proposes sells of falling holdings, then buys of rising symbols,
// sized within the account's limits.
func (t *transcript) ideas() []TradeIdea {
	acct, limits, equity := t.trader.Account, t.trader.Limits, t.analysis.Equity
	quotes := make(map[string]Quote, len(t.market.Quotes))
	for _, q := range t.market.Quotes {
		quotes[q.Symbol] = q
	}

	var out []TradeIdea
	selling := make(map[string]bool)
	held := slices.Clone(acct.Positions)
	slices.SortFunc(held, func(a, b Position) int { return strings.Compare(a.Symbol, b.Symbol) })
	for _, p := range held {
		if q, ok := quotes[p.Symbol]; ok && q.Momentum <= -signalThreshold {
			out = append(out, TradeIdea{Symbol: p.Symbol, Side: Sell, Quantity: (p.Quantity + 1) / 2})
			selling[p.Symbol] = true
		}
	}

	cands := t.intent.tickers
	if len(cands) == 0 {
		for _, p := range held {
			cands = append(cands, p.Symbol)
		}
	}
	var rising []Quote
	for _, s := range cands {
		if q, ok := quotes[s]; ok && q.Momentum >= signalThreshold && !selling[s] {
			rising = append(rising, q)
		}
	}
	slices.SortFunc(rising, func(a, b Quote) int {
		if c := cmpFloat(b.Momentum, a.Momentum); c != 0 {
			return c
		}
		return strings.Compare(a.Symbol, b.Symbol)
	})
	available := acct.Cash - limits.MinCashWeight*equity
	for _, q := range rising {
		budget := min(equity*t.intent.sizing, limits.MaxOrderNotional, available,
			limits.MaxPositionWeight*equity-q.Price*float64(acct.held(q.Symbol)))
		qty := int64(math.Floor(budget * 0.999 / q.Price))
		if qty < 1 {
			continue
		}
		out = append(out, TradeIdea{Symbol: q.Symbol, Side: Buy, Quantity: qty})
		available -= q.Price * float64(qty)
	}
	return out
}

// answer writes the final report.
func (t *transcript) answer() CompletionResponse {
	var b strings.Builder
	if t.trader == nil {
		b.WriteString("I could not read the account, so I made no trades.\n")
		t.writeProblems(&b)
		return final(b.String())
	}

	acct := t.trader.Account
	cash := acct.Cash
	for _, f := range t.fills {
		if f.Side == Buy {
			cash -= f.Notional
		} else {
			cash += f.Notional
		}
	}
	fmt.Fprintf(&b, "Account %s (%s): ", acct.ID, acct.Owner)
	if t.analysis != nil {
		fmt.Fprintf(&b, "equity %s before trading, unrealized P&L %s; ",
			money(t.analysis.Equity), money(t.analysis.UnrealizedPnL))
	}
	fmt.Fprintf(&b, "cash now %s.\n", money(cash))

	if t.market != nil {
		b.WriteString("\nMarket view:\n")
		for _, q := range t.market.Quotes {
			fmt.Fprintf(&b, "- %s %s (%+.2f%% today), 5/20-day momentum %+.1f%%: %s\n",
				q.Symbol, money(q.Price), q.ChangePct, q.Momentum*100, trend(q.Momentum))
		}
		if len(t.market.Unknown) > 0 {
			fmt.Fprintf(&b, "- not listed: %s\n", strings.Join(t.market.Unknown, ", "))
		}
	}

	switch {
	case len(t.fills) > 0:
		b.WriteString("\nTrades executed:\n")
		for _, f := range t.fills {
			fmt.Fprintf(&b, "- %s\n", FormatTrade(f))
		}
	case t.intent.noTrade && t.market != nil && t.analysis != nil:
		ideas := t.ideas()
		if len(ideas) == 0 {
			b.WriteString("\nNo trades recommended: nothing meets the trend rules.\n")
		} else {
			b.WriteString("\nRecommendations (not executed, as you asked):\n")
			for _, idea := range ideas {
				fmt.Fprintf(&b, "- %s\n", idea)
			}
		}
	default:
		b.WriteString("\nNo trades: nothing met the trend and risk rules.\n")
	}

	var rejected []string
	for _, d := range t.risk {
		if !d.Approved {
			rejected = append(rejected, fmt.Sprintf("- %s: %s", d.TradeIdea, strings.Join(d.Reasons, "; ")))
		}
	}
	if len(rejected) > 0 {
		b.WriteString("\nRejected by the risk check:\n" + strings.Join(rejected, "\n") + "\n")
	}
	t.writeProblems(&b)
	return final(strings.TrimRight(b.String(), "\n"))
}

func (t *transcript) writeProblems(b *strings.Builder) {
	if len(t.problems) == 0 {
		return
	}
	b.WriteString("\nProblems:\n")
	for _, p := range t.problems {
		fmt.Fprintf(b, "- %s\n", p)
	}
}

func final(s string) CompletionResponse {
	return CompletionResponse{Message: Message{Role: RoleAssistant, Content: s}, FinishReason: FinishStop}
}

func trend(m float64) string {
	switch {
	case m >= signalThreshold:
		return "rising"
	case m <= -signalThreshold:
		return "falling"
	}
	return "flat"
}

// intent is what the planner reads from the prompt.
type intent struct {
	tickers []string
	noTrade bool
	sizing  float64 // share of equity per buy
}

var noTradePhrases = []string{
	"analysis only", "analyze only", "analyse only", "do not trade", "don't trade",
	"dont trade", "no trades", "without trading", "dry run", "dry-run",
}

// notTickers are upper-case words that are not symbols.
var notTickers = map[string]bool{
	"A": true, "I": true, "AI": true, "OK": true, "USD": true, "ETF": true, "CEO": true,
	"IPO": true, "API": true, "PNL": true, "ID": true, "TODO": true, "NOT": true,
	"DO": true, "NO": true, "AND": true, "OR": true, "THE": true, "BUY": true, "SELL": true,
}

func readIntent(prompt string) intent {
	in := intent{sizing: 0.10}
	lower := strings.ToLower(prompt)
	for _, p := range noTradePhrases {
		if strings.Contains(lower, p) {
			in.noTrade = true
		}
	}
	switch {
	case strings.Contains(lower, "conservative") || strings.Contains(lower, "cautious"):
		in.sizing = 0.05
	case strings.Contains(lower, "aggressive"):
		in.sizing = 0.15
	}

	words := strings.FieldsFunc(prompt, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '$' && r != '-' && r != '_'
	})
	for _, w := range words {
		w = strings.TrimPrefix(w, "$")
		if validSymbol(w) && !notTickers[w] {
			in.tickers = append(in.tickers, w)
		}
	}
	slices.Sort(in.tickers)
	in.tickers = slices.Compact(in.tickers)
	return in
}
