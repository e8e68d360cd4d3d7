package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
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
	f1, err := b.Execute(context.Background(), o)
	if err != nil {
		t.Fatalf("Execute = %v", err)
	}
	f2, err := b.Execute(context.Background(), o)
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
	if _, err := b.Execute(context.Background(), o); !errors.Is(err, ErrOrderConflict) {
		t.Errorf("Execute(same ID, new quantity) = %v, want ErrOrderConflict", err)
	}
}

func TestBrokerLostAck(t *testing.T) {
	b := newBroker(t, PaperBrokerOptions{LoseFirstAck: true})
	o := Order{ID: "ord-2", AccountID: "ACCT-1", Symbol: "AAPL", Side: Sell, Quantity: 1}
	if _, err := b.Execute(context.Background(), o); !errors.Is(err, ErrAckLost) {
		t.Fatalf("first Execute = %v, want ErrAckLost", err)
	}
	f, err := b.Execute(context.Background(), o)
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
			if f, err := b.Execute(context.Background(), o); err == nil {
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

func TestBrokerLedgerSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	var hooked []Fill
	b := newBroker(t, PaperBrokerOptions{LedgerPath: path, AfterFill: func(f Fill) { hooked = append(hooked, f) }})
	o := Order{ID: "ord-L1", AccountID: "ACCT-1", Symbol: "NVDA", Side: Buy, Quantity: 2}
	f1, err := b.Execute(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Execute(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if len(hooked) != 1 || hooked[0] != f1 {
		t.Errorf("AfterFill saw %+v, want the one fill", hooked)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// A crash in the middle of the next write leaves half a line.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"order_id":"ord-L2","acc`)
	f.Close()

	b2 := newBroker(t, PaperBrokerOptions{LedgerPath: path})
	defer b2.Close()
	if fills := b2.Fills(); len(fills) != 1 || fills[0] != f1 {
		t.Fatalf("restarted broker has %+v, want the first fill only", fills)
	}
	again, err := b2.Execute(context.Background(), o)
	if err != nil || again != f1 {
		t.Errorf("the same order after a restart = %+v, %v; want the first fill", again, err)
	}
	o2 := Order{ID: "ord-L2", AccountID: "ACCT-1", Symbol: "AAPL", Side: Buy, Quantity: 1}
	if _, err := b2.Execute(context.Background(), o2); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 2 || strings.Contains(string(data), `"acc{`) {
		t.Errorf("ledger after the restart:\n%s\nwant two whole lines", data)
	}
}

func TestBrokerBadLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	if err := os.WriteFile(path, []byte("not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPaperBroker(NewMarket(1), PaperBrokerOptions{LedgerPath: path}); err == nil ||
		!strings.Contains(err.Error(), "line 1") {
		t.Errorf("NewPaperBroker with a corrupt ledger = %v, want an error naming line 1", err)
	}
}

// failingFeed fails every quote, as a real feed can.
type failingFeed struct{}

func (failingFeed) LatestQuote(context.Context, string) (Quote, error) {
	return Quote{}, errors.New("feed down")
}

func TestBrokerFeedFailureIsRetryable(t *testing.T) {
	b, err := NewPaperBroker(failingFeed{}, PaperBrokerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewActivities(RulePlanner{}, failingFeed{}, b)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.ExecuteTrade(context.Background(), Order{ID: "o", AccountID: "A", Symbol: "NVDA", Side: Buy, Quantity: 1})
	var app *temporal.ApplicationError
	if err == nil || errors.As(err, &app) {
		t.Errorf("ExecuteTrade with the feed down = %v, want a plain (retryable) error", err)
	}
}
