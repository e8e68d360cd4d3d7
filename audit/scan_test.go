package audit_test

import (
	"encoding/hex"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/temporal-encryption/temporal-encryption/audit"
	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
)

const (
	accountCanary = "ACCT-CANARY-7731"
	orderCanary   = "ord-canary-5c2e"
)

// sealer encrypts JSON values with the project's codec.
type sealer struct {
	t  *testing.T
	dc converter.DataConverter
}

func newSealer(t *testing.T) sealer {
	t.Helper()
	key := hex.EncodeToString(make([]byte, 32))
	ks, err := envkey.LoadFrom(func(name string) string {
		switch name {
		case envkey.VarKey:
			return key
		case envkey.VarKeyID:
			return "test-key-1"
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
	return sealer{t: t, dc: codec.NewDataConverter(c)}
}

func (s sealer) payload(v any) *commonpb.Payload {
	s.t.Helper()
	p, err := s.dc.ToPayload(v)
	if err != nil {
		s.t.Fatalf("ToPayload: %v", err)
	}
	return p
}

func plain(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatalf("ToPayload: %v", err)
	}
	return p
}

// history builds a small history: encrypted input, memo, summary and
// activity, a plaintext search attribute, an encoded failure.
func history(t *testing.T, s sealer) []*historypb.HistoryEvent {
	encodedFailure := &failurepb.Failure{
		Message:           "Encoded failure",
		Source:            "GoSDK",
		EncodedAttributes: s.payload(map[string]string{"message": "order " + orderCanary + " lost"}),
	}
	return []*historypb.HistoryEvent{
		{
			EventId:   1,
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			UserMetadata: &sdkpb.UserMetadata{
				Summary: s.payload("Trading agent for account " + accountCanary),
			},
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
				WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
					Input: &commonpb.Payloads{Payloads: []*commonpb.Payload{s.payload(accountCanary)}},
					Memo: &commonpb.Memo{Fields: map[string]*commonpb.Payload{
						"account_id": s.payload(accountCanary),
					}},
					SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
						"TradingDesk": plain(t, "equities"),
					}},
				},
			},
		},
		{
			EventId:   5,
			EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
			Attributes: &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{
				ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
					ActivityType: &commonpb.ActivityType{Name: "ExecuteTrade"},
					Input:        &commonpb.Payloads{Payloads: []*commonpb.Payload{s.payload(orderCanary)}},
					Header: &commonpb.Header{Fields: map[string]*commonpb.Payload{
						"tracing": s.payload("span"),
					}},
				},
			},
		},
		{
			EventId:   6,
			EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
			Attributes: &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{
				ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{
					Attempt:     2,
					LastFailure: encodedFailure,
				},
			},
		},
	}
}

func scan(t *testing.T, canaries []string, events []*historypb.HistoryEvent) *audit.Report {
	t.Helper()
	sc, err := audit.NewScanner(canaries...)
	if err != nil {
		t.Fatalf("NewScanner: %v", err)
	}
	for _, e := range events {
		if err := sc.ScanEvent(e); err != nil {
			t.Fatalf("ScanEvent(%d): %v", e.GetEventId(), err)
		}
	}
	return sc.Report()
}

