package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/audit"
	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

// deskKey is a search attribute the tests register and set, to show that
// search attributes stay plaintext and are reported apart.
var deskKey = temporal.NewSearchAttributeKeyKeyword("TradingDesk")

func random(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// converters returns the encrypting converters for a fresh key named keyID.
func converters(t *testing.T, keyID string) cli.Conv {
	t.Helper()
	key, err := envkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	ks, err := envkey.LoadFrom(func(name string) string {
		switch name {
		case envkey.VarKey:
			return key
		case envkey.VarKeyID:
			return keyID
		}
		return ""
	})
	if err != nil {
		t.Fatalf("envkey.LoadFrom: %v", err)
	}
	c, err := codec.New(ks)
	if err != nil {
		t.Fatalf("codec.New: %v", err)
	}
	dc := codec.NewDataConverter(c)
	return cli.Conv{Data: dc, Failure: codec.NewFailureConverter(dc)}
}

func dial(t *testing.T, srv *devserver.Server, conv cli.Conv) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:         srv.HostPort(),
		Namespace:        srv.Namespace(),
		DataConverter:    conv.Data,
		FailureConverter: conv.Failure,
		Logger:           cli.Logger(newTestLog(t)),
	})
	if err != nil {
		t.Fatalf("dial %s: %v", srv.HostPort(), err)
	}
	t.Cleanup(c.Close)
	return c
}

// testLog sends SDK log lines to the test log until the test's cleanups
// are done; make it before the resource that logs, so it closes after.
type testLog struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
}

func newTestLog(t *testing.T) *testLog {
	w := &testLog{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.closed = true
	})
	return w
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// startWorker runs the agent's worker on c until the test ends.
func startWorker(t *testing.T, c client.Client, taskQueue string) *agent.PaperBroker {
	t.Helper()
	market := agent.NewMarket(agent.DefaultMarketSeed)
	broker, err := agent.NewPaperBroker(market, agent.PaperBrokerOptions{LoseFirstAck: true})
	if err != nil {
		t.Fatal(err)
	}
	acts, err := agent.NewActivities(agent.RulePlanner{}, market, broker)
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	agent.Register(w, acts)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	return broker
}

// secrets are the sensitive values of one run: none may reach the server
// in plaintext.
type secrets struct {
	account, owner, marker string
}

func newSecrets(t *testing.T) secrets {
	r := random(t)
	return secrets{
		account: "ACCT-E2E-" + strings.ToUpper(r),
		owner:   "Owner " + r,
		marker:  "prompt-marker-" + r,
	}
}

func (s secrets) request() agent.Request {
	return agent.Request{
		Prompt: "Rebalance my portfolio and consider adding NVDA. Be conservative. Ref " + s.marker,
		Account: agent.Account{
			ID:    s.account,
			Owner: s.owner,
			Cash:  50_000,
			Positions: []agent.Position{
				{Symbol: "AAPL", Quantity: 40, AvgCost: 175},
				{Symbol: "MSFT", Quantity: 15, AvgCost: 380},
			},
		},
	}
}

func runAgent(t *testing.T, c client.Client, taskQueue, id string, req agent.Request) (client.WorkflowRun, agent.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	wr, err := agent.Start(ctx, c, agent.StartOptions{
		ID:               id,
		TaskQueue:        taskQueue,
		SearchAttributes: temporal.NewSearchAttributes(deskKey.ValueSet("equities")),
	}, req)
	if err != nil {
		t.Fatalf("agent.Start: %v", err)
	}
	var res agent.Result
	if err := wr.Get(ctx, &res); err != nil {
		t.Fatalf("workflow %s: %v", id, err)
	}
	return wr, res
}

func startServer(t *testing.T) *devserver.Server {
	t.Helper()
	return devserver.StartForTest(t, devserver.Options{
		SearchAttributes: temporal.NewSearchAttributes(deskKey.ValueSet("")),
		Logger:           cli.Logger(newTestLog(t)),
	})
}

