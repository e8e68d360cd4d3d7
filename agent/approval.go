package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Names of the workflow's update and query for human approval. Like every
// argument and result, their payloads pass through the client's data
// converter, so they are encrypted; the names themselves are visible to the
// server.
const (
	// UpdateDecideTrade delivers a person's [TradeDecision] on a trade that
	// waits for approval. It is accepted only while that trade waits and
	// has no decision yet; its result, an [ApprovalOutcome], comes back
	// once the trade has been executed or dropped.
	UpdateDecideTrade = "decide_trade"

	// QueryPendingApprovals returns the trades waiting for a decision, as a
	// []PendingApproval (at most one: trades run one at a time).
	QueryPendingApprovals = "pending_approvals"
)

// Approval timeouts: [Request.ApprovalTimeout] is zero for the default and
// at most the maximum.
const (
	DefaultApprovalTimeout = 5 * time.Minute
	MaxApprovalTimeout     = 7 * 24 * time.Hour
)

// Limits on the free text of a [TradeDecision].
const (
	MaxApproverBytes = 128
	MaxReasonBytes   = 1024
)

// TradeDecision is a person's answer to a trade waiting for approval, the
// argument of [UpdateDecideTrade].
type TradeDecision struct {
	// OrderID names the trade, as [PendingApproval.OrderID] gave it. Empty
	// means the one trade waiting, if exactly one is.
	OrderID string `json:"order_id,omitempty"`

	// Approve sends the order to the broker; false drops it.
	Approve bool `json:"approve"`

	// Approver and Reason are recorded with the outcome and shown to the
	// model. At most MaxApproverBytes and MaxReasonBytes.
	Approver string `json:"approver,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// PendingApproval is a trade waiting for a decision.
type PendingApproval struct {
	OrderID string `json:"order_id"`
	TradeIdea

	// Price and Notional are those check_risk approved, in dollars.
	Price    float64 `json:"price"`
	Notional float64 `json:"notional"`

	// Threshold is the [RiskLimits.ApprovalNotional] the trade is over.
	Threshold float64 `json:"threshold"`

	// Deadline is when the trade is dropped if nobody has decided, in the
	// workflow's clock.
	Deadline time.Time `json:"deadline"`
}

// ApprovalStatus is how a trade that needed approval ended.
type ApprovalStatus string

// The ends of a trade that needed approval.
const (
	ApprovalFilled   ApprovalStatus = "filled"    // approved and filled
	ApprovalFailed   ApprovalStatus = "failed"    // approved, but the broker refused
	ApprovalRejected ApprovalStatus = "rejected"  // a person said no
	ApprovalTimedOut ApprovalStatus = "timed_out" // nobody decided in time
)

// ApprovalOutcome is what became of a trade that needed approval: the
// result of [UpdateDecideTrade], and an entry of [Result.Approvals].
type ApprovalOutcome struct {
	PendingApproval
	Status   ApprovalStatus `json:"status"`
	Approver string         `json:"approver,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Fill     *Fill          `json:"fill,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// DecisionUpdateID is the update ID a client should give the
// [UpdateDecideTrade] update for orderID. The server runs an update ID
// at most once per workflow, so a decision sent twice (a retried command,
// two people clicking) is applied once, and the second sender gets the
// first decision's outcome. The ID is a hash: update IDs are stored in
// clear, and the order ID need not be.
func DecisionUpdateID(orderID string) string {
	sum := sha256.Sum256([]byte("decide_trade\x00" + orderID))
	return "decision-" + hex.EncodeToString(sum[:12])
}

// approvalWait is a trade waiting for its decision.
type approvalWait struct {
	PendingApproval
	decision *TradeDecision
}

// registerApprovals installs the update and query handlers. It runs first
// thing in every run, so no update arrives before its handler.
func (s *session) registerApprovals(ctx workflow.Context) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecideTrade, s.decide,
		workflow.UpdateHandlerOptions{
			Validator:   s.validateDecision,
			Description: "approve or reject a trade waiting for approval",
		})
	if err != nil {
		return err
	}
	return workflow.SetQueryHandlerWithOptions(ctx, QueryPendingApprovals,
		func() ([]PendingApproval, error) {
			out := make([]PendingApproval, 0, len(s.waiting))
			for _, w := range s.waiting {
				if w.decision == nil {
					out = append(out, w.PendingApproval)
				}
			}
			return out, nil
		},
		workflow.QueryHandlerOptions{Description: "trades waiting for approval"})
}

