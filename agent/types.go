package agent

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Side is the direction of an order.
type Side string

// The two order sides.
const (
	Buy  Side = "buy"
	Sell Side = "sell"
)

// Limits on one request; [Request.Validate] enforces them.
const (
	MaxPromptBytes = 16 << 10
	MaxPositions   = 100
	MaxQuantity    = 1_000_000
	MaxCash        = 1e12
	DefaultSteps   = 8
	MaxSteps       = 32
)

// Position is a holding in one symbol. AvgCost is the average price paid per
// share, in dollars.
type Position struct {
	Symbol   string  `json:"symbol"`
	Quantity int64   `json:"quantity"`
	AvgCost  float64 `json:"avg_cost"`
}

// Account is a brokerage account as the workflow sees it. The workflow keeps
// its own copy and updates it from each fill.
type Account struct {
	ID        string     `json:"id"`
	Owner     string     `json:"owner"`
	Cash      float64    `json:"cash"`
	Positions []Position `json:"positions"`
}

// Request is the input of [TradingWorkflow].
type Request struct {
	// Prompt is the trader's instruction, in plain language. Required; at
	// most MaxPromptBytes.
	Prompt string `json:"prompt"`

	// Account is the account to trade. ID is required; Cash must be between
	// 0 and MaxCash; at most MaxPositions positions, one per symbol.
	Account Account `json:"account"`

	// Limits are the risk limits check_risk enforces. Zero fields take the
	// values of [DefaultRiskLimits].
	Limits RiskLimits `json:"limits"`

	// MaxSteps caps the model calls; the workflow fails if the model has not
	// answered by then. Zero means DefaultSteps; at most MaxSteps.
	MaxSteps int `json:"max_steps"`

	// ApprovalTimeout is how long a trade above Limits.ApprovalNotional
	// waits for a decision before it is dropped. Zero means
	// DefaultApprovalTimeout (5 minutes); at most MaxApprovalTimeout (7
	// days). Keep the workflow's execution timeout above it.
	ApprovalTimeout time.Duration `json:"approval_timeout,omitempty"`

	// MaxConversationBytes bounds the conversation sent to the model: when
	// it grows past this, the oldest turns are replaced by a summary. Zero
	// means DefaultConversationBytes (256 KiB); the range is
	// MinConversationBytes (8 KiB) to MaxConversationBytes (1 MiB).
	MaxConversationBytes int `json:"max_conversation_bytes,omitempty"`

	// ContinueAsNewAfter is the history length, in events, after which the
	// workflow continues as new between two turns. Zero means
	// DefaultContinueAsNewEvents (2,000); at most MaxContinueAsNewEvents.
	// The workflow also continues as new when the server suggests it.
	ContinueAsNewAfter int `json:"continue_as_new_after,omitempty"`

	// Continued is set by the workflow when it continues as new, to carry
	// its state into the next run. Callers leave it nil; [Start] refuses a
	// request that has it.
	Continued *Continuation `json:"continued,omitempty"`
}

// Result is the output of [TradingWorkflow].
type Result struct {
	// Answer is the model's final answer.
	Answer string `json:"answer"`

	// Trades are the fills, in execution order.
	Trades []Fill `json:"trades"`

	// Account is the account after the trades.
	Account Account `json:"account"`

	// Approvals are the trades that needed a person's approval and what
	// became of them, in order.
	Approvals []ApprovalOutcome `json:"approvals,omitempty"`

	// ModelCalls and ToolCalls count the activities the workflow ran for
	// the model and for tools.
	ModelCalls int `json:"model_calls"`
	ToolCalls  int `json:"tool_calls"`
}

// Order is an order sent to the broker. ID makes it idempotent: the broker
// fills an ID at most once.
type Order struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	Symbol    string `json:"symbol"`
	Side      Side   `json:"side"`
	Quantity  int64  `json:"quantity"`
}

// Fill is an executed order. Price and Notional are in dollars, rounded to
// cents.
type Fill struct {
	OrderID   string  `json:"order_id"`
	AccountID string  `json:"account_id"`
	Symbol    string  `json:"symbol"`
	Side      Side    `json:"side"`
	Quantity  int64   `json:"quantity"`
	Price     float64 `json:"price"`
	Notional  float64 `json:"notional"`
}

