// Package modelerr turns the failures of a model service's HTTP API into
// the Temporal activity errors the agent's workflow expects, so that
// Temporal's retry policy, not the service's client library, decides what
// is retried and when.
//
// # Secrets
//
// The errors it builds carry the provider's name, the HTTP status, and the
// service's error code and type when those are short identifiers. They
// never carry the service's message text, the request URL or headers: an
// authentication error from a real service quotes part of the key, and
// whatever an activity returns is logged by the worker and stored in
// history (encrypted, but still). [Redact] removes a known key from any
// other text as a second line of defence.
package modelerr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/temporal-encryption/temporal-encryption/agent"
)

// DefaultMaxDelay is the longest Retry-After honoured unless the caller
// says otherwise; a longer one is cut to it.
const DefaultMaxDelay = 5 * time.Minute

// Status returns the activity error for an HTTP error response. code and
// kind are the service's error code and type, if it sent any; they are kept
// only when they look like identifiers. h is the response header, for
// Retry-After; maxDelay caps the delay honoured (0 means
// DefaultMaxDelay).
//
//	401, 403             non-retryable agent.ErrTypeModelAuth
//	429                  retryable agent.ErrTypeModelRateLimited, after Retry-After
//	408, 409, 5xx        retryable agent.ErrTypeModelUnavailable
//	any other status     non-retryable agent.ErrTypeModelRejected
func Status(provider string, status int, h http.Header, code, kind string, maxDelay time.Duration) error {
	if maxDelay <= 0 {
		maxDelay = DefaultMaxDelay
	}
	msg := fmt.Sprintf("%s: HTTP %d", provider, status)
	if text := http.StatusText(status); text != "" {
		msg += " " + text
	}
	var ids []string
	for _, s := range []string{kind, code} {
		if s = Token(s); s != "" && !slices.Contains(ids, s) {
			ids = append(ids, s)
		}
	}
	if len(ids) > 0 {
		msg += " (" + strings.Join(ids, ", ") + ")"
	}

	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return temporal.NewNonRetryableApplicationError(msg+": check the API key in the worker's environment",
			agent.ErrTypeModelAuth, nil)
	case status == http.StatusTooManyRequests:
		opts := temporal.ApplicationErrorOptions{}
		if d, ok := RetryAfter(h, time.Now()); ok {
			opts.NextRetryDelay = min(d, maxDelay)
			msg += fmt.Sprintf("; retry after %v", opts.NextRetryDelay)
		}
		return temporal.NewApplicationErrorWithOptions(msg, agent.ErrTypeModelRateLimited, opts)
	case status == http.StatusRequestTimeout || status == http.StatusConflict || status >= 500:
		return temporal.NewApplicationError(msg, agent.ErrTypeModelUnavailable)
	}
	return temporal.NewNonRetryableApplicationError(msg, agent.ErrTypeModelRejected, nil)
}

// Transport returns the activity error for a request that got no HTTP
// answer: retryable, unless ctx has ended, in which case ctx's error is
// returned for the SDK to report. The request URL is left out of the
// message.
func Transport(ctx context.Context, provider string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return temporal.NewApplicationError(fmt.Sprintf("%s: no answer: %v", provider, err),
		agent.ErrTypeModelUnavailable)
}

// Config returns the non-retryable error for a model that cannot work as
// configured (no API key, say).
func Config(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, agent.ErrTypeModelAuth, nil)
}

// BadReply returns the non-retryable error for a reply that does not
// parse or breaks the protocol.
func BadReply(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, agent.ErrTypeBadModelReply, nil)
}

// RetryAfter reads how long the service asked to wait: retry-after-ms
// (milliseconds, which OpenAI sends) or Retry-After (seconds or an HTTP
// date, RFC 9110 section 10.2.3). It reports false when neither is there
// or valid.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 || s > 1e6 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Token returns s if it is a short identifier (at most 64 bytes of
// letters, digits, '_', '-' and '.'), else "".
func Token(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return ""
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '.'
		if !ok {
			return ""
		}
	}
	return s
}

// Redact replaces every occurrence of secret in s. An empty secret changes
// nothing.
func Redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}
