package agent

import (
	"strings"
	"testing"
)

func TestEvaluateRisk(t *testing.T) {
	acct := Account{ID: "ACCT-1", Cash: 10_000, Positions: []Position{{Symbol: "AAPL", Quantity: 50, AvgCost: 100}}}
	prices := map[string]float64{"AAPL": 100, "NVDA": 50}
	// Equity is 10,000 cash + 5,000 AAPL = 15,000.
	tests := []struct {
		name   string
		idea   TradeIdea
		prices map[string]float64
		ok     bool
		reason string
	}{
		{"small buy", TradeIdea{"NVDA", Buy, 20}, prices, true, ""},
		{"over cash", TradeIdea{"NVDA", Buy, 300}, prices, false, "exceeds cash"},
		{"over weight", TradeIdea{"NVDA", Buy, 100}, prices, false, "of equity, limit 30%"},
		{"cash reserve", TradeIdea{"NVDA", Buy, 195}, prices, false, "cash would fall below"},
		{"sell held", TradeIdea{"AAPL", Sell, 50}, prices, true, ""},
		{"sell more than held", TradeIdea{"AAPL", Sell, 51}, prices, false, "holds 50"},
		{"sell not held", TradeIdea{"NVDA", Sell, 1}, prices, false, "holds 0"},
		{"no price", TradeIdea{"MSFT", Buy, 1}, prices, false, "no valid price"},
		{"bad idea", TradeIdea{"NVDA", "hold", 1}, prices, false, "not buy or sell"},
		{"order notional", TradeIdea{"AAPL", Sell, 50}, map[string]float64{"AAPL": 600}, false, "order notional"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := EvaluateRisk(acct, tt.idea, tt.prices, DefaultRiskLimits)
			if d.Approved != tt.ok {
				t.Fatalf("EvaluateRisk(%s) approved = %v (%v), want %v", tt.idea, d.Approved, d.Reasons, tt.ok)
			}
			if !tt.ok && !strings.Contains(strings.Join(d.Reasons, "; "), tt.reason) {
				t.Errorf("EvaluateRisk(%s) reasons %q, want one containing %q", tt.idea, d.Reasons, tt.reason)
			}
		})
	}
}

func TestRequestValidate(t *testing.T) {
	good := Request{Prompt: "buy NVDA", Account: Account{ID: "ACCT-1", Cash: 100,
		Positions: []Position{{Symbol: "AAPL", Quantity: 1, AvgCost: 1}}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	tests := []struct {
		name   string
		change func(*Request)
	}{
		{"empty prompt", func(r *Request) { r.Prompt = "  " }},
		{"huge prompt", func(r *Request) { r.Prompt = strings.Repeat("x", MaxPromptBytes+1) }},
		{"no account", func(r *Request) { r.Account.ID = "" }},
		{"negative cash", func(r *Request) { r.Account.Cash = -1 }},
		{"bad symbol", func(r *Request) { r.Account.Positions[0].Symbol = "aapl" }},
		{"zero quantity", func(r *Request) { r.Account.Positions[0].Quantity = 0 }},
		{"duplicate symbol", func(r *Request) {
			r.Account.Positions = append(r.Account.Positions, r.Account.Positions[0])
		}},
		{"weight over 1", func(r *Request) { r.Limits.MaxPositionWeight = 1.5 }},
		{"steps", func(r *Request) { r.MaxSteps = MaxSteps + 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			r.Account.Positions = append([]Position(nil), good.Account.Positions...)
			tt.change(&r)
			if err := r.Validate(); err == nil {
				t.Errorf("Validate() = nil, want an error")
			}
		})
	}
}

func TestAccountApply(t *testing.T) {
	a := Account{ID: "A", Cash: 1000, Positions: []Position{{Symbol: "AAPL", Quantity: 10, AvgCost: 10}}}
	a.apply(Fill{Symbol: "AAPL", Side: Buy, Quantity: 10, Price: 20, Notional: 200})
	if a.Cash != 800 || a.held("AAPL") != 20 || a.Positions[0].AvgCost != 15 {
		t.Fatalf("after buy: %+v, want cash 800, 20 AAPL at 15", a)
	}
	a.apply(Fill{Symbol: "AAPL", Side: Sell, Quantity: 20, Price: 5, Notional: 100})
	if a.Cash != 900 || len(a.Positions) != 0 {
		t.Fatalf("after selling all: %+v, want cash 900 and no positions", a)
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "$0.00"}, {1.5, "$1.50"}, {999.999, "$1,000.00"}, {1234567.891, "$1,234,567.89"}, {-42.1, "-$42.10"},
	}
	for _, tt := range tests {
		if got := money(tt.in); got != tt.want {
			t.Errorf("money(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
