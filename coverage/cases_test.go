package coverage_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	deploymentpb "go.temporal.io/api/deployment/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/encryption"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestC03Headers is case C03. A propagator wrapped with EncryptHeaders
// writes its header encrypted on the workflow, its activities and its
// child (checked on the coverage run); the same propagator unwrapped
// writes it in clear, which this test pins, and a worker that opted in
// still reads such a header.
func TestC03Headers(t *testing.T) {
	r := coverageRun(t)
	f := setup(t)

	t.Run("opted in", func(t *testing.T) {
		var headers int
		for _, rep := range r.Reports {
			for _, e := range rep.Events {
				for _, p := range payloadsAt(e, ".header.fields[tenant]") {
					headers++
					if enc := string(p.GetMetadata()["encoding"]); enc != codec.EncodingEncrypted {
						t.Errorf("%s event %d: tenant header encoding %q", rep.WorkflowID, e.GetEventId(), enc)
						continue
					}
					if got := jsonString(t, decodeWithServer(t, f, p)[0]); got != `"`+r.Markers.Tenant+`"` {
						t.Errorf("tenant header decodes to %s", got)
					}
				}
			}
		}
		// Workflow start, activity, child start (twice: initiated and
		// started), the child's activity, continue-as-new, and the child
		// and the new run's starts.
		if headers < 6 {
			t.Errorf("found %d tenant headers, want at least 6", headers)
		}
	})

	t.Run("not opted in", func(t *testing.T) {
		plain, _ := f.dialWithKey(t, f.key, keyID, encryption.WithClientOptions(func(o *client.Options) {
			o.ContextPropagators = []workflow.ContextPropagator{tenantPropagator{}}
		}))
		tenant := "tenant-in-clear-" + marker(t, "plain")[7:19]
		id := "c03-" + tenant
		ctx := testContext(t)
		wr, err := plain.ExecuteWorkflow(withTenant(ctx, tenant), client.StartWorkflowOptions{
			ID: id, TaskQueue: taskQueue,
		}, Echo, "x")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := wr.Get(ctx, &got); err != nil || !reflect.DeepEqual(got, []string{"x", tenant}) {
			t.Fatalf("result %v, %v; want the tenant read by the worker", got, err)
		}
		reps := auditTree(t, f.raw, id, wr.GetRunID())
		plaintext := reps[0].Plaintext()
		if len(plaintext) != 1 || !strings.Contains(plaintext[0].Path, `header.fields["tenant"]`) {
			t.Fatalf("plaintext payloads %v, want exactly the tenant header", plaintext)
		}
	})
}

// TestC04NestedFailures is case C04: an application error three causes
// deep, from an activity and through a child workflow, reaches the caller
// equal to the original at every level, with every message and detail
// encrypted on the way and no workflow task failing.
func TestC04NestedFailures(t *testing.T) {
	f := setup(t)
	tests := []struct {
		name      string
		workflow  any
		wrappers  int // SDK errors around the application error
		wantChild bool
	}{
		{"activity", NestedFailure, 2, false},
		{"child workflow", NestedFailureParent, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMarkers(t, "c04")
			id := "c04-" + m.Input[7:19]
			ctx := testContext(t)
			wr, err := f.enc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, tt.workflow, m)
			if err != nil {
				t.Fatal(err)
			}
			err = wr.Get(ctx, nil)

			var wfErr *temporal.WorkflowExecutionError
			var actErr *temporal.ActivityError
			var childErr *temporal.ChildWorkflowExecutionError
			if !errors.As(err, &wfErr) || !errors.As(err, &actErr) {
				t.Fatalf("error %v, want a workflow execution error around an activity error", err)
			}
			if got := errors.As(err, &childErr); got != tt.wantChild {
				t.Errorf("child workflow error in the chain: %v, want %v", got, tt.wantChild)
			}
			if got, want := chain(err), chain(nestedError(m)); !reflect.DeepEqual(got, want) {
				t.Errorf("caller sees\n %+v\nwant the original\n %+v", got, want)
			}
			if got := chain(err); !reflect.DeepEqual(got, wantChain(m)) {
				t.Errorf("chain %+v differs from the levels built", got)
			}

			reps := auditTree(t, f.raw, id, wr.GetRunID(), m.all()...)
			requireClean(t, reps)
			var failed int
			for _, rep := range reps {
				failed += countEvents(rep.Events, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED)
			}
			if failed != 1 {
				t.Errorf("%d activity attempts failed, want 1 (the error is non-retryable)", failed)
			}
		})
	}
}

