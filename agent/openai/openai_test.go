package openai_test

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
	"github.com/temporal-encryption/temporal-encryption/agent/llmtest"
	"github.com/temporal-encryption/temporal-encryption/agent/openai"
)

const testKey = "sk-test-OPENAI-5e1f0c2a9d7b"

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func newModel(t *testing.T, fake *llmtest.Server, key string) *openai.Model {
	t.Helper()
	m, err := openai.New(openai.Options{
		BaseURL: fake.URL,
		Model:   "gpt-test",
		Getenv:  env(map[string]string{openai.DefaultAPIKeyEnv: key}),
	})
	if err != nil {
		t.Fatalf("openai.New: %v", err)
	}
	return m
}

// conversations are requests at each stage of the planner's plan, built
// by running the planner itself with canned tool results.
func conversations(t *testing.T) []agent.CompletionRequest {
	t.Helper()
	msgs := []agent.Message{
		{Role: agent.RoleSystem, Content: agent.SystemPrompt},
		{Role: agent.RoleUser, Content: "Analysis only: how do AAPL and NVDA look?"},
	}
	results := map[string]string{
		agent.ToolTraderInfo: `{"account":{"id":"ACCT-1","owner":"O","cash":1000,"positions":[{"symbol":"AAPL","quantity":2,"avg_cost":150}]},` +
			`"limits":{"max_order_notional":25000,"max_position_weight":0.3,"min_cash_weight":0.05},"buying_power":1000}`,
		agent.ToolMarketData: `{"quotes":[{"symbol":"AAPL","name":"Apple","price":160,"momentum":-0.02},` +
			`{"symbol":"NVDA","name":"NVIDIA","price":120,"momentum":0.03}]}`,
		agent.ToolAnalyze: `{"account_id":"ACCT-1","cash":1000,"market_value":320,"equity":1320}`,
	}
	var out []agent.CompletionRequest
	for range 4 {
		req := agent.CompletionRequest{Messages: append([]agent.Message(nil), msgs...), Tools: agent.Tools()}
		out = append(out, req)
		resp, err := agent.RulePlanner{}.Complete(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, resp.Message)
		if len(resp.Message.ToolCalls) == 0 {
			return out
		}
		for _, c := range resp.Message.ToolCalls {
			msgs = append(msgs, agent.Message{Role: agent.RoleTool, ToolCallID: c.ID, Content: results[c.Name]})
		}
	}
	t.Fatal("the planner did not finish")
	return nil
}

// TestCompleteMatchesPlanner sends each stage of a conversation through the
// provider and the fake, and checks the reply is the planner's own: the
// request and the reply survive the wire both ways.
func TestCompleteMatchesPlanner(t *testing.T) {
	fake := llmtest.NewOpenAI(agent.RulePlanner{}, testKey)
	defer fake.Close()
	m := newModel(t, fake, testKey)

	convs := conversations(t)
	if len(convs) < 3 {
		t.Fatalf("only %d stages", len(convs))
	}
	for i, req := range convs {
		got, err := m.Complete(context.Background(), req)
		if err != nil {
			t.Fatalf("stage %d: Complete: %v", i, err)
		}
		want, _ := agent.RulePlanner{}.Complete(context.Background(), req)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stage %d: Complete = %+v, want the planner's %+v", i, got, want)
		}
	}
	if n := fake.Requests(); n != len(convs) {
		t.Errorf("fake saw %d requests, want %d", n, len(convs))
	}
	for i, b := range fake.Bodies() {
		if strings.Contains(string(b), testKey) {
			t.Errorf("request body %d holds the API key", i)
		}
	}
}

