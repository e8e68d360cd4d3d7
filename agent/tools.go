package agent

import (
	"encoding/json"
	"math"
	"slices"
)

// Tool names, as the model sees them.
const (
	ToolTraderInfo   = "get_trader_info"
	ToolMarketData   = "get_market_data"
	ToolAnalyze      = "analyze_portfolio"
	ToolCheckRisk    = "check_risk"
	ToolExecuteTrade = "execute_trade"
)

// MaxSymbols caps the symbols of one get_market_data call.
const MaxSymbols = 20

// Tools returns the specs of the agent's tools, in a fixed order.
func Tools() []ToolSpec {
	return []ToolSpec{
		{
			Name:        ToolTraderInfo,
			Description: "Account of the trader this run works for: owner, cash, positions and risk limits.",
			Parameters:  json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`),
		},
		{
			Name:        ToolMarketData,
			Description: "Latest quotes, 20-day closes and trend signals for up to 20 symbols.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"symbols":{"type":"array",` +
				`"items":{"type":"string"},"maxItems":20}},"required":["symbols"],"additionalProperties":false}`),
		},
		{
			Name:        ToolAnalyze,
			Description: "Marks the account's positions to market: value, weight and unrealized P&L of each, and equity.",
			Parameters:  json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`),
		},
		{
			Name:        ToolCheckRisk,
			Description: "Checks a proposed order against the account's risk limits. Every trade needs an approval first.",
			Parameters:  tradeParams,
		},
		{
			Name:        ToolExecuteTrade,
			Description: "Executes an order that check_risk approved with the same symbol, side and quantity.",
			Parameters:  tradeParams,
		},
	}
}

var tradeParams = json.RawMessage(`{"type":"object","properties":{` +
	`"symbol":{"type":"string"},"side":{"type":"string","enum":["buy","sell"]},` +
	`"quantity":{"type":"integer","minimum":1}},` +
	`"required":["symbol","side","quantity"],"additionalProperties":false}`)

// MarketDataArgs are the arguments of get_market_data.
type MarketDataArgs struct {
	Symbols []string `json:"symbols"`
}

// TraderInfoInput is the input of [Activities.GetTraderInfo].
type TraderInfoInput struct {
	Account Account    `json:"account"`
	Limits  RiskLimits `json:"limits"`
}

// TraderInfo is the result of get_trader_info.
type TraderInfo struct {
	Account     Account    `json:"account"`
	Limits      RiskLimits `json:"limits"`
	BuyingPower float64    `json:"buying_power"`
}

// MarketData is the result of get_market_data. Unknown lists the requested
// symbols the market does not list.
type MarketData struct {
	Quotes  []Quote  `json:"quotes"`
	Unknown []string `json:"unknown,omitempty"`
}

// AnalysisInput is the input of [Activities.AnalyzePortfolio].
type AnalysisInput struct {
	Account Account `json:"account"`
}

// Holding is one position marked to market.
type Holding struct {
	Symbol        string  `json:"symbol"`
	Quantity      int64   `json:"quantity"`
	AvgCost       float64 `json:"avg_cost"`
	Price         float64 `json:"price"`
	MarketValue   float64 `json:"market_value"`
	Weight        float64 `json:"weight"`
	UnrealizedPnL float64 `json:"unrealized_pnl"`
}

// PortfolioAnalysis is the result of analyze_portfolio. Weights are shares
// of Equity, from 0 to 1.
type PortfolioAnalysis struct {
	AccountID     string    `json:"account_id"`
	Cash          float64   `json:"cash"`
	MarketValue   float64   `json:"market_value"`
	Equity        float64   `json:"equity"`
	CashWeight    float64   `json:"cash_weight"`
	UnrealizedPnL float64   `json:"unrealized_pnl"`
	Holdings      []Holding `json:"holdings"`
	Largest       string    `json:"largest,omitempty"`
	LargestWeight float64   `json:"largest_weight"`
}

// RiskInput is the input of [Activities.CheckRisk].
type RiskInput struct {
	Account Account    `json:"account"`
	Idea    TradeIdea  `json:"idea"`
	Limits  RiskLimits `json:"limits"`
}

// Analyze marks acct to market with prices; a symbol without a price is
// valued at its average cost. It is a pure function.
func Analyze(acct Account, prices map[string]float64) PortfolioAnalysis {
	a := PortfolioAnalysis{AccountID: acct.ID, Cash: acct.Cash}
	for _, p := range acct.Positions {
		px, ok := prices[p.Symbol]
		if !ok {
			px = p.AvgCost
		}
		h := Holding{
			Symbol:        p.Symbol,
			Quantity:      p.Quantity,
			AvgCost:       p.AvgCost,
			Price:         px,
			MarketValue:   cents(px * float64(p.Quantity)),
			UnrealizedPnL: cents((px - p.AvgCost) * float64(p.Quantity)),
		}
		a.MarketValue += h.MarketValue
		a.UnrealizedPnL += h.UnrealizedPnL
		a.Holdings = append(a.Holdings, h)
	}
	a.MarketValue = cents(a.MarketValue)
	a.UnrealizedPnL = cents(a.UnrealizedPnL)
	a.Equity = cents(a.Cash + a.MarketValue)
	if a.Equity > 0 {
		a.CashWeight = round4(a.Cash / a.Equity)
		for i := range a.Holdings {
			a.Holdings[i].Weight = round4(a.Holdings[i].MarketValue / a.Equity)
		}
	}
	slices.SortStableFunc(a.Holdings, func(x, y Holding) int {
		return -cmpFloat(x.MarketValue, y.MarketValue)
	})
	if len(a.Holdings) > 0 {
		a.Largest, a.LargestWeight = a.Holdings[0].Symbol, a.Holdings[0].Weight
	}
	return a
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// money formats dollars with thousands separators: $12,345.67.
func money(f float64) string {
	neg := f < 0
	c := int64(math.Round(math.Abs(f) * 100))
	whole, frac := c/100, c%100
	digits := []byte{}
	for i, d := 0, whole; ; i++ {
		if i > 0 && i%3 == 0 {
			digits = append(digits, ',')
		}
		digits = append(digits, byte('0'+d%10))
		d /= 10
		if d == 0 {
			break
		}
	}
	slices.Reverse(digits)
	s := "$" + string(digits) + "." + string([]byte{byte('0' + frac/10), byte('0' + frac%10)})
	if neg {
		return "-" + s
	}
	return s
}
