package agent

import (
	"fmt"
	"strconv"
	"strings"
)

// ParsePositions parses positions written as "AAPL:40@175.50,MSFT:15@380":
// symbol, quantity and, after @, the average cost in dollars (default 0).
// An empty string is no positions.
func ParsePositions(s string) ([]Position, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []Position
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		sym, rest, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("agent: position %d: %q is not SYMBOL:QTY[@COST]", i+1, item)
		}
		qtyText, costText, hasCost := strings.Cut(rest, "@")
		qty, err := strconv.ParseInt(strings.TrimSpace(qtyText), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("agent: position %d: quantity %q is not a whole number", i+1, qtyText)
		}
		p := Position{Symbol: strings.ToUpper(strings.TrimSpace(sym)), Quantity: qty}
		if hasCost {
			p.AvgCost, err = strconv.ParseFloat(strings.TrimSpace(costText), 64)
			if err != nil || !finite(p.AvgCost) {
				return nil, fmt.Errorf("agent: position %d: cost %q is not a number", i+1, costText)
			}
		}
		out = append(out, p)
	}
	acct := Account{ID: "x", Positions: out}
	if err := acct.validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// FormatTrade writes a fill on one line: "SELL 20 AAPL at $161.82
// ($3,236.40), order ord-…".
func FormatTrade(f Fill) string {
	return fmt.Sprintf("%s %d %s at %s (%s), order %s", strings.ToUpper(string(f.Side)),
		f.Quantity, f.Symbol, money(f.Price), money(f.Notional), f.OrderID)
}
