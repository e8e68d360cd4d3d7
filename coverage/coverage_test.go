package coverage_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	querypb "go.temporal.io/api/query/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/temporal-encryption/temporal-encryption/audit"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

// mainRun is one run of CoverageWorkflow, shared by the tests that look
// at different parts of what it left on the server.
type mainRun struct {
	ID      string
	RunID   string
	Markers Markers
	Search  SearchValues
	Result  CoverageResult
	Reports []runReport
}

var (
	mainOnce sync.Once
	main     *mainRun
	mainErr  error
)

// coverageRun runs CoverageWorkflow once for the package and returns it.
func coverageRun(t *testing.T) *mainRun {
	t.Helper()
	f := setup(t)
	mainOnce.Do(func() {
		// A nested test so that its failures are reported where they
		// happen, whichever test asks first.
		ok := t.Run("CoverageWorkflow", func(t *testing.T) { main = runCoverage(t, f) })
		if !ok || main == nil {
			mainErr = fmt.Errorf("the coverage workflow run failed")
		}
	})
	if mainErr != nil {
		t.Fatal(mainErr)
	}
	return main
}

func runCoverage(t *testing.T, f *fixture) *mainRun {
	m := newMarkers(t, "cov")
	suffix := marker(t, "id")[len("CANARY-"):][:12]
	r := &mainRun{
		ID:      "coverage-" + suffix,
		Markers: m,
		Search: SearchValues{
			Keyword: "desk-" + suffix,
			Int:     4242,
			Time:    time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC),
			Tags:    []string{"tag-" + suffix, "equities"},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	wr, err := f.enc.ExecuteWorkflow(withTenant(ctx, m.Tenant), client.StartWorkflowOptions{
		ID:                    r.ID,
		TaskQueue:             taskQueue,
		Memo:                  map[string]any{"note": m.Memo},
		StaticSummary:         m.Summary,
		StaticDetails:         m.Details,
		TypedSearchAttributes: temporal.NewSearchAttributes(saKeyword.ValueSet(r.Search.Keyword)),
	}, CoverageWorkflow, CoverageInput{Markers: m, Search: r.Search})
	if err != nil {
		t.Fatalf("ExecuteWorkflow: %v", err)
	}
	r.RunID = wr.GetRunID()

	// Query until the workflow waits for its signal and update.
	want := "waiting|" + m.QueryArg + "|" + m.QueryResult
	var got string
	eventually(t, 30*time.Second, func() bool {
		v, err := f.enc.QueryWorkflow(ctx, r.ID, r.RunID, "peek", m.QueryArg)
		return err == nil && v.Get(&got) == nil && got == want
	}, func() string { return fmt.Sprintf("query peek = %q, want %q", got, want) })

	// While it waits, an activity heartbeats: the description holds its
	// heartbeat details, encrypted.
	eventually(t, 10*time.Second, func() bool {
		d, err := rawDescribe(ctx, f.raw, r.ID, r.RunID)
		pending := d.GetPendingActivities()
		if err != nil || len(pending) == 0 || pending[0].GetHeartbeatDetails() == nil {
			return false
		}
		requireSealed(t, "description with a pending activity", d, m.all()...)
		return true
	}, func() string { return "no pending activity with heartbeat details" })

	// The query's argument and answer cross the server encrypted too.
	arg, err := f.plugin.DataConverter().ToPayloads(m.QueryArg)
	if err != nil {
		t.Fatal(err)
	}
	answer := rawQuery(t, f, r.ID, r.RunID, "peek", arg, m.all()...)
	var decoded string
	if err := f.plugin.DataConverter().FromPayloads(answer, &decoded); err != nil || decoded != want {
		t.Errorf("raw query answer decodes to %q, %v; want %q", decoded, err, want)
	}

	// The metadata query carries the current details, encrypted.
	v, err := f.enc.QueryWorkflow(ctx, r.ID, r.RunID, "__temporal_workflow_metadata")
	var md sdkpb.WorkflowMetadata
	if err != nil || v.Get(&md) != nil || md.GetCurrentDetails() != m.CurrentDetails {
		t.Errorf("current details = %q, %v; want %q", md.GetCurrentDetails(), err, m.CurrentDetails)
	}
	rawQuery(t, f, r.ID, r.RunID, "__temporal_workflow_metadata", nil, m.all()...)

	if err := f.enc.SignalWorkflow(ctx, r.ID, r.RunID, "nudge", m.Signal); err != nil {
		t.Fatalf("SignalWorkflow: %v", err)
	}
	h, err := f.enc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: r.ID, RunID: r.RunID, UpdateName: "amend", Args: []any{m.UpdateArg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		t.Fatalf("UpdateWorkflow: %v", err)
	}
	var updated string
	if err := h.Get(ctx, &updated); err != nil || updated != m.UpdateResult {
		t.Errorf("update result = %q, %v; want %q", updated, err, m.UpdateResult)
	}

	if err := wr.Get(ctx, &r.Result); err != nil {
		t.Fatalf("workflow %s: %v", r.ID, err)
	}
	r.Reports = auditTree(t, f.raw, r.ID, r.RunID, m.all()...)
	return r
}

// TestCoverage checks that every value went through encryption and came
// back intact, and that the server holds none of them in clear.
func TestCoverage(t *testing.T) {
	r := coverageRun(t)
	m := r.Markers

	want := CoverageResult{
		Result:      m.Result,
		ActivityOut: m.ActivityOut, ActivityTenant: m.Tenant,
		LocalOut: m.LocalOut, LocalTenant: m.Tenant,
		SideEffect: m.SideEffect, MutableSideEffect: m.MutableSideEffect,
		Child: ChildResult{
			Out: m.ChildOut, Tenant: m.Tenant, ActivityOut: m.ChildActivityOut, ActivityTenant: m.Tenant,
		},
		Nested:     wantChain(m),
		Signal:     m.Signal,
		Update:     m.UpdateArg,
		Continued:  m.ContinueAsNew,
		StartedVia: m.Tenant,
	}
	if !reflect.DeepEqual(r.Result, want) {
		t.Errorf("workflow result differs from what was sent:\n got %+v\nwant %+v", r.Result, want)
	}

	// Three runs: the first, the one it continued as, and the child.
	var runs []string
	for _, rep := range r.Reports {
		runs = append(runs, rep.WorkflowID)
	}
	if wantRuns := []string{r.ID, r.ID + "-child", r.ID}; !sameElements(runs, wantRuns) {
		t.Errorf("audited runs of %v, want %v", runs, wantRuns)
	}
	requireClean(t, r.Reports)

	// Every kind of payload was there to be checked.
	first := r.Reports[0]
	wantPaths := []string{
		"workflow_execution_started_event_attributes.input",
		"workflow_execution_started_event_attributes.memo",
		"workflow_execution_started_event_attributes.header",
		"user_metadata.summary",
		"user_metadata.details",
		"upsert_workflow_search_attributes_event_attributes.search_attributes",
		"workflow_properties_modified_event_attributes.upserted_memo",
		"activity_task_scheduled_event_attributes.input",
		"activity_task_scheduled_event_attributes.header",
		"activity_task_completed_event_attributes.result",
		"marker_recorded_event_attributes.details",
		"start_child_workflow_execution_initiated_event_attributes.input",
		"start_child_workflow_execution_initiated_event_attributes.header",
		"start_child_workflow_execution_initiated_event_attributes.memo",
		"child_workflow_execution_completed_event_attributes.result",
		"activity_task_failed_event_attributes.failure.encoded_attributes",
		"activity_task_failed_event_attributes.failure.cause.cause.encoded_attributes",
		"activity_task_failed_event_attributes.failure.cause.cause.application_failure_info.details",
		"workflow_execution_signaled_event_attributes.input",
		"workflow_execution_update_accepted_event_attributes.accepted_request.input.args",
		"workflow_execution_update_completed_event_attributes.outcome.success",
		"workflow_execution_continued_as_new_event_attributes.input",
		"workflow_execution_info.memo",
	}
	for _, p := range wantPaths {
		if !hasPayloadAt(first, p) {
			t.Errorf("no payload at %s in the first run: the audit did not see that kind", p)
		}
	}
	for _, rep := range r.Reports {
		if ids := rep.KeyIDs(); len(ids) != 1 || ids[keyID] == 0 {
			t.Errorf("workflow %s: payloads name keys %v, want only %q", rep.WorkflowID, ids, keyID)
		}
	}
}

// TestSearchAttributesStayPlaintext is case C02: search attributes keep
// their standard encodings, never pass through the codec, and a list query
// finds the workflow by each of them. This pins that search attributes are
// readable by the server, as docs/what-is-encrypted.md warns.
func TestSearchAttributesStayPlaintext(t *testing.T) {
	r := coverageRun(t)
	f := setup(t)

	// The search attributes the workflow set, and the change ID it passed
	// to workflow.GetVersion, which the SDK writes into the
	// TemporalChangeVersion search attribute.
	values := []string{r.Search.Keyword, r.Search.Tags[0], "coverage-change"}
	var hits []string
	for _, rep := range r.Reports {
		if len(rep.SearchAttributes) == 0 {
			t.Errorf("workflow %s run %s: no search attribute payloads found", rep.WorkflowID, rep.RunID)
		}
		for _, p := range rep.SearchAttributes {
			if p.Encrypted || p.Encoding != "json/plain" {
				t.Errorf("search attribute %s: encoding %q, want json/plain", p, p.Encoding)
			}
		}
		// Their values are visible in the raw history.
		s, err := audit.NewScanner(values...)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range rep.Events {
			if err := s.ScanEvent(e); err != nil {
				t.Fatal(err)
			}
		}
		for _, h := range s.Report().CanaryHits {
			if !strings.Contains(h.Path, "search_attributes") {
				t.Errorf("search attribute value found outside search attributes: %s", h)
			}
			hits = append(hits, h.Canary)
		}
	}
	for _, v := range values {
		if !slices.Contains(hits, v) {
			t.Errorf("search attribute value %q not found in clear in any history", v)
		}
	}

	queries := []string{
		fmt.Sprintf("CoverageKeyword = '%s'", r.Search.Keyword),
		fmt.Sprintf("CoverageInt = %d", r.Search.Int),
		// A window, not equality: the server may store the time in
		// another textual form.
		fmt.Sprintf("CoverageTime > '%s' AND CoverageTime < '%s'",
			r.Search.Time.Add(-time.Second).Format(time.RFC3339), r.Search.Time.Add(time.Second).Format(time.RFC3339)),
		fmt.Sprintf("CoverageTags = '%s'", r.Search.Tags[0]),
	}
	for _, q := range queries {
		q := fmt.Sprintf("WorkflowId = '%s' AND %s", r.ID, q)
		var found int
		eventually(t, 10*time.Second, func() bool {
			resp, err := f.enc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: namespace, Query: q,
			})
			found = len(resp.GetExecutions())
			return err == nil && found > 0
		}, func() string { return fmt.Sprintf("list query %q found %d executions", q, found) })
	}
}

