package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// Report is what an audit found. Payloads, SearchAttributes, Failures and
// CanaryHits are in scan order.
type Report struct {
	// WorkflowID and RunID name the audited execution.
	WorkflowID string
	RunID      string

	// Events is the number of history events scanned.
	Events int

	// Payloads are all payloads found outside search attributes, encrypted
	// or not.
	Payloads []Payload

	// SearchAttributes are the payloads of search attributes. The server
	// indexes them, so they are plaintext by design and not held against
	// the verdict.
	SearchAttributes []Payload

	// Failures are SDK failures with a plaintext message or stack trace.
	Failures []Failure

	// Canaries are the strings searched for; CanaryHits where they were
	// found.
	Canaries   []string
	CanaryHits []CanaryHit
}

// Encrypted returns how many of r.Payloads are ours.
func (r *Report) Encrypted() int {
	n := 0
	for _, p := range r.Payloads {
		if p.Encrypted {
			n++
		}
	}
	return n
}

// Plaintext returns the payloads of r.Payloads that are not ours.
func (r *Report) Plaintext() []Payload {
	var out []Payload
	for _, p := range r.Payloads {
		if !p.Encrypted {
			out = append(out, p)
		}
	}
	return out
}

// KeyIDs counts encrypted payloads by the key ID they name.
func (r *Report) KeyIDs() map[string]int {
	ids := make(map[string]int)
	for _, p := range r.Payloads {
		if p.Encrypted {
			ids[p.KeyID]++
		}
	}
	return ids
}

// OK reports whether the audit passed: at least one payload was found, all
// of them are ours, no SDK failure is in plaintext and no canary was found.
func (r *Report) OK() bool {
	return len(r.Payloads) > 0 && r.Encrypted() == len(r.Payloads) &&
		len(r.Failures) == 0 && len(r.CanaryHits) == 0
}

// Verdict summarizes r in one line.
func (r *Report) Verdict() string {
	if len(r.Payloads) == 0 {
		return fmt.Sprintf("no payloads in %d history events: nothing was checked", r.Events)
	}
	var b strings.Builder
	if r.OK() {
		fmt.Fprintf(&b, "%d payloads in history and description, all encrypted", len(r.Payloads))
		if ids := slices.Sorted(maps.Keys(r.KeyIDs())); len(ids) > 0 {
			fmt.Fprintf(&b, " (key %s)", strings.Join(ids, ", "))
		}
		b.WriteString(", no plaintext found")
		if len(r.Canaries) > 0 {
			fmt.Fprintf(&b, ", none of %d canaries present", len(r.Canaries))
		}
	} else {
		var problems []string
		if n := len(r.Payloads) - r.Encrypted(); n > 0 {
			problems = append(problems, fmt.Sprintf("%d of %d payloads are not encrypted", n, len(r.Payloads)))
		}
		if n := len(r.Failures); n > 0 {
			problems = append(problems, fmt.Sprintf("%d failures have plaintext messages", n))
		}
		if n := len(r.CanaryHits); n > 0 {
			found := make(map[string]bool)
			for _, h := range r.CanaryHits {
				found[h.Canary] = true
			}
			problems = append(problems, fmt.Sprintf("%d of %d canaries found in plaintext (%d places)",
				len(found), len(r.Canaries), n))
		}
		b.WriteString("FAIL: " + strings.Join(problems, "; "))
	}
	switch n := len(r.SearchAttributes); n {
	case 0:
	case 1:
		b.WriteString("; 1 search-attribute payload plaintext by design")
	default:
		fmt.Fprintf(&b, "; %d search-attribute payloads plaintext by design", n)
	}
	return b.String()
}

// Findings returns one line per problem: plaintext payloads, plaintext
// failures, canary hits. It is empty when r.OK().
func (r *Report) Findings() []string {
	var out []string
	for _, p := range r.Plaintext() {
		out = append(out, "plaintext payload: "+p.String())
	}
	for _, f := range r.Failures {
		out = append(out, f.String())
	}
	for _, h := range r.CanaryHits {
		out = append(out, h.String())
	}
	return out
}

// Workflow audits one workflow execution: every page of its history and
// its DescribeWorkflowExecution response. An empty runID means the latest
// run. c should have no codec; Workflow reads raw protos, so a codec would
// not change what it sees, but the point is to look as the server does.
//
// Workflow returns an error only when it cannot read or scan the
// execution; what it finds is in the report.
func Workflow(ctx context.Context, c client.Client, workflowID, runID string, canaries ...string) (*Report, error) {
	if c == nil {
		return nil, errors.New("audit: nil client")
	}
	if workflowID == "" {
		return nil, errors.New("audit: empty workflow ID")
	}
	s, err := NewScanner(canaries...)
	if err != nil {
		return nil, err
	}

	d, err := c.DescribeWorkflow(ctx, workflowID, runID)
	if err != nil {
		return nil, fmt.Errorf("audit: describe workflow %s: %w", workflowID, err)
	}
	desc := d.RawResponse // as the server sent it, nothing decoded
	if desc == nil {
		return nil, fmt.Errorf("audit: describe workflow %s: no response", workflowID)
	}
	if runID == "" {
		// Pin the run, so history and description are of the same one.
		runID = desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	}

	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("audit: history of workflow %s: %w", workflowID, err)
		}
		if err := s.ScanEvent(e); err != nil {
			return nil, err
		}
	}
	if err := s.Scan(Location{Source: SourceDescribe}, desc); err != nil {
		return nil, err
	}

	r := s.Report()
	r.WorkflowID, r.RunID = workflowID, runID
	return r, nil
}