func TestCompleteErrors(t *testing.T) {
	req := agent.CompletionRequest{Messages: []agent.Message{
		{Role: agent.RoleSystem, Content: agent.SystemPrompt},
		{Role: agent.RoleUser, Content: "hello"},
	}, Tools: agent.Tools()}
	tests := []struct {
		name      string
		fault     *llmtest.Fault
		key       string // the key the worker has, if not testKey
		wantType  string
		retryable bool
		delay     time.Duration
	}{
		{name: "bad request", fault: &llmtest.Fault{Status: 400}, wantType: agent.ErrTypeModelRejected},
		{name: "wrong key", key: "sk-wrong-KEY-0042", wantType: agent.ErrTypeModelAuth},
		{name: "forbidden", fault: &llmtest.Fault{Status: 403}, wantType: agent.ErrTypeModelAuth},
		{name: "no such model", fault: &llmtest.Fault{Status: 404}, wantType: agent.ErrTypeModelRejected},
		{name: "unprocessable", fault: &llmtest.Fault{Status: 422}, wantType: agent.ErrTypeModelRejected},
		{name: "rate limited", fault: &llmtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"7"}}},
			wantType: agent.ErrTypeModelRateLimited, retryable: true, delay: 7 * time.Second},
		{name: "rate limited ms", fault: &llmtest.Fault{Status: 429,
			Header: http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"2"}}},
			wantType: agent.ErrTypeModelRateLimited, retryable: true, delay: 1500 * time.Millisecond},
		{name: "rate limited long", fault: &llmtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"86400"}}},
			wantType: agent.ErrTypeModelRateLimited, retryable: true, delay: 5 * time.Minute},
		{name: "rate limited no header", fault: &llmtest.Fault{Status: 429},
			wantType: agent.ErrTypeModelRateLimited, retryable: true},
		{name: "server error", fault: &llmtest.Fault{Status: 500}, wantType: agent.ErrTypeModelUnavailable, retryable: true},
		{name: "overloaded", fault: &llmtest.Fault{Status: 503}, wantType: agent.ErrTypeModelUnavailable, retryable: true},
		{name: "timeout", fault: &llmtest.Fault{Status: 408}, wantType: agent.ErrTypeModelUnavailable, retryable: true},
		{name: "garbage", fault: &llmtest.Fault{Status: 200, Body: `{"choices":[]}`}, wantType: agent.ErrTypeBadModelReply},
		{name: "echoing error", fault: &llmtest.Fault{Status: 401,
			Body: `{"error":{"message":"key ` + testKey + ` revoked","type":"` + testKey + `","code":"` + testKey + `"}}`},
			wantType: agent.ErrTypeModelAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := llmtest.NewOpenAI(agent.RulePlanner{}, testKey)
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
			for _, secret := range []string{testKey, key} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes the API key", err)
				}
			}
			if n := fake.Requests(); n != 1 {
				t.Errorf("%d requests, want 1: the client library must not retry on its own", n)
			}
		})
	}
}

func TestCompleteNoServer(t *testing.T) {
	fake := llmtest.NewOpenAI(agent.RulePlanner{}, testKey)
	m := newModel(t, fake, testKey)
	fake.Close()
	_, err := m.Complete(context.Background(), agent.CompletionRequest{Messages: []agent.Message{
		{Role: agent.RoleUser, Content: "hi"}}})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != agent.ErrTypeModelUnavailable || app.NonRetryable() {
		t.Fatalf("Complete with the server gone = %v, want a retryable %s", err, agent.ErrTypeModelUnavailable)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Complete(ctx, agent.CompletionRequest{Messages: []agent.Message{
		{Role: agent.RoleUser, Content: "hi"}}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Complete with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestKeyIsReadPerCall changes the key in the environment between calls:
// the provider must use the new one, and fail for good without one.
func TestKeyIsReadPerCall(t *testing.T) {
	fake := llmtest.NewOpenAI(agent.RulePlanner{}, testKey)
	defer fake.Close()
	vars := map[string]string{"MY_KEY": "sk-old"}
	m, err := openai.New(openai.Options{BaseURL: fake.URL, Model: "gpt-test", APIKeyEnv: "MY_KEY", Getenv: env(vars)})
	if err != nil {
		t.Fatal(err)
	}
	req := agent.CompletionRequest{Messages: []agent.Message{{Role: agent.RoleUser, Content: "hi"}}}
	var app *temporal.ApplicationError
	if _, err := m.Complete(context.Background(), req); !errors.As(err, &app) || app.Type() != agent.ErrTypeModelAuth {
		t.Fatalf("Complete with the old key = %v, want %s", err, agent.ErrTypeModelAuth)
	}
	vars["MY_KEY"] = testKey
	if _, err := m.Complete(context.Background(), req); err != nil {
		t.Fatalf("Complete after the key changed = %v", err)
	}
	delete(vars, "MY_KEY")
	_, err = m.Complete(context.Background(), req)
	if !errors.As(err, &app) || app.Type() != agent.ErrTypeModelAuth || !app.NonRetryable() ||
		!strings.Contains(err.Error(), "MY_KEY") {
		t.Fatalf("Complete without a key = %v, want a non-retryable %s naming MY_KEY", err, agent.ErrTypeModelAuth)
	}
}

func TestNewValidates(t *testing.T) {
	withKey := env(map[string]string{openai.DefaultAPIKeyEnv: testKey})
	tests := []struct {
		name string
		opts openai.Options
		want string
	}{
		{"no model", openai.Options{Getenv: withKey}, "no model name"},
		{"relative URL", openai.Options{Model: "m", BaseURL: "api/v1", Getenv: withKey}, "absolute"},
		{"ftp URL", openai.Options{Model: "m", BaseURL: "ftp://x/v1", Getenv: withKey}, "absolute"},
		{"credentials in URL", openai.Options{Model: "m", BaseURL: "https://u:p@x/v1", Getenv: withKey}, "credentials"},
		{"negative tokens", openai.Options{Model: "m", MaxTokens: -1, Getenv: withKey}, "max tokens"},
		{"tiny retry delay", openai.Options{Model: "m", MaxRetryDelay: time.Millisecond, Getenv: withKey}, "retry delay"},
		{"no key", openai.Options{Model: "m", Getenv: env(nil)}, openai.DefaultAPIKeyEnv + " is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openai.New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%s) = %v, want an error containing %q", tt.name, err, tt.want)
			}
		})
	}
}
