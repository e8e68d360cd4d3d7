package coverage_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Markers holds one unique plaintext marker for every place a payload can
// carry user data. Every field must be a string: the tests search for all
// of them.
type Markers struct {
	Input, Result                                string
	Memo, UpsertedMemo, ChildMemo                string
	Summary, Details, CurrentDetails             string
	ActivityIn, ActivityOut, ActivitySummary     string
	Heartbeat                                    string
	LocalIn, LocalOut, LocalSummary              string
	SideEffect, SideEffectSummary                string
	MutableSideEffect                            string
	TimerSummary                                 string
	ChildIn, ChildOut, ChildSummary, ChildDetail string
	ChildActivityIn, ChildActivityOut            string
	Tenant                                       string
	Signal, QueryArg, QueryResult                string
	UpdateArg, UpdateResult                      string
	ContinueAsNew                                string
	Err1, Err2, Err3                             string
	Err1Details, Err2Details, Err3Details        string
}

// newMarkers fills every field of a Markers with a marker of its own.
func newMarkers(t testing.TB, prefix string) Markers {
	t.Helper()
	var m Markers
	v := reflect.ValueOf(&m).Elem()
	for i := range v.NumField() {
		v.Field(i).SetString(marker(t, prefix+"-"+v.Type().Field(i).Name))
	}
	return m
}

// all returns every marker in m.
func (m Markers) all() []string {
	v := reflect.ValueOf(m)
	out := make([]string, v.NumField())
	for i := range out {
		out[i] = v.Field(i).String()
	}
	return out
}

// CoverageInput is the coverage workflow's input. Phase 0 does the work and
// continues as new into phase 1, which returns what phase 0 carried.
type CoverageInput struct {
	Markers   Markers
	Search    SearchValues
	Phase     int
	Carry     *CoverageResult
	Continued string
}

// SearchValues are the search attribute values the workflow upserts. They
// are not secret: search attributes stay in clear.
type SearchValues struct {
	Keyword string
	Int     int64
	Time    time.Time
	Tags    []string
}

// CoverageResult reports what the workflow saw, so the test can check that
// every value came through decryption intact.
type CoverageResult struct {
	Result                                string
	ActivityOut, ActivityTenant           string
	LocalOut, LocalTenant                 string
	SideEffect, MutableSideEffect         string
	Child                                 ChildResult
	Nested                                []Level
	Signal, Update, Continued, StartedVia string
}

// ChildResult is what the child workflow returns.
type ChildResult struct {
	Out, Tenant, ActivityOut, ActivityTenant string
}

// EchoRequest asks the Echo activity to return Out; In is only carried.
type EchoRequest struct {
	In, Out string
}

// EchoResult is Out and the tenant the activity found in its context.
type EchoResult struct {
	Out, Tenant string
}

func register(w worker.Registry) {
	w.RegisterWorkflow(CoverageWorkflow)
	w.RegisterWorkflow(CoverageChild)
	w.RegisterWorkflow(NestedFailure)
	w.RegisterWorkflow(NestedFailureParent)
	w.RegisterWorkflow(WaitForSignal)
	w.RegisterWorkflow(Echo)
	w.RegisterActivityWithOptions(echo, activity.RegisterOptions{Name: "Echo"})
	w.RegisterActivityWithOptions(failNested, activity.RegisterOptions{Name: "FailNested"})
	w.RegisterActivityWithOptions(linger, activity.RegisterOptions{Name: "Linger"})
}

func activityContext(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             summary,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
}