// TestC06SystemOperations is case C06 for queries the SDK answers itself
// and for signal-with-start: they work through the encrypting converters,
// over the API and through the CLI with the codec server, and answer in
// ciphertext.
func TestC06SystemOperations(t *testing.T) {
	f := setup(t)
	ctx := testContext(t)
	in, sig, details := marker(t, "c06-in"), marker(t, "c06-signal"), marker(t, "c06-tenant")
	id := "c06-" + in[7:19]

	wr, err := f.enc.ExecuteWorkflow(withTenant(ctx, details), client.StartWorkflowOptions{
		ID: id, TaskQueue: taskQueue,
	}, WaitForSignal, in)
	if err != nil {
		t.Fatal(err)
	}
	waitForTask(t, f, id)

	t.Run("stack trace", func(t *testing.T) {
		v, err := f.enc.QueryWorkflow(ctx, id, "", "__stack_trace")
		var trace string
		if err != nil || v.Get(&trace) != nil || !strings.Contains(trace, "WaitForSignal") {
			t.Fatalf("__stack_trace = %q, %v; want a trace through WaitForSignal", trace, err)
		}
		rawQuery(t, f, id, "", "__stack_trace", nil, in, details)
	})
	t.Run("metadata", func(t *testing.T) {
		v, err := f.enc.QueryWorkflow(ctx, id, "", "__temporal_workflow_metadata")
		var md sdkpb.WorkflowMetadata
		if err != nil || v.Get(&md) != nil || md.GetDefinition().GetType() != "WaitForSignal" {
			t.Fatalf("__temporal_workflow_metadata = %v, %v; want the WaitForSignal definition", &md, err)
		}
		rawQuery(t, f, id, "", "__temporal_workflow_metadata", nil, in, details)
	})
	t.Run("CLI", func(t *testing.T) {
		for cmd, want := range map[string]string{"stack": "WaitForSignal", "metadata": "__stack_trace"} {
			out := runCLI(t, f, "workflow", cmd, "--workflow-id", id)
			if !strings.Contains(out, want) {
				t.Errorf("temporal workflow %s printed:\n%s\nwant the decoded answer, with %q", cmd, out, want)
			}
		}
	})

	t.Run("signal-with-start", func(t *testing.T) {
		// Once into the running workflow, once starting a new one.
		fresh := id + "-fresh"
		for _, target := range []string{id, fresh} {
			run, err := f.enc.SignalWithStartWorkflow(withTenant(ctx, details), target, "nudge", sig,
				client.StartWorkflowOptions{ID: target, TaskQueue: taskQueue}, WaitForSignal, in)
			if err != nil {
				t.Fatalf("SignalWithStartWorkflow %s: %v", target, err)
			}
			var got []string
			if err := run.Get(ctx, &got); err != nil || !reflect.DeepEqual(got, []string{in, sig, details}) {
				t.Errorf("workflow %s returned %v, %v", target, got, err)
			}
			requireClean(t, auditTree(t, f.raw, target, run.GetRunID(), in, sig, details))
		}
		if wr.GetRunID() == "" {
			t.Error("no run ID")
		}
	})
}

