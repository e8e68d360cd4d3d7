package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/audit"
)

// waitPending polls the workflow until a trade waits for approval.
func waitPending(t *testing.T, c client.Client, id string) agent.PendingApproval {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := c.QueryWorkflow(ctx, id, "", agent.QueryPendingApprovals)
		cancel()
		var ps []agent.PendingApproval
		if err == nil && v.Get(&ps) == nil && len(ps) > 0 {
			return ps[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no trade of %s waited for approval within 30s", id)
	return agent.PendingApproval{}
}

func decide(t *testing.T, c client.Client, id string, d agent.TradeDecision, updateID string) (agent.ApprovalOutcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateID:     updateID,
		UpdateName:   agent.UpdateDecideTrade,
		Args:         []any{d},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return agent.ApprovalOutcome{}, err
	}
	var out agent.ApprovalOutcome
	err = h.Get(ctx, &out)
	return out, err
}

// TestApprovalOnServer approves the first trade and rejects the second
// through updates, as the starter's approve and reject commands do.
func TestApprovalOnServer(t *testing.T) {
	needServer(t)
	k := newKeys(t)
	c := dial(t, k)
	tq := "it-approval-" + random(t)
	broker := newBroker(t, agent.PaperBrokerOptions{})
	startWorker(t, c, tq, agent.RulePlanner{}, broker)

	req := request(t)
	req.Limits.ApprovalNotional = 1_000 // both trades need a decision
	id := "it-approval-" + random(t)
	wr := start(t, c, tq, id, req)

	sell := waitPending(t, c, id)
	if sell.Symbol != "AAPL" || sell.Side != agent.Sell || sell.Notional <= 1_000 || sell.Threshold != 1_000 {
		t.Fatalf("pending %+v, want the AAPL sale over 1,000", sell)
	}
	if _, err := decide(t, c, id, agent.TradeDecision{OrderID: "ord-not-waiting", Approve: true}, ""); err == nil ||
		!strings.Contains(err.Error(), "not waiting") {
		t.Errorf("decision on an order that does not wait = %v, want it rejected", err)
	}
	approval := agent.TradeDecision{OrderID: sell.OrderID, Approve: true, Approver: "desk-lead"}
	out, err := agent.Decide(context.Background(), c, id, approval)
	if err != nil || out.Status != agent.ApprovalFilled || out.Fill == nil || out.Fill.OrderID != sell.OrderID {
		t.Fatalf("approve = %+v, %v; want the sale filled", out, err)
	}
	again, err := decide(t, c, id, approval, agent.DecisionUpdateID(sell.OrderID))
	if err != nil || again.Status != out.Status || *again.Fill != *out.Fill {
		t.Errorf("the same decision again = %+v, %v; want the first outcome %+v", again, err, out)
	}

	buy := waitPending(t, c, id)
	if buy.Symbol != "NVDA" || buy.Side != agent.Buy {
		t.Fatalf("second pending %+v, want the NVDA buy", buy)
	}
	out, err = agent.Decide(context.Background(), c, id, agent.TradeDecision{Approve: false,
		Approver: "desk-lead", Reason: "enough tech"}) // the one waiting
	if err != nil || out.Status != agent.ApprovalRejected || out.Fill != nil {
		t.Fatalf("reject = %+v, %v; want rejected", out, err)
	}

	res, err := result(t, wr, 30*time.Second)
	if err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if len(res.Trades) != 1 || res.Trades[0].OrderID != sell.OrderID || len(broker.Fills()) != 1 {
		t.Errorf("trades %+v, broker %d fills; want only the approved sale", res.Trades, len(broker.Fills()))
	}
	if len(res.Approvals) != 2 || res.Approvals[0].Status != agent.ApprovalFilled ||
		res.Approvals[1].Status != agent.ApprovalRejected || res.Approvals[1].Reason != "enough tech" {
		t.Errorf("approvals %+v, want filled then rejected", res.Approvals)
	}
	if !strings.Contains(res.Answer, "rejected by desk-lead: enough tech") {
		t.Errorf("answer does not report the rejection:\n%s", res.Answer)
	}

	// The decisions and their outcomes are payloads like any other.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := audit.Workflow(ctx, server.Client(), id, wr.GetRunID(),
		req.Account.ID, req.Account.Owner, "desk-lead", "enough tech", sell.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Errorf("audit: %s\n%s", r.Verdict(), strings.Join(r.Findings(), "\n"))
	}
	updates := 0
	for _, p := range r.Payloads {
		if strings.Contains(p.Path, "update") && p.Encrypted {
			updates++
		}
	}
	if updates < 4 { // two requests, two outcomes
		t.Errorf("%d encrypted update payloads in history, want at least 4", updates)
	}
}

func TestApprovalTimesOutOnServer(t *testing.T) {
	needServer(t)
	k := newKeys(t)
	c := dial(t, k)
	tq := "it-approval-timeout-" + random(t)
	broker := newBroker(t, agent.PaperBrokerOptions{})
	startWorker(t, c, tq, agent.RulePlanner{}, broker)

	req := request(t)
	req.Limits.ApprovalNotional = 1_000
	req.ApprovalTimeout = time.Second
	wr := start(t, c, tq, "it-approval-timeout-"+random(t), req)
	res, err := result(t, wr, 30*time.Second)
	if err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if len(res.Trades) != 0 || len(broker.Fills()) != 0 || len(res.Approvals) != 2 ||
		res.Approvals[0].Status != agent.ApprovalTimedOut || res.Approvals[1].Status != agent.ApprovalTimedOut {
		t.Errorf("trades %+v, approvals %+v; want none filled, both timed out", res.Trades, res.Approvals)
	}
}