func TestScanEncryptedHistory(t *testing.T) {
	r := scan(t, []string{accountCanary, orderCanary}, history(t, newSealer(t)))

	// Summary, input, memo, activity input, header, failure attributes.
	if len(r.Payloads) != 6 || r.Encrypted() != 6 {
		t.Errorf("%d payloads, %d encrypted; want 6 and 6: %v", len(r.Payloads), r.Encrypted(), r.Payloads)
	}
	if len(r.SearchAttributes) != 1 || r.SearchAttributes[0].Encrypted {
		t.Errorf("search attributes %v, want one plaintext payload", r.SearchAttributes)
	}
	if !r.OK() || len(r.Findings()) != 0 {
		t.Errorf("OK() = %v with findings %q, want a pass", r.OK(), r.Findings())
	}
	if ids := r.KeyIDs(); len(ids) != 1 || ids["test-key-1"] != 6 {
		t.Errorf("KeyIDs() = %v, want test-key-1 on all 6", ids)
	}
	for _, p := range r.Payloads {
		if p.Algorithm == "" {
			t.Errorf("payload %s has no algorithm", p)
		}
	}
	want := "6 payloads in history and description, all encrypted (key test-key-1), no plaintext found, " +
		"none of 2 canaries present; 1 search-attribute payload plaintext by design"
	if v := r.Verdict(); v != want {
		t.Errorf("Verdict() = %q\nwant %q", v, want)
	}

	paths := make(map[string]bool)
	for _, p := range r.Payloads {
		paths[p.Location.String()+" "+p.Path] = true
	}
	for _, want := range []string{
		"history event 1 (WorkflowExecutionStarted) user_metadata.summary",
		`history event 1 (WorkflowExecutionStarted) workflow_execution_started_event_attributes.memo.fields["account_id"]`,
		"history event 1 (WorkflowExecutionStarted) workflow_execution_started_event_attributes.input.payloads[0]",
		"history event 5 (ActivityTaskScheduled) activity_task_scheduled_event_attributes.input.payloads[0]",
		`history event 5 (ActivityTaskScheduled) activity_task_scheduled_event_attributes.header.fields["tracing"]`,
		"history event 6 (ActivityTaskStarted) activity_task_started_event_attributes.last_failure.encoded_attributes",
	} {
		if !paths[want] {
			t.Errorf("no payload at %s; have %v", want, paths)
		}
	}
}

func TestScanFindsPlaintext(t *testing.T) {
	s := newSealer(t)
	events := history(t, s)
	started := events[0].GetWorkflowExecutionStartedEventAttributes()
	started.Memo.Fields["account_id"] = plain(t, accountCanary) // memo left unencrypted
	events = append(events, &historypb.HistoryEvent{
		EventId:   7,
		EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED,
		Attributes: &historypb.HistoryEvent_ActivityTaskFailedEventAttributes{
			ActivityTaskFailedEventAttributes: &historypb.ActivityTaskFailedEventAttributes{
				Failure: &failurepb.Failure{
					Message: "outer",
					Source:  "GoSDK",
					Cause:   &failurepb.Failure{Message: "order " + orderCanary + " rejected", Source: "GoSDK"},
				},
			},
		},
	})

	r := scan(t, []string{accountCanary, orderCanary, "never-there"}, events)
	if r.OK() {
		t.Fatalf("OK() = true for a history with a plaintext memo and failure")
	}
	pt := r.Plaintext()
	if len(pt) != 1 || pt[0].Path != `workflow_execution_started_event_attributes.memo.fields["account_id"]` ||
		pt[0].Encoding != "json/plain" || pt[0].EventID != 1 {
		t.Errorf("Plaintext() = %v, want the memo field of event 1", pt)
	}
	if len(r.Failures) != 2 {
		t.Errorf("Failures = %v, want the failure and its cause", r.Failures)
	}
	hits := make(map[string]bool)
	for _, h := range r.CanaryHits {
		hits[h.String()] = true
	}
	for _, want := range []string{
		`history event 1 (WorkflowExecutionStarted) workflow_execution_started_event_attributes.memo.fields["account_id"].data: canary "` + accountCanary + `"`,
		`history event 7 (ActivityTaskFailed) activity_task_failed_event_attributes.failure.cause.message: canary "` + orderCanary + `"`,
	} {
		if !hits[want] {
			t.Errorf("no canary hit %s; have %v", want, hits)
		}
	}
	if len(r.CanaryHits) != 2 {
		t.Errorf("%d canary hits, want 2: %v", len(r.CanaryHits), r.CanaryHits)
	}
	v := r.Verdict()
	for _, want := range []string{"FAIL", "1 of 6 payloads are not encrypted", "2 failures",
		"2 of 3 canaries found in plaintext (2 places)"} {
		if !strings.Contains(v, want) {
			t.Errorf("Verdict() = %q, want it to contain %q", v, want)
		}
	}
	if n := len(r.Findings()); n != 5 {
		t.Errorf("Findings() has %d lines, want 5: %q", n, r.Findings())
	}
}