// TestC06WorkerVersioning is case C06 for worker deployment data: a
// versioned worker runs encrypted workflows, deployment names and build
// IDs stay readable, and version metadata is encrypted unless the caller
// passes a payload made with the plain converter.
func TestC06WorkerVersioning(t *testing.T) {
	f := setup(t)
	ctx := testContext(t)
	suffix := marker(t, "v")[7:19]
	deployment, buildID, queue := "coverage-"+suffix, "build-"+suffix, "coverage-versioned-"+suffix

	w := worker.New(f.enc, queue, worker.Options{
		DeploymentOptions: worker.DeploymentOptions{
			UseVersioning:             true,
			Version:                   worker.WorkerDeploymentVersion{DeploymentName: deployment, BuildID: buildID},
			DefaultVersioningBehavior: workflow.VersioningBehaviorPinned,
		},
	})
	w.RegisterWorkflow(Echo)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	h := f.enc.WorkerDeploymentClient().GetHandle(deployment)
	var setErr error
	eventually(t, 20*time.Second, func() bool {
		_, setErr = h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: buildID})
		return setErr == nil || isUnsupported(setErr)
	}, func() string { return fmt.Sprintf("SetCurrentVersion: %v", setErr) })
	if isUnsupported(setErr) {
		t.Skipf("the dev server does not support worker deployments: %v", setErr)
	}

	in, secret := marker(t, "c06-versioned"), marker(t, "c06-deploy-meta")
	wr, err := f.enc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "c06-" + suffix, TaskQueue: queue}, Echo, in)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := wr.Get(ctx, &got); err != nil || got[0] != in {
		t.Fatalf("versioned workflow returned %v, %v", got, err)
	}
	reps := auditTree(t, f.raw, "c06-"+suffix, wr.GetRunID(), in)
	requireClean(t, reps)
	desc, err := rawDescribe(ctx, f.raw, "c06-"+suffix, wr.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	vi := desc.GetWorkflowExecutionInfo().GetVersioningInfo()
	if v := vi.GetDeploymentVersion(); v.GetDeploymentName() != deployment || v.GetBuildId() != buildID {
		t.Errorf("versioning info %v, want deployment %s build %s readable", vi, deployment, buildID)
	}

	readable, err := converter.GetDefaultDataConverter().ToPayload("release-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.UpdateVersionMetadata(ctx, client.WorkerDeploymentUpdateVersionMetadataOptions{
		Version: worker.WorkerDeploymentVersion{DeploymentName: deployment, BuildID: buildID},
		MetadataUpdate: client.WorkerDeploymentMetadataUpdate{UpsertEntries: map[string]any{
			"owner":   secret,   // through the data converter: encrypted
			"release": readable, // a payload: stored as given
		}},
	})
	if err != nil {
		t.Fatalf("UpdateVersionMetadata: %v", err)
	}
	vd, err := f.raw.WorkflowService().DescribeWorkerDeploymentVersion(ctx,
		&workflowservice.DescribeWorkerDeploymentVersionRequest{
			Namespace:         namespace,
			DeploymentVersion: &deploymentpb.WorkerDeploymentVersion{DeploymentName: deployment, BuildId: buildID},
		})
	if err != nil {
		t.Fatal(err)
	}
	entries := vd.GetWorkerDeploymentVersionInfo().GetMetadata().GetEntries()
	if enc := string(entries["owner"].GetMetadata()["encoding"]); enc != codec.EncodingEncrypted {
		t.Errorf("metadata owner: encoding %q, want %q", enc, codec.EncodingEncrypted)
	}
	if got := jsonString(t, entries["release"]); got != `"release-1"` {
		t.Errorf("metadata release = %s, want it readable", got)
	}
	if strings.Contains(vd.String(), secret) {
		t.Error("deployment version description holds the secret in clear")
	}
}

func isUnsupported(err error) bool {
	var unimpl *serviceerror.Unimplemented
	var denied *serviceerror.PermissionDenied
	return errors.As(err, &unimpl) || errors.As(err, &denied)
}

