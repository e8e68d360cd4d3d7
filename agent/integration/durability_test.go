package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/worker"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/audit"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

// Variables that turn the test binary into a worker process for
// TestCrashResume.
const (
	envWorkerProcess = "AGENT_IT_WORKER"
	envAddress       = "AGENT_IT_ADDRESS"
	envNamespace     = "AGENT_IT_NAMESPACE"
	envTaskQueue     = "AGENT_IT_TASK_QUEUE"
	envLedger        = "AGENT_IT_LEDGER"
	envCrashAfter    = "AGENT_IT_CRASH_AFTER_FILLS"
)

// workerProcess is the child of TestCrashResume: an agent worker whose
// broker keeps its ledger in a file and which kills itself, with no
// chance to clean up or report, right after its broker fills the n-th
// order and before the activity returns.
func workerProcess() int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "worker process: %v\n", err)
		return 2
	}
	crashAfter, err := strconv.Atoi(os.Getenv(envCrashAfter))
	if err != nil {
		return fail(err)
	}
	conv, err := cli.Converters() // TEMPORAL_ENCRYPTION_KEY, as the real worker
	if err != nil {
		return fail(err)
	}
	c, err := cli.Dial(context.Background(),
		cli.Conn{Address: os.Getenv(envAddress), Namespace: os.Getenv(envNamespace)}, conv, quietLogger())
	if err != nil {
		return fail(err)
	}
	market := agent.NewMarket(agent.DefaultMarketSeed)
	fills := 0
	broker, err := agent.NewPaperBroker(market, agent.PaperBrokerOptions{
		LedgerPath: os.Getenv(envLedger),
		AfterFill: func(agent.Fill) {
			if fills++; fills == crashAfter {
				p, _ := os.FindProcess(os.Getpid())
				p.Kill() // SIGKILL: no deferred calls, no goodbye to the server
				select {}
			}
		},
	})
	if err != nil {
		return fail(err)
	}
	acts, err := agent.NewActivities(agent.RulePlanner{}, market, broker)
	if err != nil {
		return fail(err)
	}
	w := worker.New(c, os.Getenv(envTaskQueue), worker.Options{
		// The server gives a dead worker's cached workflow to another one
		// after this; the default is 5 seconds.
		StickyScheduleToStartTimeout: time.Second,
	})
	agent.Register(w, acts)
	if err := w.Start(); err != nil {
		return fail(err)
	}
	fmt.Println("worker ready")
	select {}
}

// TestCrashResume kills a worker process in the middle of a run, right
// after the broker filled the first order and before the worker could
// report it, and lets a new worker finish the run. The order must fill
// once, and the result must equal an uninterrupted run's.
func TestCrashResume(t *testing.T) {
	needServer(t)
	k := newKeys(t)
	c := dial(t, k)
	tq := "it-crash-" + random(t)
	ledger := filepath.Join(t.TempDir(), "ledger.jsonl")

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(),
		envWorkerProcess+"=1",
		envAddress+"="+server.HostPort(),
		envNamespace+"="+server.Namespace(),
		envTaskQueue+"="+tq,
		envLedger+"="+ledger,
		envCrashAfter+"=1",
		"TEMPORAL_ENCRYPTION_KEY="+k.env,
	)
	var stderr syncBuffer
	child.Stderr = &stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); !strings.Contains(line, "worker ready") {
		child.Wait()
		t.Fatalf("worker process did not start: %q\n%s", line, stderr.String())
	}

	req := request(t)
	id := "it-crash-" + random(t)
	wr := start(t, c, tq, id, req)

	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Exited() {
			t.Fatalf("worker process ended with %v, want killed by a signal\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("worker process still alive after 30s\n%s", stderr.String())
	}
	if n := len(readLedger(t, ledger)); n != 1 {
		t.Fatalf("ledger has %d fills when the worker died, want 1", n)
	}
	desc, err := c.DescribeWorkflow(context.Background(), id, "")
	if err != nil || desc.RawResponse.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("workflow after the crash: %+v, %v; want it running", desc, err)
	}

	// A new worker, with the broker's ledger: the broker is the outside
	// world, and it survives the worker.
	broker := newBroker(t, agent.PaperBrokerOptions{LedgerPath: ledger})
	startWorker(t, c, tq, agent.RulePlanner{}, broker)
	res, err := result(t, wr, time.Minute)
	if err != nil {
		t.Fatalf("workflow after the restart: %v", err)
	}

	if want := reference(t, id, req); !reflect.DeepEqual(res, want) {
		t.Errorf("result after a crash differs from an uninterrupted run:\n got %+v\nwant %+v", res, want)
	}
	lines := readLedger(t, ledger)
	seen := map[string]bool{}
	for _, f := range lines {
		if seen[f.OrderID] {
			t.Errorf("order %s filled twice", f.OrderID)
		}
		seen[f.OrderID] = true
	}
	if len(lines) != len(res.Trades) || len(res.Trades) != 2 {
		t.Errorf("ledger has %d fills for %d trades, want 2 and 2", len(lines), len(res.Trades))
	}
	if broker.Attempts() < 2 {
		t.Errorf("the new worker's broker saw %d orders, want the retried one and the next", broker.Attempts())
	}
	if !retried(t, id, "ExecuteTrade") {
		t.Error("no ExecuteTrade activity was retried: the worker did not die inside it")
	}
}

