package agent

import (
	"errors"
	"slices"
	"testing"
)

func TestMarketIsDeterministic(t *testing.T) {
	a, b := NewMarket(DefaultMarketSeed), NewMarket(DefaultMarketSeed)
	for _, sym := range a.Symbols() {
		qa, err := a.Quote(sym)
		if err != nil {
			t.Fatalf("Quote(%s) = %v", sym, err)
		}
		qb, _ := b.Quote(sym)
		if !slices.Equal(qa.Closes, qb.Closes) || qa.Price != qb.Price || qa.Momentum != qb.Momentum {
			t.Errorf("Quote(%s) differs between two markets with seed %d", sym, DefaultMarketSeed)
		}
		if len(qa.Closes) != quoteDays || qa.Price != qa.Closes[quoteDays-1] || qa.Price <= 0 {
			t.Errorf("Quote(%s): price %v, %d closes; want last close, %d closes",
				sym, qa.Price, len(qa.Closes), quoteDays)
		}
	}
}

func TestMarketSeedsDiffer(t *testing.T) {
	a, b := NewMarket(1), NewMarket(2)
	pa, _ := a.Price("NVDA")
	pb, _ := b.Price("NVDA")
	if pa == pb {
		t.Errorf("NVDA costs %v under seeds 1 and 2, want different prices", pa)
	}
}

func TestMarketUnknownSymbol(t *testing.T) {
	m := NewMarket(1)
	if _, err := m.Quote("ZZZZ"); !errors.Is(err, ErrUnknownSymbol) {
		t.Errorf("Quote(ZZZZ) = %v, want ErrUnknownSymbol", err)
	}
	if _, err := m.Price(""); !errors.Is(err, ErrUnknownSymbol) {
		t.Errorf("Price(\"\") = %v, want ErrUnknownSymbol", err)
	}
}

func TestMarketQuoteIsACopy(t *testing.T) {
	m := NewMarket(1)
	q, _ := m.Quote("AAPL")
	q.Closes[0] = -1
	q2, _ := m.Quote("AAPL")
	if q2.Closes[0] == -1 {
		t.Error("changing a returned quote changed the market")
	}
}
