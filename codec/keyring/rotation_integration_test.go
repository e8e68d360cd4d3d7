package keyring_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/temporal-encryption/temporal-encryption/audit"
	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/keyring"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

func shout(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }

func shoutWorkflow(ctx workflow.Context, s string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, shout, s).Get(ctx, &out)
	return out + "!", err
}

// process is one worker or client with its own keyring source, as a
// separate process would have.
type process struct {
	src *keyring.Source
	c   client.Client
}

func startProcess(t *testing.T, srv *devserver.Server, path, taskQueue string, runWorker bool) *process {
	t.Helper()
	src := openSource(t, path)
	cd := newCodec(t, src)
	dc := codec.NewDataConverter(cd)
	c, err := client.Dial(client.Options{
		HostPort: srv.HostPort(), Namespace: srv.Namespace(),
		DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc),
		Logger: cli.Logger(os.Stderr),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if runWorker {
		w := worker.New(c, taskQueue, worker.Options{})
		w.RegisterWorkflow(shoutWorkflow)
		w.RegisterActivity(shout)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	return &process{src: src, c: c}
}

// TestTwoWorkerRotation rotates the key of two workers and a client on a
// real dev server, reloading them one at a time, while workflows run whose
// tasks go to either worker. No workflow task may fail for want of a key.
func TestTwoWorkerRotation(t *testing.T) {
	srv := devserver.StartForTest(t, devserver.Options{})
	const taskQueue = "keyring-rotation"
	path := filepath.Join(t.TempDir(), "keys.json")
	oldKey := primary("k-old")
	writeFile(t, path, fileJSON(t, oldKey))

	w1 := startProcess(t, srv, path, taskQueue, true)
	w2 := startProcess(t, srv, path, taskQueue, true)
	starter := startProcess(t, srv, path, taskQueue, false)

	var runs []client.WorkflowRun
	run := func(stage string, n int) {
		t.Helper()
		for i := range n {
			id := fmt.Sprintf("%s-%d", stage, i)
			r, err := starter.c.ExecuteWorkflow(context.Background(),
				client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue, WorkflowTaskTimeout: 5 * time.Second},
				shoutWorkflow, "hello "+id)
			if err != nil {
				t.Fatalf("%s: start: %v", stage, err)
			}
			runs = append(runs, r)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			var out string
			err = r.Get(ctx, &out)
			cancel()
			if err != nil || out != strings.ToUpper("hello "+id)+"!" {
				t.Fatalf("%s: workflow %s = %q, %v", stage, id, out, err)
			}
		}
	}
	reload := func(ps ...*process) {
		t.Helper()
		for _, p := range ps {
			if err := p.src.Reload(); err != nil {
				t.Fatal(err)
			}
		}
	}

	run("before", 3)

	// Stage 1: the new key, decrypt-only, everywhere.
	newKey := key{"k-new", "aes-256-gcm", "decrypt-only", "2026-06-01T00:00:00Z", b64(32, 9)}
	writeFile(t, path, fileJSON(t, oldKey, newKey))
	reload(w1, w2, starter)
	run("added", 3)

	// Stage 2: promote, then reload one process at a time, running
	// workflows in between: the others must read what it writes.
	oldKey.State, newKey.State = "decrypt-only", "primary"
	writeFile(t, path, fileJSON(t, oldKey, newKey))
	reload(w1)
	run("promoted-w1", 4)
	reload(starter)
	run("promoted-w1-starter", 4)
	reload(w2)
	run("promoted-all", 4)

	// Every history: fully encrypted, no failed workflow task, and the new
	// key in use by the end.
	ids := map[string]int{}
	for _, r := range runs {
		rep, err := audit.Workflow(context.Background(), starter.c, r.GetID(), r.GetRunID())
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Errorf("workflow %s: %s", r.GetID(), rep.Verdict())
		}
		for id, n := range rep.KeyIDs() {
			ids[id] += n
		}
		it := starter.c.GetWorkflowHistory(context.Background(), r.GetID(), r.GetRunID(), false,
			enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
				t.Errorf("workflow %s: workflow task failed: %v", r.GetID(),
					e.GetWorkflowTaskFailedEventAttributes().GetCause())
			}
		}
	}
	if ids["k-old"] == 0 || ids["k-new"] == 0 {
		t.Errorf("payloads by key: %v; want both keys used", ids)
	}
	last := runs[len(runs)-1]
	rep, _ := audit.Workflow(context.Background(), starter.c, last.GetID(), last.GetRunID())
	if got := rep.KeyIDs(); got["k-old"] != 0 {
		t.Errorf("after every process reloaded, the last workflow still has k-old payloads: %v", got)
	}
}