// TestC01Memo is case C01 for workflow memos: the start memo, the memo
// upserted from the workflow and the child's memo are encrypted in history
// and in the description, and the codec server decodes them.
func TestC01Memo(t *testing.T) {
	r := coverageRun(t)
	f := setup(t)
	m := r.Markers

	ctx := context.Background()
	desc, err := rawDescribe(ctx, f.raw, r.ID, r.RunID)
	if err != nil {
		t.Fatal(err)
	}
	memo := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()
	started := r.Reports[0].Events[0].GetWorkflowExecutionStartedEventAttributes().GetMemo().GetFields()
	var upserted *commonpb.Payload
	for _, e := range r.Reports[0].Events {
		if a := e.GetWorkflowPropertiesModifiedEventAttributes(); a != nil {
			upserted = a.GetUpsertedMemo().GetFields()["upserted"]
		}
	}
	var childMemo *commonpb.Payload
	for _, rep := range r.Reports {
		if rep.WorkflowID == r.ID+"-child" {
			childMemo = rep.Events[0].GetWorkflowExecutionStartedEventAttributes().GetMemo().GetFields()["child-note"]
		}
	}

	tests := []struct {
		name    string
		payload *commonpb.Payload
		want    string
	}{
		{"start memo in history", started["note"], m.Memo},
		{"start memo in description", memo["note"], m.Memo},
		{"upserted memo in history", upserted, m.UpsertedMemo},
		{"upserted memo in description", memo["upserted"], m.UpsertedMemo},
		{"child memo", childMemo, m.ChildMemo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.payload == nil {
				t.Fatal("memo field missing")
			}
			if enc := string(tt.payload.GetMetadata()["encoding"]); enc != codec.EncodingEncrypted {
				t.Fatalf("memo encoding %q, want %q", enc, codec.EncodingEncrypted)
			}
			if got := jsonString(t, decodeWithServer(t, f, tt.payload)[0]); got != `"`+tt.want+`"` {
				t.Errorf("codec server decoded memo to %s, want %q", got, tt.want)
			}
		})
	}
}