// retried reports whether an activity of the given type ran more than once.
func retried(t *testing.T, id, activityType string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	types := map[int64]string{}
	it := server.Client().GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			types[e.GetEventId()] = a.GetActivityType().GetName()
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil &&
			a.GetAttempt() > 1 && types[a.GetScheduledEventId()] == activityType {
			return true
		}
	}
	return false
}

func readLedger(t *testing.T, path string) []agent.Fill {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []agent.Fill
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var f agent.Fill
		if err := json.Unmarshal(line, &f); err != nil {
			t.Fatalf("ledger line %q: %v", line, err)
		}
		out = append(out, f)
	}
	return out
}

// TestContinueAsNew runs with a threshold so low that the workflow
// continues as new after every turn, and checks the result is the same as
// a run that never does.
func TestContinueAsNew(t *testing.T) {
	needServer(t)
	k := newKeys(t)
	c := dial(t, k)
	tq := "it-can-" + random(t)
	broker := newBroker(t, agent.PaperBrokerOptions{})
	startWorker(t, c, tq, agent.RulePlanner{}, broker)

	req := request(t)
	id := "it-can-" + random(t)
	long := req
	long.ContinueAsNewAfter = 10
	wr := start(t, c, tq, id, long)
	firstRun := wr.GetRunID() // Get follows the runs and moves it on
	res, err := result(t, wr, time.Minute)
	if err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if want := reference(t, id, req); !reflect.DeepEqual(res, want) {
		t.Errorf("result with continue-as-new differs:\n got %+v\nwant %+v", res, want)
	}
	if len(broker.Fills()) != len(res.Trades) {
		t.Errorf("broker filled %d orders for %d trades", len(broker.Fills()), len(res.Trades))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := c.DescribeWorkflow(ctx, id, firstRun)
	if err != nil {
		t.Fatal(err)
	}
	if s := first.RawResponse.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
		t.Errorf("first run ended %v, want continued as new", s)
	}
	last, err := c.DescribeWorkflow(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if runs := countRuns(t, id); runs < 4 {
		t.Errorf("%d runs, want one per turn (at least 4)", runs)
	}
	// The carried state is a payload like the rest.
	r, err := audit.Workflow(ctx, server.Client(), id, last.RawResponse.GetWorkflowExecutionInfo().GetExecution().GetRunId(),
		req.Account.ID, req.Account.Owner)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Errorf("audit of the last run: %s\n%s", r.Verdict(), strings.Join(r.Findings(), "\n"))
	}
}

// countRuns follows the chain of runs of id from the first.
func countRuns(t *testing.T, id string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	runs := 0
	run := ""
	for {
		// The first event of the latest run names the run it continues.
		it := server.Client().GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		if !it.HasNext() {
			t.Fatal("empty history")
		}
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		runs++
		prev := e.GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if prev == "" || runs > 50 {
			return runs
		}
		run = prev
	}
}
