package kms

import (
	"time"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// EventKind says what an [Event] records.
type EventKind int

const (
	// EventCall is one request to the key service, successful or not.
	// Retries are separate events.
	EventCall EventKind = iota + 1
	// EventThrottled is a request the key service refused for its rate
	// limit. It follows the EventCall of the same request.
	EventThrottled
	// EventHit is a data key found in the cache.
	EventHit
	// EventMiss is a data key not in the cache (or expired, or used up).
	// Concurrent misses for one key share one flight to the key service:
	// each records EventMiss, the flight records its EventCall.
	EventMiss
	// EventNewDataKey is a new data key for encryption.
	EventNewDataKey
)

func (k EventKind) String() string {
	switch k {
	case EventCall:
		return "call"
	case EventThrottled:
		return "throttled"
	case EventHit:
		return "hit"
	case EventMiss:
		return "miss"
	case EventNewDataKey:
		return "new-data-key"
	}
	return "unknown"
}

// Op is the operation an [Event] belongs to.
type Op string

// Operations: calls to the key service, and the two sides of the cache.
const (
	OpWrap     Op = "wrap"
	OpUnwrap   Op = "unwrap"
	OpGenerate Op = "generate"
	OpEncrypt  Op = "encrypt"
	OpDecrypt  Op = "decrypt"
)

// Event is one thing a [Source] did, for metrics. It holds no key material
// and no payload content.
type Event struct {
	Kind EventKind
	Op   Op

	// MasterKey names the master key (the key ID on payloads); Namespace
	// is the Temporal namespace, or "".
	MasterKey string
	Namespace string
	Algorithm aead.ID

	// Duration and Err are set for EventCall: how long the request took
	// and how it failed, or nil. Err comes from the provider's client and
	// carries no key material.
	Duration time.Duration
	Err      error
}