// CoverageWorkflow produces a payload of every kind, each carrying a marker.
func CoverageWorkflow(ctx workflow.Context, in CoverageInput) (CoverageResult, error) {
	m := in.Markers
	if in.Phase == 1 {
		res := *in.Carry
		res.Continued = in.Continued
		res.Result = m.Result
		return res, nil
	}
	var res CoverageResult
	res.StartedVia = tenantOf(ctx)

	// Search attributes stay readable; memo and details are encrypted.
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		saKeyword.ValueSet(in.Search.Keyword), saInt.ValueSet(in.Search.Int),
		saTime.ValueSet(in.Search.Time), saTags.ValueSet(in.Search.Tags)); err != nil {
		return res, err
	}
	if err := workflow.UpsertMemo(ctx, map[string]any{"upserted": m.UpsertedMemo}); err != nil {
		return res, err
	}
	workflow.SetCurrentDetails(ctx, m.CurrentDetails)

	state := "running"
	if err := workflow.SetQueryHandlerWithOptions(ctx, "peek", func(arg string) (string, error) {
		return state + "|" + arg + "|" + m.QueryResult, nil
	}, workflow.QueryHandlerOptions{Description: "reports the workflow's state"}); err != nil {
		return res, err
	}
	var update string
	if err := workflow.SetUpdateHandler(ctx, "amend", func(ctx workflow.Context, arg string) (string, error) {
		update = arg
		return m.UpdateResult, nil
	}); err != nil {
		return res, err
	}

	var out EchoResult
	if err := workflow.ExecuteActivity(activityContext(ctx, m.ActivitySummary), "Echo",
		EchoRequest{In: m.ActivityIn, Out: m.ActivityOut}).Get(ctx, &out); err != nil {
		return res, err
	}
	res.ActivityOut, res.ActivityTenant = out.Out, out.Tenant

	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             m.LocalSummary,
	})
	if err := workflow.ExecuteLocalActivity(lctx, echo, EchoRequest{In: m.LocalIn, Out: m.LocalOut}).
		Get(ctx, &out); err != nil {
		return res, err
	}
	res.LocalOut, res.LocalTenant = out.Out, out.Tenant

	if err := workflow.SideEffectWithOptions(ctx, workflow.SideEffectOptions{Summary: m.SideEffectSummary},
		func(workflow.Context) any { return m.SideEffect }).Get(&res.SideEffect); err != nil {
		return res, err
	}
	if err := workflow.MutableSideEffect(ctx, "coverage", func(workflow.Context) any { return m.MutableSideEffect },
		func(a, b any) bool { return a == b }).Get(&res.MutableSideEffect); err != nil {
		return res, err
	}
	workflow.GetVersion(ctx, "coverage-change", workflow.DefaultVersion, 1)
	if err := workflow.NewTimerWithOptions(ctx, 10*time.Millisecond,
		workflow.TimerOptions{Summary: m.TimerSummary}).Get(ctx, nil); err != nil {
		return res, err
	}

	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:    workflow.GetInfo(ctx).WorkflowExecution.ID + "-child",
		StaticSummary: m.ChildSummary,
		StaticDetails: m.ChildDetail,
		Memo:          map[string]any{"child-note": m.ChildMemo},
	})
	if err := workflow.ExecuteChildWorkflow(cctx, CoverageChild, m).Get(ctx, &res.Child); err != nil {
		return res, err
	}

	// A failure three causes deep, caught: its messages and details are
	// in history too.
	err := workflow.ExecuteActivity(activityContext(ctx, ""), "FailNested", m).Get(ctx, nil)
	res.Nested = chain(err)

	// An activity that heartbeats while the workflow waits, so that its
	// heartbeat details are in the description.
	hctx, stopLinger := workflow.WithCancel(ctx)
	lingering := workflow.ExecuteActivity(workflow.WithActivityOptions(hctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    time.Second,
		WaitForCancellation: true,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	}), "Linger", m.Heartbeat)

	state = "waiting"
	workflow.GetSignalChannel(ctx, "nudge").Receive(ctx, &res.Signal)
	if err := workflow.Await(ctx, func() bool { return update != "" }); err != nil {
		return res, err
	}
	res.Update = update
	stopLinger()
	if err := lingering.Get(ctx, nil); !temporal.IsCanceledError(err) {
		return res, fmt.Errorf("linger activity: %w, want it canceled", err)
	}
	return res, workflow.NewContinueAsNewError(ctx, CoverageWorkflow, CoverageInput{
		Markers: m, Phase: 1, Carry: &res, Continued: m.ContinueAsNew,
	})
}

// CoverageChild runs an activity and reports what it saw.
func CoverageChild(ctx workflow.Context, m Markers) (ChildResult, error) {
	var out EchoResult
	err := workflow.ExecuteActivity(activityContext(ctx, ""), "Echo",
		EchoRequest{In: m.ChildActivityIn, Out: m.ChildActivityOut}).Get(ctx, &out)
	return ChildResult{Out: m.ChildOut, Tenant: tenantOf(ctx), ActivityOut: out.Out, ActivityTenant: out.Tenant}, err
}

