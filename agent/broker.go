package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
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

// maxLedgerBytes caps the ledger file NewPaperBroker reads: about 300,000
// fills of some 200 bytes each, far more than a paper account needs.
const maxLedgerBytes = 64 << 20

// PaperBrokerOptions configure a [PaperBroker].
type PaperBrokerOptions struct {
	// LoseFirstAck makes the first attempt of every order fill it and then
	// fail with ErrAckLost, the way a timed-out connection to a real broker
	// would. It shows that retries do not trade twice. Default false.
	LoseFirstAck bool

	// LedgerPath, if set, is a file that keeps the fills across restarts:
	// each new fill is appended to it as one line of JSON and synced to
	// disk before Execute returns, and [NewPaperBroker] loads the fills
	// already in it. With a ledger, an order retried by a worker that
	// replaced a crashed one still fills at most once. Only one broker may
	// use a ledger file at a time; nothing locks it. Default: fills are
	// kept in memory only.
	LedgerPath string

	// AfterFill, if set, is called with every new fill once it is
	// recorded (and, with a ledger, on disk), before Execute returns. It
	// is not called for an order that was already filled. It is a hook for
	// tests and metrics: the crash-resume test stops its worker here, at
	// the moment a real broker has traded and the worker has not yet
	// reported it. It must not call the broker.
	AfterFill func(Fill)
}

// PaperBroker fills orders at the feed's last price and remembers every
// fill by order ID, so a repeated order returns its first fill instead of
// trading again. It does not check buying power: the workflow and
// check_risk do. It is safe for concurrent use.
type PaperBroker struct {
	feed MarketFeed
	opts PaperBrokerOptions

	mu       sync.Mutex
	fills    map[string]Fill
	order    []string // order IDs in fill order
	attempts int
	ledger   *os.File
}

// NewPaperBroker returns a broker that prices orders from feed (a [*Market]
// for the simulation). With [PaperBrokerOptions.LedgerPath] set it starts
// with the fills in that file and must be closed with [PaperBroker.Close];
// a ledger line that does not parse is an error.
func NewPaperBroker(feed MarketFeed, opts PaperBrokerOptions) (*PaperBroker, error) {
	if feed == nil {
		return nil, errors.New("agent: paper broker needs a market")
	}
	if m, ok := feed.(*Market); ok && m == nil {
		return nil, errors.New("agent: paper broker needs a market")
	}
	b := &PaperBroker{feed: feed, opts: opts, fills: make(map[string]Fill)}
	if opts.LedgerPath == "" {
		return b, nil
	}
	f, err := os.OpenFile(opts.LedgerPath, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("agent: open ledger: %w", err)
	}
	if err := b.load(f); err != nil {
		f.Close()
		return nil, err
	}
	b.ledger = f
	return b, nil
}

// load reads the fills of a ledger file. A last line without its newline
// is what a crash in the middle of a write leaves: it is cut off, and the
// order it held counts as never filled (its Execute never returned).
func (b *PaperBroker) load(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("agent: ledger: %w", err)
	}
	if st.Size() > maxLedgerBytes {
		return fmt.Errorf("agent: ledger %s is over %d bytes", b.opts.LedgerPath, maxLedgerBytes)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("agent: ledger: %w", err)
	}
	if whole := bytes.LastIndexByte(data, '\n') + 1; whole < len(data) {
		if err := f.Truncate(int64(whole)); err != nil {
			return fmt.Errorf("agent: ledger: %w", err)
		}
		data = data[:whole]
	}
	for n, line := range bytes.Split(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var fill Fill
		if err := json.Unmarshal(line, &fill); err != nil || fill.OrderID == "" {
			return fmt.Errorf("agent: ledger %s: line %d is not a fill", b.opts.LedgerPath, n+1)
		}
		if _, dup := b.fills[fill.OrderID]; !dup {
			b.fills[fill.OrderID] = fill
			b.order = append(b.order, fill.OrderID)
		}
	}
	return nil
}

// Close closes the ledger file, if there is one. The broker must not be
// used afterwards.
func (b *PaperBroker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ledger == nil {
		return nil
	}
	err := b.ledger.Close()
	b.ledger = nil
	return err
}

// Execute fills o, or returns the fill of an earlier order with the same ID
// and contents. An invalid order, an unknown symbol or an ID reused for a
// different order is an error, and nothing is filled. So is a failure of
// the feed or of the ledger; those are worth retrying.
func (b *PaperBroker) Execute(ctx context.Context, o Order) (Fill, error) {
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
	q, err := b.feed.LatestQuote(ctx, o.Symbol)
	if errors.Is(err, ErrUnknownSymbol) {
		return Fill{}, err
	}
	if err != nil {
		return Fill{}, transientError{fmt.Errorf("agent: quote %s: %w", o.Symbol, err)}
	}
	if !finite(q.Price) || q.Price <= 0 {
		return Fill{}, fmt.Errorf("agent: no valid price for %s", o.Symbol)
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
		Price:     q.Price,
		Notional:  cents(q.Price * float64(o.Quantity)),
	}
	if err := b.record(f); err != nil {
		return Fill{}, transientError{err}
	}
	b.fills[o.ID] = f
	b.order = append(b.order, o.ID)
	if b.opts.AfterFill != nil {
		b.opts.AfterFill(f)
	}
	if b.opts.LoseFirstAck {
		return Fill{}, fmt.Errorf("%w after filling order %s (simulated)", ErrAckLost, o.ID)
	}
	return f, nil
}

// record appends f to the ledger as one line and syncs it.
func (b *PaperBroker) record(f Fill) error {
	if b.ledger == nil {
		return nil
	}
	line, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("agent: ledger: %w", err)
	}
	line = append(line, '\n')
	if _, err := b.ledger.Write(line); err != nil {
		return fmt.Errorf("agent: ledger write: %w", err)
	}
	if err := b.ledger.Sync(); err != nil {
		return fmt.Errorf("agent: ledger sync: %w", err)
	}
	return nil
}

// transientError marks a failure worth retrying: the feed or the ledger
// failed, not the order.
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

// Fills returns every fill in the order it happened, those loaded from the
// ledger first.
func (b *PaperBroker) Fills() []Fill {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Fill, 0, len(b.order))
	for _, id := range b.order {
		out = append(out, b.fills[id])
	}
	return out
}

// Attempts returns how many times Execute reached the ledger in this
// process, retries included.
func (b *PaperBroker) Attempts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.attempts
}