// TestC05Markers is case C05: the local activity's and side effects'
// marker events hold their results encrypted, and the codec server
// decodes them.
func TestC05Markers(t *testing.T) {
	r := coverageRun(t)
	f := setup(t)
	m := r.Markers

	found := map[string]int{} // marker: how many decoding rounds it took
	for _, e := range r.Reports[0].Events {
		a := e.GetMarkerRecordedEventAttributes()
		if a == nil {
			continue
		}
		if a.GetFailure() != nil {
			t.Errorf("marker %s carries a failure", a.GetMarkerName())
		}
		for name, ps := range a.GetDetails() {
			for round, payloads := 1, ps.GetPayloads(); len(payloads) > 0 && round <= 2; round++ {
				for _, p := range payloads {
					if enc := string(p.GetMetadata()["encoding"]); enc != codec.EncodingEncrypted {
						t.Errorf("marker %s detail %q round %d: encoding %q", a.GetMarkerName(), name, round, enc)
					}
				}
				var nested []*commonpb.Payload
				for _, p := range decodeWithServer(t, f, payloads...) {
					if inner := nestedPayloads(p); inner != nil {
						nested = append(nested, inner...)
						continue
					}
					s := jsonString(t, p)
					for _, want := range []string{m.LocalOut, m.SideEffect, m.MutableSideEffect} {
						if strings.Contains(s, want) {
							found[want] = round
						}
					}
				}
				payloads = nested
			}
		}
	}
	// The SDK records a mutable side effect's value as an encoded
	// Payloads message inside the marker's payload, so its value is
	// encrypted twice and a codec server shows it after two rounds.
	// docs/what-is-encrypted.md says so.
	for want, rounds := range map[string]int{m.LocalOut: 1, m.SideEffect: 1, m.MutableSideEffect: 2} {
		if found[want] != rounds {
			t.Errorf("marker value %q decoded after %d rounds, want %d", want, found[want], rounds)
		}
	}
}