func TestScanFindsCanaryOutsideKnownFields(t *testing.T) {
	e := &historypb.HistoryEvent{EventId: 3, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED}
	// A field this build does not know, as a newer server might send.
	unknown := protowire.AppendTag(nil, 9999, protowire.BytesType)
	unknown = protowire.AppendBytes(unknown, []byte("x "+accountCanary+" y"))
	e.ProtoReflect().SetUnknown(unknown)

	r := scan(t, []string{accountCanary}, []*historypb.HistoryEvent{e})
	if len(r.CanaryHits) != 1 || r.CanaryHits[0].Path != "" || r.CanaryHits[0].EventID != 3 {
		t.Fatalf("CanaryHits = %v, want one hit in the serialized bytes of event 3", r.CanaryHits)
	}
}

func TestScanDescribeAndAny(t *testing.T) {
	s := newSealer(t)
	sc, err := audit.NewScanner(accountCanary)
	if err != nil {
		t.Fatal(err)
	}
	desc := &workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Memo: &commonpb.Memo{Fields: map[string]*commonpb.Payload{
			"owner": s.payload("someone"),
		}}},
	}
	if err := sc.Scan(audit.Location{Source: audit.SourceDescribe}, desc); err != nil {
		t.Fatal(err)
	}
	a, err := anypb.New(plain(t, accountCanary))
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Scan(audit.Location{Source: "any"}, a); err != nil {
		t.Fatal(err)
	}

	r := sc.Report()
	if len(r.Payloads) != 2 {
		t.Fatalf("Payloads = %v, want the memo and the payload inside the Any", r.Payloads)
	}
	if p := r.Payloads[0]; p.Source != audit.SourceDescribe || !p.Encrypted ||
		p.Path != `workflow_execution_info.memo.fields["owner"]` {
		t.Errorf("first payload %v, want the encrypted memo of the description", p)
	}
	if p := r.Payloads[1]; p.Encrypted || p.Path != "(temporal.api.common.v1.Payload)" {
		t.Errorf("second payload %v, want the plaintext payload inside the Any", p)
	}
	if len(r.CanaryHits) != 1 || r.CanaryHits[0].Source != "any" || r.CanaryHits[0].Path == "" {
		t.Errorf("CanaryHits = %v, want one inside the Any", r.CanaryHits)
	}
}

func TestScanRejectsBadInput(t *testing.T) {
	for _, tt := range []struct {
		name     string
		canaries []string
	}{
		{"empty canary", []string{"ok", ""}},
		{"huge canary", []string{strings.Repeat("x", audit.MaxCanaryBytes+1)}},
		{"too many", make([]string, audit.MaxCanaries+1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := audit.NewScanner(tt.canaries...); err == nil {
				t.Error("NewScanner succeeded, want an error")
			}
		})
	}

	sc, _ := audit.NewScanner()
	if err := sc.ScanEvent(nil); err == nil {
		t.Error("ScanEvent(nil) succeeded, want an error")
	}

	// A failure nested far deeper than any real one must not blow the stack.
	f := &failurepb.Failure{Message: "leaf"}
	for range 500 {
		f = &failurepb.Failure{Message: "wrap", Cause: f}
	}
	e := &historypb.HistoryEvent{
		EventId:   9,
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes{
			WorkflowExecutionFailedEventAttributes: &historypb.WorkflowExecutionFailedEventAttributes{Failure: f},
		},
	}
	if err := sc.ScanEvent(e); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("ScanEvent(deep failure) = %v, want a nesting error", err)
	}
}

func TestVerdictWithoutPayloads(t *testing.T) {
	r := scan(t, nil, []*historypb.HistoryEvent{{EventId: 1, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED}})
	if r.OK() {
		t.Error("OK() = true with nothing checked")
	}
	if v := r.Verdict(); !strings.Contains(v, "nothing was checked") {
		t.Errorf("Verdict() = %q, want it to say nothing was checked", v)
	}
}