// validateDecision accepts d only for a trade that waits and has no
// decision yet. It changes nothing.
func (s *session) validateDecision(d TradeDecision) error {
	if len(d.Approver) > MaxApproverBytes || len(d.Reason) > MaxReasonBytes {
		return fmt.Errorf("agent: approver or reason too long (limits %d and %d bytes)",
			MaxApproverBytes, MaxReasonBytes)
	}
	_, err := s.waitingFor(d.OrderID)
	return err
}

func (s *session) waitingFor(orderID string) (*approvalWait, error) {
	var open []*approvalWait
	for _, w := range s.waiting {
		if w.decision == nil && (orderID == "" || w.OrderID == orderID) {
			open = append(open, w)
		}
	}
	switch {
	case len(open) == 1:
		return open[0], nil
	case len(open) > 1:
		return nil, errors.New("agent: more than one trade waits for approval: name the order")
	case orderID == "":
		return nil, errors.New("agent: no trade is waiting for approval")
	}
	return nil, fmt.Errorf("agent: order %s is not waiting for approval", orderID)
}

// decide records d and waits until the trade it decides has ended.
func (s *session) decide(ctx workflow.Context, d TradeDecision) (ApprovalOutcome, error) {
	w, err := s.waitingFor(d.OrderID)
	if err != nil {
		return ApprovalOutcome{}, err
	}
	w.decision = &d
	id := w.OrderID
	if err := workflow.Await(ctx, func() bool { return s.outcomes[id] != nil }); err != nil {
		return ApprovalOutcome{}, err
	}
	return *s.outcomes[id], nil
}

// approve holds a trade until a person decides on it or the timeout ends.
// It returns the outcome so far; a nil error means the trade may go ahead.
func (s *session) approve(ctx workflow.Context, order Order, risk RiskDecision) (*ApprovalOutcome, error) {
	w := &approvalWait{PendingApproval: PendingApproval{
		OrderID:   order.ID,
		TradeIdea: risk.TradeIdea,
		Price:     risk.Price,
		Notional:  risk.Notional,
		Threshold: s.limits.ApprovalNotional,
		Deadline:  workflow.Now(ctx).Add(s.approvalTimeout),
	}}
	s.waiting = append(s.waiting, w)
	decided, err := workflow.AwaitWithTimeout(ctx, s.approvalTimeout, func() bool { return w.decision != nil })
	s.waiting = s.waiting[:0]

	out := &ApprovalOutcome{PendingApproval: w.PendingApproval}
	switch {
	case err != nil:
		return nil, err
	case !decided:
		out.Status = ApprovalTimedOut
		return out, fmt.Errorf("agent: nobody approved %s (%s) within %v; the order was not sent",
			risk.TradeIdea, money(risk.Notional), s.approvalTimeout)
	}
	out.Approver, out.Reason = w.decision.Approver, w.decision.Reason
	if !w.decision.Approve {
		out.Status = ApprovalRejected
		why := ""
		if out.Reason != "" {
			why = ": " + out.Reason
		}
		return out, fmt.Errorf("agent: %s (%s) was rejected by %s%s; the order was not sent",
			risk.TradeIdea, money(risk.Notional), nonEmpty(out.Approver, "the approver"), why)
	}
	return out, nil
}

// settle records how a trade that needed approval ended, which lets its
// update handler return.
func (s *session) settle(out *ApprovalOutcome, fill *Fill, err error) {
	switch {
	case out.Status != "":
	case err != nil:
		out.Status, out.Error = ApprovalFailed, errorText(err)
	default:
		out.Status, out.Fill = ApprovalFilled, fill
	}
	s.outcomes[out.OrderID] = out
	s.result.Approvals = append(s.result.Approvals, *out)
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