// nestedPayloads returns the payloads inside p when p holds a
// temporal.api.common.v1.Payloads message in protobuf JSON, else nil.
func nestedPayloads(p *commonpb.Payload) []*commonpb.Payload {
	if string(p.GetMetadata()["encoding"]) != "json/protobuf" ||
		string(p.GetMetadata()["messageType"]) != "temporal.api.common.v1.Payloads" {
		return nil
	}
	var ps commonpb.Payloads
	if err := protojson.Unmarshal(p.GetData(), &ps); err != nil {
		return nil
	}
	return ps.GetPayloads()
}

// rawQuery sends a query with a client that has no codec and returns the
// answer as the server relays it, after checking that it is ours and holds
// none of the canaries.
func rawQuery(
	t *testing.T, f *fixture, id, runID, name string, args *commonpb.Payloads, canaries ...string,
) *commonpb.Payloads {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := f.raw.WorkflowService().QueryWorkflow(ctx, &workflowservice.QueryWorkflowRequest{
		Namespace: namespace,
		Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: runID},
		Query:     &querypb.WorkflowQuery{QueryType: name, QueryArgs: args},
	})
	if err != nil {
		t.Fatalf("raw query %s: %v", name, err)
	}
	requireSealed(t, "query "+name+" answer", resp, canaries...)
	return resp.GetQueryResult()
}

// requireSealed checks that every payload in msg is ours and that no
// canary appears in it.
func requireSealed(t *testing.T, what string, msg proto.Message, canaries ...string) {
	t.Helper()
	s, err := audit.NewScanner(canaries...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Scan(audit.Location{Source: what}, msg); err != nil {
		t.Fatal(err)
	}
	rep := s.Report()
	if len(rep.Payloads) == 0 {
		t.Errorf("%s: no payloads", what)
	}
	if !rep.OK() {
		t.Errorf("%s: %s", what, rep.Verdict())
		for _, f := range rep.Findings() {
			t.Errorf("  %s", f)
		}
	}
}

func wantChain(m Markers) []Level {
	return []Level{
		{Type: "CoverageLevel1", Message: m.Err1, Details: m.Err1Details, NonRetryable: true},
		{Type: "CoverageLevel2", Message: m.Err2, Details: m.Err2Details, NonRetryable: true},
		{Type: "CoverageLevel3", Message: m.Err3, Details: m.Err3Details, NonRetryable: true},
	}
}

// hasPayloadAt reports whether an audited payload's path contains sub.
func hasPayloadAt(r runReport, sub string) bool {
	for _, p := range append(slices.Clone(r.Payloads), r.SearchAttributes...) {
		if strings.Contains(p.Path, sub) {
			return true
		}
	}
	return false
}

func sameElements(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// eventually polls cond every 50 ms until it holds or timeout passes, and
// then fails t with msg().
func eventually(t *testing.T, timeout time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