// TestC07UndecodableSignal is case C07: a client with a key the worker
// lacks signals a running workflow. The SDK drops the signal after one
// decode attempt; the workflow keeps waiting without failing any task, and
// completes on the next signal it can read. The plugin counts the failure
// and logs the key ID and workflow ID, never the payload.
func TestC07UndecodableSignal(t *testing.T) {
	f := setup(t)
	ctx := testContext(t)
	in, bad, good := marker(t, "c07-in"), marker(t, "c07-rogue"), marker(t, "c07-good")
	id := "c07-" + in[7:19]

	wr, err := f.enc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, WaitForSignal, in)
	if err != nil {
		t.Fatal(err)
	}
	waitForTask(t, f, id)
	before := f.plugin.DecodeFailures()

	rogue, _ := f.dialWithKey(t, "", "rogue-key")
	if err := rogue.SignalWorkflow(ctx, id, "", "nudge", bad); err != nil {
		t.Fatalf("rogue signal: %v", err)
	}
	eventually(t, 20*time.Second, func() bool { return len(f.failures.forWorkflow(id)) > 0 },
		func() string { return "the worker reported no decode failure for the rogue signal" })

	// Still running, and no task failed: the workflow neither hangs in a
	// retry loop nor fails.
	desc, err := rawDescribe(ctx, f.raw, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("after the rogue signal the workflow is %v, want running", st)
	}

	if err := f.enc.SignalWorkflow(ctx, id, "", "nudge", good); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := wr.Get(ctx, &got); err != nil || !reflect.DeepEqual(got, []string{in, good, ""}) {
		t.Fatalf("workflow returned %v, %v; want the good signal", got, err)
	}

	reps := auditTree(t, f.raw, id, wr.GetRunID(), in, bad, good)
	requireClean(t, reps)
	if ids := reps[0].KeyIDs(); ids["rogue-key"] != 1 {
		t.Errorf("payloads by key %v, want the rogue signal under rogue-key", ids)
	}

	fails := f.failures.forWorkflow(id)
	for _, d := range fails {
		if d.KeyID != "rogue-key" || d.Namespace != namespace || d.Reason != encryption.ReasonUnknownKey {
			t.Errorf("decode failure %+v, want key rogue-key, namespace %s, reason %s",
				d, namespace, encryption.ReasonUnknownKey)
		}
	}
	if n := f.plugin.DecodeFailures() - before; n < uint64(len(fails)) || n == 0 {
		t.Errorf("DecodeFailures grew by %d, want at least %d", n, len(fails))
	}
	var ours, sdks int
	for _, line := range f.sdkLog.Lines(id) {
		if !strings.Contains(line, "rogue-key") {
			continue
		}
		if strings.Contains(line, "encryption: payload could not be decoded") {
			ours++
		}
		if strings.Contains(line, "Corrupted signal") {
			sdks++
		}
	}
	if ours == 0 || sdks == 0 {
		t.Errorf("log lines naming %s and rogue-key: %d from the plugin, %d from the SDK; want both",
			id, ours, sdks)
	}
	for _, m := range []string{bad, good, in} {
		if strings.Contains(f.sdkLog.String(), m) {
			t.Errorf("the worker log holds payload content %q", m)
		}
	}
}

// TestC01ScheduleMemo is case C01 for schedules: the schedule's memo, and
// its action's arguments, memo, summary and header, are encrypted in the
// schedule's description and listing, and in the workflow it starts.
func TestC01ScheduleMemo(t *testing.T) {
	f := setup(t)
	ctx := testContext(t)
	memo, arg, actionMemo, summary, tenant := marker(t, "sched-memo"), marker(t, "sched-arg"),
		marker(t, "sched-action-memo"), marker(t, "sched-summary"), marker(t, "sched-tenant")
	canaries := []string{memo, arg, actionMemo, summary, tenant}
	id := "c01-schedule-" + memo[7:19]

	h, err := f.enc.ScheduleClient().Create(withTenant(ctx, tenant), client.ScheduleOptions{
		ID:   id,
		Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}},
		Action: &client.ScheduleWorkflowAction{
			ID:            id + "-run",
			Workflow:      Echo,
			Args:          []any{arg},
			TaskQueue:     taskQueue,
			Memo:          map[string]any{"note": actionMemo},
			StaticSummary: summary,
		},
		Memo:               map[string]any{"note": memo},
		TriggerImmediately: true,
	})
	if err != nil {
		t.Fatalf("create schedule: %v", err)
	}
	t.Cleanup(func() { _ = h.Delete(context.Background()) })

	raw, err := f.raw.WorkflowService().DescribeSchedule(ctx, &workflowservice.DescribeScheduleRequest{
		Namespace: namespace, ScheduleId: id,
	})
	if err != nil {
		t.Fatal(err)
	}
	requireSealed(t, "schedule description", raw, canaries...)
	scheduleMemo := raw.GetMemo().GetFields()["note"]
	if got := jsonString(t, decodeWithServer(t, f, scheduleMemo)[0]); got != `"`+memo+`"` {
		t.Errorf("codec server decoded the schedule memo to %s", got)
	}

	eventually(t, 10*time.Second, func() bool {
		list, err := f.raw.WorkflowService().ListSchedules(ctx, &workflowservice.ListSchedulesRequest{Namespace: namespace})
		if err != nil {
			return false
		}
		for _, e := range list.GetSchedules() {
			if e.GetScheduleId() == id {
				requireSealed(t, "schedule list entry", e, canaries...)
				return true
			}
		}
		return false
	}, func() string { return "schedule not listed" })

	var started *client.ScheduleWorkflowExecution
	eventually(t, 20*time.Second, func() bool {
		d, err := h.Describe(ctx)
		if err == nil && len(d.Info.RecentActions) > 0 {
			started = d.Info.RecentActions[0].StartWorkflowResult
		}
		return started != nil
	}, func() string { return "the schedule started no workflow" })
	var got []string
	run := f.enc.GetWorkflow(ctx, started.WorkflowID, started.FirstExecutionRunID)
	if err := run.Get(ctx, &got); err != nil || !reflect.DeepEqual(got, []string{arg, tenant}) {
		t.Fatalf("scheduled workflow returned %v, %v; want its argument and tenant", got, err)
	}
	requireClean(t, auditTree(t, f.raw, started.WorkflowID, started.FirstExecutionRunID, canaries...))
}

