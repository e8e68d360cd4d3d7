package agent

import (
	"errors"
	"fmt"
	"sync"
)

// Errors of the [PaperBroker].
var (
	// ErrOrderConflict is returned when an order reuses the ID of an earlier
	// order with different contents. It is not worth retrying.
	ErrOrderConflict = errors.New("agent: order ID reused with different contents")

	// ErrAckLost is the simulated transient failure of
	// [PaperBrokerOptions.LoseFirstAck]: the order was filled, the answer
	// was lost. A retry returns the fill.
	ErrAckLost = errors.New("agent: broker acknowledgement lost")
)

// PaperBrokerOptions configure a [PaperBroker].
type PaperBrokerOptions struct {
	// LoseFirstAck makes the first attempt of every order fill it and then
	// fail with ErrAckLost, the way a timed-out connection to a real broker
	// would. It shows that retries do not trade twice. Default false.
	LoseFirstAck bool
}

// PaperBroker fills orders at the [Market]'s last price and remembers every
// fill by order ID, so a repeated order returns its first fill instead of
// trading again. It does not check buying power: the workflow and check_risk
// do. It is safe for concurrent use.
type PaperBroker struct {
	market *Market
	opts   PaperBrokerOptions

	mu       sync.Mutex
	fills    map[string]Fill
	order    []string // order IDs in fill order
	attempts int
}

// NewPaperBroker returns an empty broker that prices orders from market.
func NewPaperBroker(market *Market, opts PaperBrokerOptions) (*PaperBroker, error) {
	if market == nil {
		return nil, errors.New("agent: paper broker needs a market")
	}
	return &PaperBroker{market: market, opts: opts, fills: make(map[string]Fill)}, nil
}

// Execute fills o, or returns the fill of an earlier order with the same ID
// and contents. An invalid order, an unknown symbol or an ID reused for a
// different order is an error, and nothing is filled.
func (b *PaperBroker) Execute(o Order) (Fill, error) {
	if o.ID == "" || len(o.ID) > 128 {
		return Fill{}, errors.New("agent: order ID must be 1-128 bytes")
	}
	if o.AccountID == "" {
		return Fill{}, errors.New("agent: order has no account ID")
	}
	idea := TradeIdea{Symbol: o.Symbol, Side: o.Side, Quantity: o.Quantity}
	if err := idea.validate(); err != nil {
		return Fill{}, err
	}
	price, err := b.market.Price(o.Symbol)
	if err != nil {
		return Fill{}, err
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	b.attempts++
	if f, ok := b.fills[o.ID]; ok {
		if f.AccountID != o.AccountID || f.Symbol != o.Symbol || f.Side != o.Side ||
			f.Quantity != o.Quantity {
			return Fill{}, fmt.Errorf("%w: %s", ErrOrderConflict, o.ID)
		}
		return f, nil
	}
	f := Fill{
		OrderID:   o.ID,
		AccountID: o.AccountID,
		Symbol:    o.Symbol,
		Side:      o.Side,
		Quantity:  o.Quantity,
		Price:     price,
		Notional:  cents(price * float64(o.Quantity)),
	}
	b.fills[o.ID] = f
	b.order = append(b.order, o.ID)
	if b.opts.LoseFirstAck {
		return Fill{}, fmt.Errorf("%w after filling order %s (simulated)", ErrAckLost, o.ID)
	}
	return f, nil
}

// Fills returns every fill in the order it happened.
func (b *PaperBroker) Fills() []Fill {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Fill, 0, len(b.order))
	for _, id := range b.order {
		out = append(out, b.fills[id])
	}
	return out
}

// Attempts returns how many times Execute reached the ledger, retries
// included.
func (b *PaperBroker) Attempts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.attempts
}