// Validate reports the first problem with r, or nil. It does not change r.
func (r Request) Validate() error {
	if strings.TrimSpace(r.Prompt) == "" {
		return errors.New("agent: prompt is empty")
	}
	if len(r.Prompt) > MaxPromptBytes {
		return fmt.Errorf("agent: prompt is %d bytes, limit %d", len(r.Prompt), MaxPromptBytes)
	}
	if err := r.Account.validate(); err != nil {
		return err
	}
	if err := r.Limits.validate(); err != nil {
		return err
	}
	if r.MaxSteps < 0 || r.MaxSteps > MaxSteps {
		return fmt.Errorf("agent: max steps %d out of range 0..%d", r.MaxSteps, MaxSteps)
	}
	if r.ApprovalTimeout < 0 || r.ApprovalTimeout > MaxApprovalTimeout {
		return fmt.Errorf("agent: approval timeout %v out of range 0..%v", r.ApprovalTimeout, MaxApprovalTimeout)
	}
	if b := r.MaxConversationBytes; b != 0 && (b < MinConversationBytes || b > MaxConversationBytes) {
		return fmt.Errorf("agent: conversation budget %d out of range %d..%d bytes",
			b, MinConversationBytes, MaxConversationBytes)
	}
	if r.ContinueAsNewAfter < 0 || r.ContinueAsNewAfter > MaxContinueAsNewEvents {
		return fmt.Errorf("agent: continue-as-new threshold %d out of range 0..%d",
			r.ContinueAsNewAfter, MaxContinueAsNewEvents)
	}
	if r.Continued != nil {
		return r.Continued.validate(orDefault(r.MaxSteps, DefaultSteps))
	}
	return nil
}

func (a Account) validate() error {
	if strings.TrimSpace(a.ID) == "" {
		return errors.New("agent: account ID is empty")
	}
	if len(a.ID) > 128 || len(a.Owner) > 256 {
		return errors.New("agent: account ID or owner too long")
	}
	if !finite(a.Cash) || a.Cash < 0 || a.Cash > MaxCash {
		return fmt.Errorf("agent: cash out of range 0..%g", MaxCash)
	}
	if len(a.Positions) > MaxPositions {
		return fmt.Errorf("agent: %d positions, limit %d", len(a.Positions), MaxPositions)
	}
	seen := make(map[string]bool, len(a.Positions))
	for i, p := range a.Positions {
		if !validSymbol(p.Symbol) {
			return fmt.Errorf("agent: position %d: symbol %q is not 1-5 upper-case letters", i, p.Symbol)
		}
		if seen[p.Symbol] {
			return fmt.Errorf("agent: position %d: symbol %s listed twice", i, p.Symbol)
		}
		seen[p.Symbol] = true
		if p.Quantity <= 0 || p.Quantity > MaxQuantity {
			return fmt.Errorf("agent: position %d: quantity %d out of range 1..%d",
				i, p.Quantity, MaxQuantity)
		}
		if !finite(p.AvgCost) || p.AvgCost < 0 || p.AvgCost > MaxCash {
			return fmt.Errorf("agent: position %d: average cost out of range", i)
		}
	}
	return nil
}

// clone returns a deep copy, so the workflow never shares the caller's
// slices.
func (a Account) clone() Account {
	a.Positions = append([]Position(nil), a.Positions...)
	return a
}

// position returns the index of symbol in a.Positions, or -1.
func (a Account) position(symbol string) int {
	for i, p := range a.Positions {
		if p.Symbol == symbol {
			return i
		}
	}
	return -1
}

// held returns the quantity of symbol in the account.
func (a Account) held(symbol string) int64 {
	if i := a.position(symbol); i >= 0 {
		return a.Positions[i].Quantity
	}
	return 0
}

// apply books a fill: cash moves by the notional, the position by the
// quantity. A position sold to zero is removed.
func (a *Account) apply(f Fill) {
	i := a.position(f.Symbol)
	switch f.Side {
	case Buy:
		a.Cash = cents(a.Cash - f.Notional)
		if i < 0 {
			a.Positions = append(a.Positions, Position{Symbol: f.Symbol})
			i = len(a.Positions) - 1
		}
		p := &a.Positions[i]
		cost := p.AvgCost*float64(p.Quantity) + f.Notional
		p.Quantity += f.Quantity
		p.AvgCost = cents(cost / float64(p.Quantity))
	case Sell:
		a.Cash = cents(a.Cash + f.Notional)
		if i < 0 {
			return
		}
		a.Positions[i].Quantity -= f.Quantity
		if a.Positions[i].Quantity <= 0 {
			a.Positions = append(a.Positions[:i], a.Positions[i+1:]...)
		}
	}
}

func validSymbol(s string) bool {
	if len(s) < 1 || len(s) > 5 {
		return false
	}
	for _, c := range []byte(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// cents rounds a dollar amount to whole cents.
func cents(f float64) float64 { return math.Round(f*100) / 100 }
