package agent

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
)

// ErrUnknownSymbol is returned for a symbol the market does not list.
var ErrUnknownSymbol = errors.New("agent: unknown symbol")

// DefaultMarketSeed is the seed of the demo's market.
const DefaultMarketSeed = 7

// historyDays is how many daily closes the simulation generates per symbol;
// quotes show the last quoteDays of them.
const (
	historyDays = 60
	quoteDays   = 20
)

// listing is a simulated stock: its name, starting price and daily
// volatility.
type listing struct {
	name  string
	price float64
	vol   float64
}

var listings = map[string]listing{
	"AAPL":  {"Apple", 190, 0.014},
	"AMZN":  {"Amazon", 180, 0.018},
	"GOOGL": {"Alphabet", 170, 0.016},
	"JPM":   {"JPMorgan Chase", 200, 0.012},
	"MSFT":  {"Microsoft", 410, 0.013},
	"NVDA":  {"NVIDIA", 120, 0.028},
	"SPY":   {"S&P 500 ETF", 520, 0.008},
	"TSLA":  {"Tesla", 240, 0.032},
	"XOM":   {"Exxon Mobil", 110, 0.015},
}

// Quote is a symbol's simulated market data. Prices are dollars rounded to
// cents; Momentum is SMA5/SMA20 − 1; Volatility is the standard deviation
// of the last 20 daily returns.
type Quote struct {
	Symbol     string    `json:"symbol"`
	Name       string    `json:"name"`
	Price      float64   `json:"price"`
	PrevClose  float64   `json:"prev_close"`
	ChangePct  float64   `json:"change_pct"`
	SMA5       float64   `json:"sma5"`
	SMA20      float64   `json:"sma20"`
	Momentum   float64   `json:"momentum"`
	Volatility float64   `json:"volatility"`
	Closes     []float64 `json:"closes"`
}

// MarketFeed is a source of quotes: the simulated [Market] by default, or an
// adapter to a real market-data service. The activities call it; the
// workflow only ever sees the quotes it returned, recorded in history, so a
// feed may be as nondeterministic as real markets are.
//
// LatestQuote returns an error wrapping [ErrUnknownSymbol] for a symbol the
// feed does not list; any other error is treated as transient and retried
// by Temporal. It must be safe for concurrent use, and it must not return
// more than the 20 closes a [Quote] is documented to hold, to keep tool
// results small.
type MarketFeed interface {
	LatestQuote(ctx context.Context, symbol string) (Quote, error)
}

var _ MarketFeed = (*Market)(nil)

// Market is a deterministic simulated market: every symbol follows a random
// walk drawn from the seed, so one seed always gives the same prices. It is
// immutable and safe for concurrent use.
type Market struct {
	seed   int64
	quotes map[string]Quote
}

// NewMarket returns the market for seed. Each seed gives its own mix of
// rising and falling stocks.
func NewMarket(seed int64) *Market {
	m := &Market{seed: seed, quotes: make(map[string]Quote, len(listings))}
	for sym, l := range listings {
		m.quotes[sym] = simulate(seed, sym, l)
	}
	return m
}

// Seed returns the seed the market was made with.
func (m *Market) Seed() int64 { return m.seed }

// Symbols returns the listed symbols in sorted order.
func (m *Market) Symbols() []string {
	syms := make([]string, 0, len(m.quotes))
	for s := range m.quotes {
		syms = append(syms, s)
	}
	slices.Sort(syms)
	return syms
}

// Quote returns the quote for symbol, or an error wrapping
// [ErrUnknownSymbol]. The returned Closes slice is the caller's.
func (m *Market) Quote(symbol string) (Quote, error) {
	q, ok := m.quotes[symbol]
	if !ok {
		return Quote{}, fmt.Errorf("%w %q", ErrUnknownSymbol, symbol)
	}
	q.Closes = slices.Clone(q.Closes)
	return q, nil
}

// LatestQuote implements [MarketFeed]: it is [Market.Quote], ignoring ctx.
func (m *Market) LatestQuote(_ context.Context, symbol string) (Quote, error) {
	return m.Quote(symbol)
}

// Price returns the last price of symbol.
func (m *Market) Price(symbol string) (float64, error) {
	q, ok := m.quotes[symbol]
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrUnknownSymbol, symbol)
	}
	return q.Price, nil
}

func simulate(seed int64, symbol string, l listing) Quote {
	h := fnv.New64a()
	h.Write([]byte(symbol))
	rng := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))

	// A trend that changes once, two thirds of the way in, so recent
	// momentum differs from the long-run drift.
	drift1 := rng.NormFloat64() * l.vol / 10
	drift2 := rng.NormFloat64() * l.vol / 5
	closes := make([]float64, historyDays)
	price := l.price
	for i := range closes {
		drift := drift1
		if i >= historyDays*2/3 {
			drift = drift2
		}
		price *= math.Exp(drift + l.vol*rng.NormFloat64())
		closes[i] = cents(price)
	}

	recent := closes[historyDays-quoteDays:]
	sma5, sma20 := mean(recent[quoteDays-5:]), mean(recent)
	last, prev := recent[quoteDays-1], recent[quoteDays-2]
	returns := make([]float64, 0, quoteDays-1)
	for i := 1; i < quoteDays; i++ {
		returns = append(returns, recent[i]/recent[i-1]-1)
	}
	return Quote{
		Symbol:     symbol,
		Name:       l.name,
		Price:      last,
		PrevClose:  prev,
		ChangePct:  round4((last/prev - 1) * 100),
		SMA5:       cents(sma5),
		SMA20:      cents(sma20),
		Momentum:   round4(sma5/sma20 - 1),
		Volatility: round4(stddev(returns)),
		Closes:     slices.Clone(recent),
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func stddev(xs []float64) float64 {
	m := mean(xs)
	var s float64
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)))
}
