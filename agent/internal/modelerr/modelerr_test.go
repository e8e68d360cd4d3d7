package modelerr

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/temporal-encryption/temporal-encryption/agent"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{"none", http.Header{}, 0, false},
		{"seconds", http.Header{"Retry-After": {"12"}}, 12 * time.Second, true},
		{"date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second, true},
		{"past date", http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0, true},
		{"milliseconds first", http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond, true},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0, false},
		{"negative", http.Header{"Retry-After": {"-3"}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := RetryAfter(tt.header, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RetryAfter(%v) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	err := Status("p", 429, http.Header{"Retry-After": {"3600"}}, "rate_limit_exceeded", "has spaces", time.Minute)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != agent.ErrTypeModelRateLimited || app.NonRetryable() ||
		app.NextRetryDelay() != time.Minute {
		t.Fatalf("Status(429) = %v, want retryable, delay capped at 1m", err)
	}
	if want := "p: HTTP 429 Too Many Requests (rate_limit_exceeded); retry after 1m0s"; app.Message() != want {
		t.Errorf("message %q, want %q", app.Message(), want)
	}
	if err := Transport(context.Background(), "p", errors.New("boom")); !errors.As(err, &app) ||
		app.Type() != agent.ErrTypeModelUnavailable || app.NonRetryable() {
		t.Errorf("Transport = %v, want a retryable %s", err, agent.ErrTypeModelUnavailable)
	}
	if got := Redact("a sk-1 b sk-1", "sk-1"); got != "a [redacted] b [redacted]" {
		t.Errorf("Redact = %q", got)
	}
}
