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
