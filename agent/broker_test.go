package agent

import (
	"errors"
	"testing"
)

func newBroker(t *testing.T, opts PaperBrokerOptions) *PaperBroker {
	t.Helper()
	b, err := NewPaperBroker(NewMarket(DefaultMarketSeed), opts)
	if err != nil {
		t.Fatalf("NewPaperBroker: %v", err)
	}
	return b
}

func TestBrokerIsIdempotent(t *testing.T) {
	b := newBroker(t, PaperBrokerOptions{})
	o := Order{ID: "ord-1", AccountID: "ACCT-1", Symbol: "NVDA", Side: Buy, Quantity: 3}
	f1, err := b.Execute(o)
	if err != nil {
		t.Fatalf("Execute = %v", err)
	}
	f2, err := b.Execute(o)
	if err != nil {
		t.Fatalf("second Execute = %v", err)
	}
	if f1 != f2 {
		t.Errorf("second Execute = %+v, want the first fill %+v", f2, f1)
	}
	if n := len(b.Fills()); n != 1 {
		t.Errorf("%d fills after the same order twice, want 1", n)
	}
	price, _ := NewMarket(DefaultMarketSeed).Price("NVDA")
	if f1.Price != price || f1.Notional != cents(3*price) {
		t.Errorf("fill price %v notional %v, want %v and %v", f1.Price, f1.Notional, price, cents(3*price))
	}

	o.Quantity = 4
	if _, err := b.Execute(o); !errors.Is(err, ErrOrderConflict) {
		t.Errorf("Execute(same ID, new quantity) = %v, want ErrOrderConflict", err)
	}
}

func TestBrokerLostAck(t *testing.T) {
	b := newBroker(t, PaperBrokerOptions{LoseFirstAck: true})
	o := Order{ID: "ord-2", AccountID: "ACCT-1", Symbol: "AAPL", Side: Sell, Quantity: 1}
	if _, err := b.Execute(o); !errors.Is(err, ErrAckLost) {
		t.Fatalf("first Execute = %v, want ErrAckLost", err)
	}
	f, err := b.Execute(o)
	if err != nil || f.OrderID != o.ID {
		t.Fatalf("retry = %+v, %v; want the fill of %s", f, err, o.ID)
	}
	if n, a := len(b.Fills()), b.Attempts(); n != 1 || a != 2 {
		t.Errorf("%d fills in %d attempts, want 1 in 2", n, a)
	}
}

func TestBrokerRejectsBadOrders(t *testing.T) {
	b := newBroker(t, PaperBrokerOptions{})
	good := Order{ID: "ord-3", AccountID: "ACCT-1", Symbol: "MSFT", Side: Buy, Quantity: 1}
	tests := []struct {
		name   string
		change func(*Order)
	}{
		{"no ID", func(o *Order) { o.ID = "" }},
		{"no account", func(o *Order) { o.AccountID = "" }},
		{"zero quantity", func(o *Order) { o.Quantity = 0 }},
		{"negative quantity", func(o *Order) { o.Quantity = -5 }},
		{"huge quantity", func(o *Order) { o.Quantity = MaxQuantity + 1 }},
		{"bad side", func(o *Order) { o.Side = "short" }},
		{"lower-case symbol", func(o *Order) { o.Symbol = "msft" }},
		{"unknown symbol", func(o *Order) { o.Symbol = "ZZZZ" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.change(&o)
			if f, err := b.Execute(o); err == nil {
				t.Errorf("Execute(%+v) = %+v, want an error", o, f)
			}
		})
	}
	if n := len(b.Fills()); n != 0 {
		t.Errorf("%d fills after only bad orders, want 0", n)
	}
	if _, err := NewPaperBroker(nil, PaperBrokerOptions{}); err == nil {
		t.Error("NewPaperBroker(nil) succeeded, want an error")
	}
}
