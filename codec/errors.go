package codec

import (
	"errors"
	"strconv"
)

// Errors a caller can act on. Every other reason a payload fails to decrypt
// is reported as [ErrDecrypt], so that an attacker probing with forged
// payloads learns nothing from which check failed.
var (
	// ErrDecrypt is the one error for a payload that does not authenticate:
	// wrong key, tampered ciphertext or metadata, truncation, a header that
	// names an algorithm other than its key's.
	ErrDecrypt = errors.New("codec: message authentication failed")

	// ErrUnknownKey is wrapped by [*UnknownKeyError].
	ErrUnknownKey = errors.New("codec: unknown key ID")

	// ErrUnsupportedVersion means the payload was written by a newer
	// version of this project; upgrade the reader.
	ErrUnsupportedVersion = errors.New("codec: unsupported format version")

	// ErrLegacyFormat means the payload is in the format of Temporal's
	// published encryption samples and the codec was not built
	// [WithLegacyFormat].
	ErrLegacyFormat = errors.New("codec: payload is in the legacy sample format and legacy decoding is off")

	// ErrRandom means the random source failed while drawing a nonce. The
	// payload is not encoded.
	ErrRandom = errors.New("codec: random source failed")
)

// UnknownKeyError reports a payload that names a key the key source does not
// hold, such as a key removed after a rotation.
type UnknownKeyError struct {
	ID string
}

func (e *UnknownKeyError) Error() string {
	id := e.ID
	if len(id) > 64 {
		id = id[:64] + "..."
	}
	return "codec: unknown key ID " + strconv.Quote(id)
}

// Unwrap returns [ErrUnknownKey].
func (e *UnknownKeyError) Unwrap() error { return ErrUnknownKey }

// More errors a caller can act on.
var (
	// ErrNotEncrypted is returned in strict mode for a payload that is not
	// encrypted.
	ErrNotEncrypted = errors.New("codec: payload is not encrypted and strict mode is on")

	// ErrNoNamespace means a payload is bound to its namespace and the
	// codec was not told which namespace it is decoding for.
	ErrNoNamespace = errors.New("codec: payload is bound to a namespace and none is known")

	// ErrNotBound is returned by a strict codec that binds namespaces for
	// a payload that is not bound to one, where the namespace is known.
	ErrNotBound = errors.New("codec: payload is not bound to its namespace and strict mode is on")

	// ErrPayloadTooLarge is wrapped by [*PayloadTooLargeError].
	ErrPayloadTooLarge = errors.New("codec: payload too large")

	// ErrUnavailable marks a key-source failure that may pass, such as a
	// KMS that timed out or throttled. Key sources wrap it; the codec
	// turns it into a workflow task failure, so that Temporal retries the
	// task instead of failing the workflow.
	ErrUnavailable = errors.New("codec: key source unavailable")
)

// PayloadTooLargeError reports a payload over the configured limit.
type PayloadTooLargeError struct {
	Size, Limit int
	// Decoded is true when the limit is the cap on a compressed payload's
	// decoded size rather than on the encoded payload.
	Decoded bool
}

func (e *PayloadTooLargeError) Error() string {
	what := "encoded payload"
	if e.Decoded {
		what = "decoded payload"
	}
	return "codec: " + what + " is " + strconv.Itoa(e.Size) + " bytes, over the limit of " +
		strconv.Itoa(e.Limit) + " bytes"
}

// Unwrap returns [ErrPayloadTooLarge].
func (e *PayloadTooLargeError) Unwrap() error { return ErrPayloadTooLarge }
