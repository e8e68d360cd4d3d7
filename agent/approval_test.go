package agent

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
)

// approvalRequest makes both demo trades (about $3,200 and $3,500) need
// approval.
func approvalRequest() Request {
	req := demoRequest()
	req.Limits.ApprovalNotional = 1_000
	return req
}

func TestWorkflowApprovalTimesOut(t *testing.T) {
	h := newHarness(t, RulePlanner{}, PaperBrokerOptions{})
	req := approvalRequest()
	req.ApprovalTimeout = time.Hour
	res, err := h.run(t, req)
	if err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	if len(res.Trades) != 0 || len(h.broker.Fills()) != 0 {
		t.Errorf("trades %+v without any approval, want none", res.Trades)
	}
	if len(res.Approvals) != 2 {
		t.Fatalf("approvals %+v, want 2", res.Approvals)
	}
	for _, a := range res.Approvals {
		if a.Status != ApprovalTimedOut || a.Threshold != 1_000 || a.OrderID == "" {
			t.Errorf("approval %+v, want timed out at threshold 1000", a)
		}
	}
	if !strings.Contains(res.Answer, "nobody approved") || res.Account.Cash != req.Account.Cash {
		t.Errorf("answer does not report the timeouts, or cash moved:\n%s", res.Answer)
	}
}

// recorder collects what update callbacks say.
type recorder struct {
	rejected error
	accepted bool
	result   ApprovalOutcome
	err      error
}

func (r *recorder) callbacks() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { r.rejected = err },
		OnAccept:   func() { r.accepted = true },
		OnComplete: func(v any, err error) { r.result, _ = v.(ApprovalOutcome); r.err = err },
	}
}

func TestWorkflowApprovalUpdates(t *testing.T) {
	h := newHarness(t, RulePlanner{}, PaperBrokerOptions{})
	var early, wrong, approve, reject recorder
	var pending []PendingApproval

	// At 1 minute the sell waits, at 2 minutes the buy.
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryPendingApprovals)
		if err == nil {
			err = v.Get(&pending)
		}
		if err != nil {
			t.Errorf("query: %v", err)
		}
		h.env.UpdateWorkflow(UpdateDecideTrade, "u-wrong", wrong.callbacks(),
			TradeDecision{OrderID: "ord-nope", Approve: true})
		h.env.UpdateWorkflow(UpdateDecideTrade, "u-approve", approve.callbacks(),
			TradeDecision{Approve: true, Approver: "Risk Desk"})
	}, time.Minute)
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateDecideTrade, "u-reject", reject.callbacks(),
			TradeDecision{Approve: false, Approver: "Risk Desk", Reason: "too much tech"})
	}, 2*time.Minute)
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateDecideTrade, "u-early", early.callbacks(), TradeDecision{Approve: true})
	}, time.Millisecond)

	res, err := h.run(t, approvalRequest())
	if err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	if early.rejected == nil || wrong.rejected == nil {
		t.Errorf("an update with nothing waiting (%v) or the wrong order (%v) was accepted",
			early.rejected, wrong.rejected)
	}
	if len(pending) != 1 || pending[0].Symbol != "AAPL" || pending[0].Side != Sell {
		t.Errorf("pending approvals at 1 minute: %+v, want the AAPL sale", pending)
	}
	if !approve.accepted || approve.err != nil || approve.result.Status != ApprovalFilled ||
		approve.result.Fill == nil || approve.result.Approver != "Risk Desk" {
		t.Errorf("approve: accepted %v, outcome %+v, %v; want a fill", approve.accepted, approve.result, approve.err)
	}
	if !reject.accepted || reject.result.Status != ApprovalRejected || reject.result.Symbol != "NVDA" {
		t.Errorf("reject: accepted %v, outcome %+v; want the NVDA buy rejected", reject.accepted, reject.result)
	}

	if len(res.Trades) != 1 || res.Trades[0].Symbol != "AAPL" || len(h.broker.Fills()) != 1 {
		t.Errorf("trades %+v, want only the approved AAPL sale", res.Trades)
	}
	if len(res.Approvals) != 2 || res.Approvals[0].Status != ApprovalFilled || res.Approvals[1].Status != ApprovalRejected {
		t.Errorf("approvals %+v, want filled then rejected", res.Approvals)
	}
	if !strings.Contains(res.Answer, "rejected by Risk Desk: too much tech") {
		t.Errorf("answer does not report the rejection:\n%s", res.Answer)
	}
}

func TestDecisionUpdateID(t *testing.T) {
	id := DecisionUpdateID("ord-123")
	if id != DecisionUpdateID("ord-123") || id == DecisionUpdateID("ord-124") || strings.Contains(id, "ord-123") {
		t.Errorf("DecisionUpdateID = %q: want stable, distinct per order, and not quoting it", id)
	}
}
