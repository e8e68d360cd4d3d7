package anthropic_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/agent/anthropic"
	"github.com/temporal-encryption/temporal-encryption/agent/llmtest"
)

const testKey = "sk-ant-test-0d9c8b7a6f5e"

func newModel(t *testing.T, fake *llmtest.Server, key string) *anthropic.Model {
	t.Helper()
	m, err := anthropic.New(anthropic.Options{
		BaseURL: fake.URL,
		Model:   "claude-test",
		Getenv:  func(string) string { return key },
	})
	if err != nil {
		t.Fatalf("anthropic.New: %v", err)
	}
	return m
}

// TestCompleteMatchesPlanner runs a whole planner conversation through the
// provider and the fake, with canned tool results, and checks every reply
// is the planner's own.
func TestCompleteMatchesPlanner(t *testing.T) {
	fake := llmtest.NewAnthropic(agent.RulePlanner{}, testKey)
	defer fake.Close()
	m := newModel(t, fake, testKey)

	results := map[string]string{
		agent.ToolTraderInfo: `{"account":{"id":"ACCT-1","owner":"O","cash":1000,"positions":[{"symbol":"AAPL","quantity":2,"avg_cost":150}]},` +
			`"limits":{"max_order_notional":25000,"max_position_weight":0.3,"min_cash_weight":0.05},"buying_power":1000}`,
		agent.ToolMarketData: `{"quotes":[{"symbol":"AAPL","name":"Apple","price":160,"momentum":-0.02}]}`,
		agent.ToolAnalyze:    `{"error":"agent: analysis unavailable"}`,
	}
	msgs := []agent.Message{
		{Role: agent.RoleSystem, Content: agent.SystemPrompt},
		{Role: agent.RoleUser, Content: "Dry run please: what about AAPL?"},
	}
	for turn := 0; ; turn++ {
		if turn > 5 {
			t.Fatal("no final answer after 5 turns")
		}
		req := agent.CompletionRequest{Messages: msgs, Tools: agent.Tools()}
		got, err := m.Complete(context.Background(), req)
		if err != nil {
			t.Fatalf("turn %d: Complete: %v", turn, err)
		}
		want, _ := agent.RulePlanner{}.Complete(context.Background(), req)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("turn %d: Complete = %+v, want the planner's %+v", turn, got, want)
		}
		msgs = append(msgs, got.Message)
		if len(got.Message.ToolCalls) == 0 {
			break
		}
		for _, c := range got.Message.ToolCalls {
			msgs = append(msgs, agent.Message{Role: agent.RoleTool, ToolCallID: c.ID, Content: results[c.Name]})
		}
	}
	for i, b := range fake.Bodies() {
		if strings.Contains(string(b), testKey) {
			t.Errorf("request body %d holds the API key", i)
		}
	}
}

func TestCompleteErrors(t *testing.T) {
	req := agent.CompletionRequest{Messages: []agent.Message{{Role: agent.RoleUser, Content: "hello"}}}
	tests := []struct {
		name      string
		fault     *llmtest.Fault
		key       string
		wantType  string
		retryable bool
		delay     time.Duration
	}{
		{name: "bad request", fault: &llmtest.Fault{Status: 400}, wantType: agent.ErrTypeModelRejected},
		{name: "wrong key", key: "sk-ant-wrong-77", wantType: agent.ErrTypeModelAuth},
		{name: "rate limited", fault: &llmtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"3"}}},
			wantType: agent.ErrTypeModelRateLimited, retryable: true, delay: 3 * time.Second},
		{name: "server error", fault: &llmtest.Fault{Status: 500}, wantType: agent.ErrTypeModelUnavailable, retryable: true},
		{name: "overloaded", fault: &llmtest.Fault{Status: 529}, wantType: agent.ErrTypeModelUnavailable, retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := llmtest.NewAnthropic(agent.RulePlanner{}, testKey)
			defer fake.Close()
			key := testKey
			if tt.key != "" {
				key = tt.key
			}
			if tt.fault != nil {
				fake.Fail(*tt.fault)
			}
			_, err := newModel(t, fake, key).Complete(context.Background(), req)
			var app *temporal.ApplicationError
			if !errors.As(err, &app) {
				t.Fatalf("Complete = %v, want an application error", err)
			}
			if app.Type() != tt.wantType || app.NonRetryable() == tt.retryable || app.NextRetryDelay() != tt.delay {
				t.Errorf("Complete = %q (type %s, non-retryable %v, delay %v), want type %s, non-retryable %v, delay %v",
					err, app.Type(), app.NonRetryable(), app.NextRetryDelay(), tt.wantType, !tt.retryable, tt.delay)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q quotes the API key", err)
			}
			if n := fake.Requests(); n != 1 {
				t.Errorf("%d requests, want 1: the client library must not retry on its own", n)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	key := func(string) string { return testKey }
	for _, tt := range []struct {
		name string
		opts anthropic.Options
	}{
		{"no model", anthropic.Options{Getenv: key}},
		{"bad URL", anthropic.Options{Model: "m", BaseURL: "nope", Getenv: key}},
		{"too many tokens", anthropic.Options{Model: "m", MaxTokens: 1 << 20, Getenv: key}},
		{"no key", anthropic.Options{Model: "m", Getenv: func(string) string { return "" }}},
	} {
		if _, err := anthropic.New(tt.opts); err == nil {
			t.Errorf("New(%s) succeeded, want an error", tt.name)
		}
	}
}
