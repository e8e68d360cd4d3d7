package kms

import (
	"errors"
	"fmt"

	"github.com/temporal-encryption/temporal-encryption/codec"
)

// Errors a caller can act on. Every error a [Source] returns wraps at most
// one of them; none carries key material.
var (
	// ErrUnavailable means the key service could not be reached, timed out
	// or refused the request under load, and still did after the retries
	// the source allows. Trying again later may succeed. A Temporal worker
	// should fail the workflow task (so that the server retries it) rather
	// than the workflow, which the codec does for every error wrapping
	// codec.ErrUnavailable. It is that same error value.
	ErrUnavailable = codec.ErrUnavailable

	// ErrThrottled means the key service rejected requests for exceeding
	// its rate limit. Every error that wraps ErrThrottled also wraps
	// [ErrUnavailable].
	ErrThrottled = errors.New("kms: key service throttled the request")

	// ErrUnwrap means the master key refused a wrapped data key: the key
	// was wrapped under another master key or bound to another namespace or
	// algorithm, the bytes were altered, or the master key was destroyed.
	// Retrying does not help.
	ErrUnwrap = errors.New("kms: data key did not unwrap")

	// ErrNoNamespace is returned by a source built [WithRequireNamespace]
	// when the context names no Temporal namespace.
	ErrNoNamespace = errors.New("kms: no namespace in context")
)

// Unavailable marks err as a transient failure of the key service, so that
// it wraps [ErrUnavailable] and a [Source] retries it. Providers call it on
// network errors, timeouts and server-side faults.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err: err}
}

// Throttled marks err as a rate-limit rejection, so that it wraps both
// [ErrThrottled] and [ErrUnavailable].
func Throttled(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err: err, throttled: true}
}

// Unwrapped marks err as a refusal of a wrapped data key; see [ErrUnwrap].
func Unwrapped(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrUnwrap, err)
}

type transientError struct {
	err       error
	throttled bool
}

func (e *transientError) Error() string {
	if e.throttled {
		return "kms: key service throttled the request: " + e.err.Error()
	}
	return "kms: key service unavailable: " + e.err.Error()
}

func (e *transientError) Unwrap() []error {
	if e.throttled {
		return []error{ErrThrottled, ErrUnavailable, e.err}
	}
	return []error{ErrUnavailable, e.err}
}
