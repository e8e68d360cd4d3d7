package agent

import (
	"fmt"
	"math"
)

// RiskLimits are the rules check_risk applies to a proposed order.
type RiskLimits struct {
	// MaxOrderNotional caps the dollar value of one order. Default 25,000;
	// range 0 to MaxCash.
	MaxOrderNotional float64 `json:"max_order_notional"`

	// MaxPositionWeight caps one symbol's share of equity after a buy.
	// Default 0.30; range 0 to 1.
	MaxPositionWeight float64 `json:"max_position_weight"`

	// MinCashWeight is the share of equity a buy must leave in cash.
	// Default 0.05; range 0 to 1.
	MinCashWeight float64 `json:"min_cash_weight"`

	// ApprovalNotional is the order value above which a trade waits for a
	// person's decision, delivered as the [UpdateDecideTrade] update,
	// before it is sent to the broker. Default 10,000; range 0 to MaxCash.
	// Set it to MaxOrderNotional or above to never ask.
	ApprovalNotional float64 `json:"approval_notional"`
}

// DefaultRiskLimits are the limits used for zero fields of
// [Request.Limits].
var DefaultRiskLimits = RiskLimits{
	MaxOrderNotional:  25_000,
	MaxPositionWeight: 0.30,
	MinCashWeight:     0.05,
	ApprovalNotional:  10_000,
}

func (l RiskLimits) validate() error {
	if !finite(l.MaxOrderNotional) || l.MaxOrderNotional < 0 || l.MaxOrderNotional > MaxCash {
		return fmt.Errorf("agent: max order notional out of range 0..%g", MaxCash)
	}
	if !finite(l.MaxPositionWeight) || l.MaxPositionWeight < 0 || l.MaxPositionWeight > 1 {
		return fmt.Errorf("agent: max position weight %g out of range 0..1", l.MaxPositionWeight)
	}
	if !finite(l.MinCashWeight) || l.MinCashWeight < 0 || l.MinCashWeight > 1 {
		return fmt.Errorf("agent: min cash weight %g out of range 0..1", l.MinCashWeight)
	}
	if !finite(l.ApprovalNotional) || l.ApprovalNotional < 0 || l.ApprovalNotional > MaxCash {
		return fmt.Errorf("agent: approval notional out of range 0..%g", MaxCash)
	}
	return nil
}

// withDefaults returns l with zero fields replaced by DefaultRiskLimits.
func (l RiskLimits) withDefaults() RiskLimits {
	if l.MaxOrderNotional == 0 {
		l.MaxOrderNotional = DefaultRiskLimits.MaxOrderNotional
	}
	if l.MaxPositionWeight == 0 {
		l.MaxPositionWeight = DefaultRiskLimits.MaxPositionWeight
	}
	if l.MinCashWeight == 0 {
		l.MinCashWeight = DefaultRiskLimits.MinCashWeight
	}
	if l.ApprovalNotional == 0 {
		l.ApprovalNotional = DefaultRiskLimits.ApprovalNotional
	}
	return l
}

// TradeIdea is an order a model proposes, before it has an ID.
type TradeIdea struct {
	Symbol   string `json:"symbol"`
	Side     Side   `json:"side"`
	Quantity int64  `json:"quantity"`
}

func (t TradeIdea) validate() error {
	if !validSymbol(t.Symbol) {
		return fmt.Errorf("agent: symbol %q is not 1-5 upper-case letters", t.Symbol)
	}
	if t.Side != Buy && t.Side != Sell {
		return fmt.Errorf("agent: side %q is not buy or sell", t.Side)
	}
	if t.Quantity <= 0 || t.Quantity > MaxQuantity {
		return fmt.Errorf("agent: quantity %d out of range 1..%d", t.Quantity, MaxQuantity)
	}
	return nil
}

func (t TradeIdea) String() string {
	return fmt.Sprintf("%s %d %s", t.Side, t.Quantity, t.Symbol)
}

// RiskDecision is the answer of check_risk.
type RiskDecision struct {
	TradeIdea
	Price    float64  `json:"price"`
	Notional float64  `json:"notional"`
	Approved bool     `json:"approved"`
	Reasons  []string `json:"reasons,omitempty"`

	// WeightAfter is the symbol's share of equity if the order fills.
	WeightAfter float64 `json:"weight_after"`

	// NeedsApproval says that the order's notional is above
	// [RiskLimits.ApprovalNotional]: execute_trade will wait for a person
	// to approve it.
	NeedsApproval bool `json:"needs_approval,omitempty"`
}

// EvaluateRisk applies limits to idea for acct. prices holds the market
// price of idea.Symbol and, where known, of the symbols acct holds; a held
// symbol without a price is valued at its average cost. EvaluateRisk is a
// pure function: check_risk calls it with prices from the [Market].
func EvaluateRisk(acct Account, idea TradeIdea, prices map[string]float64, limits RiskLimits) RiskDecision {
	price := prices[idea.Symbol]
	d := RiskDecision{TradeIdea: idea, Price: cents(price), Notional: cents(price * float64(idea.Quantity))}
	if err := idea.validate(); err != nil {
		d.Reasons = append(d.Reasons, err.Error())
		return d
	}
	if !finite(price) || price <= 0 {
		d.Reasons = append(d.Reasons, "no valid price")
		return d
	}

	equity := acct.Cash
	for _, p := range acct.Positions {
		px, ok := prices[p.Symbol]
		if !ok || !finite(px) || px <= 0 {
			px = p.AvgCost
		}
		equity += px * float64(p.Quantity)
	}
	held := acct.held(idea.Symbol)
	after := held
	if idea.Side == Buy {
		after += idea.Quantity
	} else {
		after -= idea.Quantity
	}
	if equity > 0 {
		d.WeightAfter = round4(price * float64(after) / equity)
	}

	if d.Notional > limits.MaxOrderNotional {
		d.Reasons = append(d.Reasons, fmt.Sprintf("order notional %.2f exceeds limit %.2f",
			d.Notional, limits.MaxOrderNotional))
	}
	switch idea.Side {
	case Buy:
		if d.Notional > acct.Cash {
			d.Reasons = append(d.Reasons, fmt.Sprintf("notional %.2f exceeds cash %.2f",
				d.Notional, acct.Cash))
		}
		if cashAfter := acct.Cash - d.Notional; equity > 0 && cashAfter/equity < limits.MinCashWeight {
			d.Reasons = append(d.Reasons, fmt.Sprintf("cash would fall below %.0f%% of equity",
				limits.MinCashWeight*100))
		}
		if d.WeightAfter > limits.MaxPositionWeight {
			d.Reasons = append(d.Reasons, fmt.Sprintf("position would be %.1f%% of equity, limit %.0f%%",
				d.WeightAfter*100, limits.MaxPositionWeight*100))
		}
	case Sell:
		if idea.Quantity > held {
			d.Reasons = append(d.Reasons, fmt.Sprintf("sells %d but holds %d", idea.Quantity, held))
		}
	}
	d.Approved = len(d.Reasons) == 0
	d.NeedsApproval = d.Approved && d.Notional > limits.ApprovalNotional
	return d
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }
