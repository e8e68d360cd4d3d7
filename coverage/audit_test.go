package coverage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/temporal-encryption/temporal-encryption/audit"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

// run names one workflow run.
type run struct {
	WorkflowID, RunID string
}

// runReport is the audit of one run and the history it read.
type runReport struct {
	*audit.Report
	Events []*historypb.HistoryEvent
}

// auditTree audits the run of workflowID that runID names ("" for the
// latest), every run it continued as, and every child workflow any of them
// started, recursively, with a client that has no codec. It returns one
// report per run, in the order found.
func auditTree(t *testing.T, raw client.Client, workflowID, runID string, canaries ...string) []runReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var out []runReport
	queue := []run{{workflowID, runID}}
	seen := map[run]bool{}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if seen[r] {
			continue
		}
		seen[r] = true

		rep, err := audit.Workflow(ctx, raw, r.WorkflowID, r.RunID, canaries...)
		if err != nil {
			t.Fatalf("audit %s: %v", r.WorkflowID, err)
		}
		r.RunID = rep.RunID
		events := history(t, raw, r)
		out = append(out, runReport{Report: rep, Events: events})

		for _, e := range events {
			if a := e.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
				queue = append(queue, run{r.WorkflowID, a.GetNewExecutionRunId()})
			}
			if a := e.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
				ex := a.GetWorkflowExecution()
				queue = append(queue, run{ex.GetWorkflowId(), ex.GetRunId()})
			}
		}
	}
	return out
}

func history(t *testing.T, raw client.Client, r run) []*historypb.HistoryEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var events []*historypb.HistoryEvent
	it := raw.GetWorkflowHistory(ctx, r.WorkflowID, r.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", r.WorkflowID, err)
		}
		events = append(events, e)
	}
	return events
}

// requireClean fails t for every finding in reports: a payload outside
// search attributes that is not ours, an SDK failure in clear, a canary.
// It also fails on workflow task failures, which mean a task could not
// decode what it was given and was retried.
func requireClean(t *testing.T, reports []runReport) {
	t.Helper()
	for _, r := range reports {
		if !r.OK() {
			t.Errorf("workflow %s run %s: %s", r.WorkflowID, r.RunID, r.Verdict())
			for _, f := range r.Findings() {
				t.Errorf("  %s", f)
			}
		}
		for _, p := range r.SearchAttributes {
			if p.Encrypted {
				t.Errorf("workflow %s: search attribute %s is encrypted; the server could not index it",
					r.WorkflowID, p)
			}
		}
		if n := countEvents(r.Events, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED); n > 0 {
			t.Errorf("workflow %s run %s: %d workflow task failures", r.WorkflowID, r.RunID, n)
		}
	}
}

func countEvents(events []*historypb.HistoryEvent, typ enumspb.EventType) int {
	n := 0
	for _, e := range events {
		if e.GetEventType() == typ {
			n++
		}
	}
	return n
}

// rawDescribe returns the server's DescribeWorkflowExecution response,
// undecoded.
func rawDescribe(
	ctx context.Context, c client.Client, id, runID string,
) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	d, err := c.DescribeWorkflow(ctx, id, runID)
	if err != nil {
		return nil, err
	}
	return d.RawResponse, nil
}

// payloadsAt returns the payloads in msg whose field path contains sub.
func payloadsAt(msg proto.Message, sub string) []*commonpb.Payload {
	var out []*commonpb.Payload
	walkPayloads(msg, "", func(path string, p *commonpb.Payload) {
		if strings.Contains(path, sub) {
			out = append(out, p)
		}
	})
	return out
}

// decodeWithServer asks the codec server to decode payloads, as the Web UI
// and the CLI do, and returns what it answered.
func decodeWithServer(t *testing.T, f *fixture, payloads ...*commonpb.Payload) []*commonpb.Payload {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, f.codecServer.URL+"/"+namespace+"/decode", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", namespace)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("codec server: %v", err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("codec server answered %s: %s", resp.Status, buf.String())
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatalf("codec server answer: %v", err)
	}
	if len(out.Payloads) != len(payloads) {
		t.Fatalf("codec server returned %d payloads for %d", len(out.Payloads), len(payloads))
	}
	for i, p := range out.Payloads {
		if string(p.GetMetadata()["encoding"]) == codec.EncodingEncrypted {
			t.Fatalf("codec server left payload %d encrypted", i)
		}
	}
	return out.Payloads
}

// jsonString decodes a json/plain payload holding a JSON value into its
// compact text, for searching.
func jsonString(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(p.GetData(), &v); err != nil {
		t.Fatalf("payload with encoding %q is not JSON: %v", p.GetMetadata()["encoding"], err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// walkPayloads calls fn with every payload in m and its field path.
func walkPayloads(m proto.Message, path string, fn func(string, *commonpb.Payload)) {
	if p, ok := m.(*commonpb.Payload); ok {
		fn(path, p)
		return
	}
	r := m.ProtoReflect()
	r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := path + "." + string(fd.Name())
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					walkPayloads(mv.Message().Interface(), name+"["+k.String()+"]", fn)
					return true
				})
			}
		case fd.IsList():
			if fd.Kind() == protoreflect.MessageKind {
				for i := range v.List().Len() {
					walkPayloads(v.List().Get(i).Message().Interface(), fmt.Sprintf("%s[%d]", name, i), fn)
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			walkPayloads(v.Message().Interface(), name, fn)
		}
		return true
	})
}