// waitForTask waits until the workflow's first task has completed, so that
// its handlers are registered.
func waitForTask(t *testing.T, f *fixture, id string) {
	t.Helper()
	eventually(t, 20*time.Second, func() bool {
		it := f.raw.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				return false
			}
			if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
				return true
			}
		}
		return false
	}, func() string { return "workflow " + id + " completed no task" })
}

// runCLI runs the pinned Temporal CLI against the dev server with the
// codec server, and returns its output.
func runCLI(t *testing.T, f *fixture, args ...string) string {
	t.Helper()
	cli, err := devserver.CLIPath()
	if err != nil {
		t.Fatalf("%v\nhint: %s", err, devserver.Hint)
	}
	args = append(args, "--address", f.srv.HostPort(), "--namespace", namespace,
		"--codec-endpoint", f.codecServer.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, args...)
	cmd.Env = append(cmd.Environ(), "TEMPORAL_VERSION_CHECK_DISABLED=1", "TEMPORAL_CONFIG_FILE=/nonexistent")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("temporal %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// downKeys is a key source in an outage, as a KMS that cannot be reached
// looks to the codec.
type downKeys struct{}

func (downKeys) EncryptionKey(context.Context) (*codec.Key, error) {
	return nil, fmt.Errorf("%w: test outage", codec.ErrUnavailable)
}

func (downKeys) DecryptionKey(context.Context, codec.KeyRef) (*codec.Key, error) {
	return nil, fmt.Errorf("%w: test outage", codec.ErrUnavailable)
}

// TestC01MemoWhenEncryptionFails pins the one memo path the SDK itself
// leaves open: when the data converter fails on a memo value, the SDK
// stores the value with the default converter, in clear, and starts the
// workflow anyway. A workflow with no arguments and a memo, started during
// a key-source outage, shows it. With the plugin the start fails instead.
func TestC01MemoWhenEncryptionFails(t *testing.T) {
	f := setup(t)
	ctx := testContext(t)
	c, err := codec.New(downKeys{})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("codec.NewDataConverter alone", func(t *testing.T) {
		dc := codec.NewDataConverter(c)
		cl, err := client.NewClientFromExisting(f.raw, client.Options{
			Namespace: namespace, DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		note := marker(t, "memo-fallback")
		id := "c01-fallback-" + note[7:19]
		wr, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: "coverage-idle", Memo: map[string]any{"note": note},
		}, "NoArguments")
		if err != nil {
			t.Fatalf("start = %v; the SDK was expected to fall back and start the workflow", err)
		}
		defer func() { _ = f.raw.TerminateWorkflow(ctx, id, wr.GetRunID(), "test done") }()

		desc, err := rawDescribe(ctx, f.raw, id, wr.GetRunID())
		if err != nil {
			t.Fatal(err)
		}
		p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()["note"]
		enc := string(p.GetMetadata()["encoding"])
		if enc != "json/plain" || !strings.Contains(string(p.GetData()), note) {
			t.Fatalf("memo stored with encoding %q; the SDK's plaintext fallback has changed: "+
				"update docs/what-is-encrypted.md", enc)
		}
	})

	t.Run("plugin", func(t *testing.T) {
		p, err := encryption.NewPlugin(c)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := client.NewClientFromExisting(f.raw, client.Options{
			Namespace: namespace, Plugins: []client.Plugin{p},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		note := marker(t, "memo-guarded")
		id := "c01-guarded-" + note[7:19]
		_, err = cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: "coverage-idle", Memo: map[string]any{"note": note},
		}, "NoArguments")
		if err == nil || !strings.Contains(err.Error(), "key source unavailable") {
			t.Fatalf("start = %v, want the key source's error", err)
		}
		if _, err := rawDescribe(ctx, f.raw, id, ""); err == nil {
			t.Fatal("the workflow was started")
		}
	})
}

// UpsertNote upserts a memo value derived from its workflow ID and then
// waits for a signal. It writes nothing else a codec would have to encode,
// so that with a key source in an outage its first task can complete.
func UpsertNote(ctx workflow.Context) error {
	// An error from UpsertMemo is the guard at work; returning it would
	// need the codec too, so wait either way.
	note := upsertNote(workflow.GetInfo(ctx).WorkflowExecution.ID)
	_ = workflow.UpsertMemo(ctx, map[string]any{"note": note})
	workflow.GetSignalChannel(ctx, "never").Receive(ctx, nil)
	return nil
}

func upsertNote(workflowID string) string { return "CANARY-upserted-note-of-" + workflowID }

// TestC01UpsertMemoWhenEncryptionFails is the workflow side of
// TestC01MemoWhenEncryptionFails: a worker whose key source is down
// upserts a memo. Without the plugin the SDK stores it in clear; with it,
// nothing is stored and the task is retried.
func TestC01UpsertMemoWhenEncryptionFails(t *testing.T) {
	f := setup(t)
	ctx := testContext(t)
	c, err := codec.New(downKeys{})
	if err != nil {
		t.Fatal(err)
	}
	dc := codec.NewDataConverter(c)
	p, err := encryption.NewPlugin(c)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   client.Options
		leaked bool
	}{
		{"codec.NewDataConverter alone",
			client.Options{DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc)}, true},
		{"plugin", client.Options{Plugins: []client.Plugin{p}}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Namespace = namespace
			tt.opts.Logger = bufferLogger(&lockedBuffer{})
			cl, err := client.NewClientFromExisting(f.raw, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			queue := fmt.Sprintf("coverage-down-%d-%s", i, marker(t, "q")[7:19])
			w := worker.New(cl, queue, worker.Options{})
			w.RegisterWorkflow(UpsertNote)
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			defer w.Stop()

			// Started by the codec-less client: no arguments to encode.
			id := "c01-upsert-" + queue
			wr, err := f.raw.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, "UpsertNote")
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = f.raw.TerminateWorkflow(ctx, id, wr.GetRunID(), "test done") }()

			// Wait for the worker to have answered a task.
			var events []*historypb.HistoryEvent
			eventually(t, 20*time.Second, func() bool {
				events = history(t, f.raw, run{id, wr.GetRunID()})
				return countEvents(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)+
					countEvents(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED) > 0
			}, func() string { return "the worker answered no task" })

			rep := auditTree(t, f.raw, id, wr.GetRunID(), upsertNote(id))[0]
			if leaked := len(rep.CanaryHits) > 0; leaked != tt.leaked {
				t.Errorf("memo in clear: %v, want %v (%s)", leaked, tt.leaked, rep.Verdict())
			}
			modified := countEvents(events, enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)
			if tt.leaked != (modified == 1) {
				t.Errorf("%d memo upserts recorded, want %d", modified, map[bool]int{true: 1}[tt.leaked])
			}
		})
	}
}