func TestServerHoldsOnlyCiphertext(t *testing.T) {
	srv := startServer(t)
	conv := converters(t, "e2e-key-1")
	c := dial(t, srv, conv)
	broker := startWorker(t, c, "e2e-encrypted")
	sec := newSecrets(t)
	id := "e2e-encrypted-" + random(t)

	wr, res := runAgent(t, c, "e2e-encrypted", id, sec.request())

	// The agent did its job: sold half the falling AAPL, bought rising NVDA.
	if len(res.Trades) != 2 || res.Trades[0].Symbol != "AAPL" || res.Trades[0].Side != agent.Sell ||
		res.Trades[0].Quantity != 20 || res.Trades[1].Symbol != "NVDA" || res.Trades[1].Side != agent.Buy {
		t.Fatalf("trades = %+v, want sell 20 AAPL then buy NVDA", res.Trades)
	}
	for _, want := range []string{sec.account, "SELL 20 AAPL", res.Trades[1].OrderID} {
		if !strings.Contains(res.Answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, res.Answer)
		}
	}
	if n, a := len(broker.Fills()), broker.Attempts(); n != 2 || a != 4 {
		t.Errorf("broker filled %d orders in %d attempts, want 2 in 4 (each first answer dropped)", n, a)
	}

	// What the server holds, read without the codec.
	canaries := []string{sec.account, sec.owner, sec.marker, "SELL 20 AAPL", "sell 20 AAPL"}
	for _, f := range res.Trades {
		canaries = append(canaries, f.OrderID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := audit.Workflow(ctx, srv.Client(), id, wr.GetRunID(), canaries...)
	if err != nil {
		t.Fatalf("audit.Workflow: %v", err)
	}
	t.Logf("audit: %s", r.Verdict())
	if !r.OK() {
		t.Fatalf("audit failed: %s\n%s", r.Verdict(), strings.Join(r.Findings(), "\n"))
	}
	if ids := r.KeyIDs(); len(ids) != 1 || ids["e2e-key-1"] != len(r.Payloads) {
		t.Errorf("KeyIDs() = %v, want e2e-key-1 on all %d payloads", ids, len(r.Payloads))
	}
	if len(r.SearchAttributes) == 0 {
		t.Error("no search-attribute payloads reported; the TradingDesk attribute was set")
	}
	for _, p := range r.SearchAttributes {
		if p.Encrypted {
			t.Errorf("search attribute %s is encrypted; the server could not index it", p)
		}
	}

	// Every kind of payload the agent produces was seen, and encrypted.
	for _, want := range []string{
		"workflow_execution_started_event_attributes.input",
		"workflow_execution_started_event_attributes.memo",
		"user_metadata.summary", // workflow and activity summaries
		"user_metadata.details", // the workflow's static details
		"activity_task_scheduled_event_attributes.input",
		"activity_task_completed_event_attributes.result",
		"last_failure.encoded_attributes", // the dropped broker answers
		"workflow_execution_completed_event_attributes.result",
		"workflow_execution_info.memo", // from DescribeWorkflowExecution
	} {
		found := false
		for _, p := range r.Payloads {
			found = found || strings.Contains(p.Path, want)
		}
		if !found {
			t.Errorf("no payload at a path containing %q", want)
		}
	}

	// The history replays against the current workflow code.
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		DataConverter:    conv.Data,
		FailureConverter: conv.Failure,
	})
	if err != nil {
		t.Fatal(err)
	}
	replayer.RegisterWorkflow(agent.TradingWorkflow)
	err = replayer.ReplayWorkflowExecution(ctx, c.WorkflowService(), nil, srv.Namespace(),
		workflow.Execution{ID: id, RunID: wr.GetRunID()})
	if err != nil {
		t.Errorf("replay: %v", err)
	}
}

func TestResultNeedsTheKey(t *testing.T) {
	srv := startServer(t)
	c := dial(t, srv, converters(t, "e2e-key-1"))
	startWorker(t, c, "e2e-key")
	id := "e2e-key-" + random(t)
	_, want := runAgent(t, c, "e2e-key", id, newSecrets(t).request())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	readers := []struct {
		name string
		c    client.Client
		ok   bool
	}{
		{"no codec", srv.Client(), false},
		{"another key", dial(t, srv, converters(t, "e2e-key-1")), false},
		{"the key", c, true},
	}
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			var got agent.Result
			err := rd.c.GetWorkflow(ctx, id, "").Get(ctx, &got)
			switch {
			case rd.ok && err != nil:
				t.Fatalf("Get with %s: %v", rd.name, err)
			case rd.ok && got.Answer != want.Answer:
				t.Errorf("Get with %s: answer %q, want %q", rd.name, got.Answer, want.Answer)
			case !rd.ok && err == nil:
				t.Errorf("Get with %s succeeded (answer %q), want an error", rd.name, got.Answer)
			case !rd.ok && got.Answer != "":
				t.Errorf("Get with %s failed but filled in the answer", rd.name)
			}
		})
	}
}

// TestAuditCatchesPlaintext runs the agent without the codec and checks the
// audit fails, so a passing audit above means something.
func TestAuditCatchesPlaintext(t *testing.T) {
	srv := startServer(t)
	plain := dial(t, srv, cli.Conv{Data: converter.GetDefaultDataConverter()})
	startWorker(t, plain, "e2e-plain")
	sec := newSecrets(t)
	id := "e2e-plain-" + random(t)
	wr, _ := runAgent(t, plain, "e2e-plain", id, sec.request())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := audit.Workflow(ctx, srv.Client(), id, wr.GetRunID(), sec.account, sec.owner, sec.marker)
	if err != nil {
		t.Fatalf("audit.Workflow: %v", err)
	}
	if r.OK() || r.Encrypted() != 0 || len(r.Plaintext()) == 0 || len(r.Failures) == 0 {
		t.Fatalf("audit of an unencrypted run: %s (%d plaintext payloads, %d failures), want a failure",
			r.Verdict(), len(r.Plaintext()), len(r.Failures))
	}
	found := make(map[string]bool)
	for _, h := range r.CanaryHits {
		found[h.Canary] = true
	}
	for _, s := range []string{sec.account, sec.owner, sec.marker} {
		if !found[s] {
			t.Errorf("canary %q not found in an unencrypted history", s)
		}
	}
}