// NestedFailure fails with the activity's nested error.
func NestedFailure(ctx workflow.Context, m Markers) error {
	return workflow.ExecuteActivity(activityContext(ctx, ""), "FailNested", m).Get(ctx, nil)
}

// NestedFailureParent fails with its child's failure.
func NestedFailureParent(ctx workflow.Context, m Markers) error {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID + "-child",
	})
	return workflow.ExecuteChildWorkflow(cctx, NestedFailure, m).Get(ctx, nil)
}

// WaitForSignal returns the first "nudge" signal it can decode, and what
// it was started with.
func WaitForSignal(ctx workflow.Context, in string) ([]string, error) {
	var s string
	workflow.GetSignalChannel(ctx, "nudge").Receive(ctx, &s)
	return []string{in, s, tenantOf(ctx)}, nil
}

// Echo returns its input and the tenant its header carried.
func Echo(ctx workflow.Context, in string) ([]string, error) {
	return []string{in, tenantOf(ctx)}, nil
}

func echo(ctx context.Context, req EchoRequest) (EchoResult, error) {
	t, _ := ctx.Value(tenantKey{}).(string)
	return EchoResult{Out: req.Out, Tenant: t}, nil
}

// linger heartbeats with details until it is canceled.
func linger(ctx context.Context, details string) error {
	for {
		activity.RecordHeartbeat(ctx, details)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func failNested(_ context.Context, m Markers) error {
	return nestedError(m)
}

// nestedError is an application error with causes three levels deep, each
// with its own message and details.
func nestedError(m Markers) error {
	l3 := temporal.NewNonRetryableApplicationError(m.Err3, "CoverageLevel3", nil, m.Err3Details)
	l2 := temporal.NewNonRetryableApplicationError(m.Err2, "CoverageLevel2", l3, m.Err2Details)
	return temporal.NewNonRetryableApplicationError(m.Err1, "CoverageLevel1", l2, m.Err1Details)
}

// Level is one application error of a cause chain, as a caller sees it.
type Level struct {
	Type, Message, Details string
	NonRetryable           bool
}

// chain lists the application errors in err's cause chain, outermost
// first, skipping the SDK's wrappers (activity, child and workflow
// execution errors).
func chain(err error) []Level {
	var out []Level
	for err != nil {
		var app *temporal.ApplicationError
		if !errors.As(err, &app) {
			break
		}
		l := Level{Type: app.Type(), Message: app.Message(), NonRetryable: app.NonRetryable()}
		if app.HasDetails() {
			if derr := app.Details(&l.Details); derr != nil {
				l.Details = fmt.Sprintf("undecodable: %v", derr)
			}
		}
		out = append(out, l)
		err = app.Unwrap()
	}
	return out
}

// tenantPropagator carries a tenant name in header "tenant". It writes the
// header with the plain converter, as the SDK requires of a propagator
// whose headers the codec encodes.
type tenantPropagator struct{}

type tenantKey struct{}

const tenantHeader = "tenant"

func (tenantPropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	return injectTenant(ctx.Value(tenantKey{}), w)
}

func (tenantPropagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	return injectTenant(ctx.Value(tenantKey{}), w)
}

func injectTenant(v any, w workflow.HeaderWriter) error {
	t, ok := v.(string)
	if !ok {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(t)
	if err != nil {
		return err
	}
	w.Set(tenantHeader, p)
	return nil
}

func (tenantPropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	t, err := extractTenant(r)
	if err != nil || t == "" {
		return ctx, err
	}
	return context.WithValue(ctx, tenantKey{}, t), nil
}

func (tenantPropagator) ExtractToWorkflow(
	ctx workflow.Context, r workflow.HeaderReader,
) (workflow.Context, error) {
	t, err := extractTenant(r)
	if err != nil || t == "" {
		return ctx, err
	}
	return workflow.WithValue(ctx, tenantKey{}, t), nil
}

func extractTenant(r workflow.HeaderReader) (string, error) {
	p, ok := r.Get(tenantHeader)
	if !ok {
		return "", nil
	}
	var t string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &t); err != nil {
		return "", fmt.Errorf("tenant header: %w", err)
	}
	return t, nil
}

func tenantOf(ctx workflow.Context) string {
	t, _ := ctx.Value(tenantKey{}).(string)
	return t
}

// withTenant returns ctx carrying tenant t, for the propagator to inject.
func withTenant(ctx context.Context, t string) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}
