package codec

import (
	"crypto/rand"
	"fmt"
	"io"
	"sync"
)

// Option configures a [Codec]. [New] checks every option and returns an
// error for a value out of range.
type Option func(*config) error

type config struct {
	rand           io.Reader
	legacy         bool
	strict         bool
	bindNamespace  bool
	compressMin    int // 0: compression off
	maxDecoded     int
	maxPayload     int
	warnPayload    int
	onLargePayload func(SizeEvent)
	usageEvery     uint64 // 0: a quarter of each algorithm's budget
	onKeyUsage     func(KeyUsage)
}

// Defaults for the size options.
const (
	// DefaultMaxPayloadSize is Temporal's default limit on one payload,
	// 2 MiB; the server rejects anything larger.
	DefaultMaxPayloadSize = 2 << 20
	// DefaultWarnPayloadSize matches the server's default warning
	// threshold, 512 KiB.
	DefaultWarnPayloadSize = 512 << 10
	// DefaultMaxDecodedSize caps what one compressed payload may expand to.
	DefaultMaxDecodedSize = 64 << 20
	// DefaultCompressMinSize is the smallest serialized payload
	// [WithCompression] compresses when given 0.
	DefaultCompressMinSize = 256
)

func defaultConfig() config {
	return config{
		rand:        rand.Reader,
		maxDecoded:  DefaultMaxDecodedSize,
		maxPayload:  DefaultMaxPayloadSize,
		warnPayload: DefaultWarnPayloadSize,
	}
}

// WithRandom sets the source of nonces. The default is crypto/rand, which is
// the right choice outside tests. r must return cryptographically random
// bytes: two equal nonces under one key reveal the XOR of two plaintexts
// and, for AES-GCM, the authentication key. The codec serializes its reads
// from r, so r need not be safe for concurrent use. A read error or short
// read fails the encode with [ErrRandom]; the codec never seals with a
// nonce it did not fully read.
func WithRandom(r io.Reader) Option {
	return func(c *config) error {
		if r == nil {
			return fmt.Errorf("codec: WithRandom: nil reader")
		}
		c.rand = &lockedReader{r: r}
		return nil
	}
}

// lockedReader serializes reads from a reader of unknown thread safety, so
// that concurrent encodes cannot be handed the same bytes.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

// Read fills p or fails; a reader that keeps returning nothing without an
// error fails too, rather than hanging every encode.
func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, idle := 0, 0
	for n < len(p) {
		m, err := l.r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if idle++; idle == 100 {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}

// WithLegacyFormat turns on decoding of payloads in the format used by
// Temporal's published encryption samples (Go, Python, TypeScript) and the
// Python template this project grew from: encoding binary/encrypted, the key
// ID in metadata encryption-key-id, data = 12-byte nonce ‖ AES-256-GCM of the
// serialized payload, no associated data. Those payloads' metadata is not
// authenticated, so turn this on only to read history written before a
// migration. Off by default; encoding always uses the current format.
func WithLegacyFormat(on bool) Option {
	return func(c *config) error {
		c.legacy = on
		return nil
	}
}

// WithStrict makes Decode reject every payload that is not encrypted
// ([ErrNotEncrypted]) instead of passing it through, for deployments where
// nothing may be trusted that was not sealed with one of their keys. Off by
// default, so that a worker can read history written before encryption was
// turned on. Strict mode also rejects nil payloads.
func WithStrict(on bool) Option {
	return func(c *config) error {
		c.strict = on
		return nil
	}
}

// WithCompression compresses each serialized payload of at least minSize
// bytes with zstd (fastest level, content checksum on) before sealing it,
// and keeps the result only when it is smaller. minSize 0 means
// [DefaultCompressMinSize]; it must not be negative. Off by default.
//
// Compression leaks information through length: the size of a compressed
// ciphertext depends on how repetitive the plaintext is, so an attacker who
// can place chosen text next to a secret in the same payload and watch the
// sizes in history can learn the secret a byte at a time (the CRIME and
// BREACH attacks). Leave it off for payloads that mix attacker-controlled
// input with secrets.
//
// Decoding reads compressed payloads whether or not this option is set.
func WithCompression(minSize int) Option {
	return func(c *config) error {
		if minSize < 0 {
			return fmt.Errorf("codec: WithCompression: minimum size %d is negative", minSize)
		}
		if minSize == 0 {
			minSize = DefaultCompressMinSize
		}
		c.compressMin = minSize
		return nil
	}
}

// WithMaxDecodedSize caps how large one compressed payload may become when
// decoded, so that a small payload cannot expand into gigabytes. Encode
// refuses to compress a payload larger than the cap, so everything this
// codec writes it can read back. The default is [DefaultMaxDecodedSize]
// (64 MiB); the range is 1 KiB to 1 GiB.
func WithMaxDecodedSize(n int) Option {
	return func(c *config) error {
		if n < 1<<10 || n > maxDecodedLimit {
			return fmt.Errorf("codec: WithMaxDecodedSize: %d is outside 1 KiB to 1 GiB", n)
		}
		c.maxDecoded = n
		return nil
	}
}

// WithMaxPayloadSize sets the largest encoded payload Encode produces. A
// payload above it fails with a non-retryable [*PayloadTooLargeError]
// naming both sizes, rather than reaching the server, which would reject it
// and leave the task retrying. The default, [DefaultMaxPayloadSize], is the
// server's default limit; set this to match a server configured otherwise.
// n must be positive.
func WithMaxPayloadSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("codec: WithMaxPayloadSize: %d is not positive", n)
		}
		c.maxPayload = n
		return nil
	}
}

// SizeEvent describes a payload whose encoded size passed the warning
// threshold. It carries sizes and the key ID, never content.
type SizeEvent struct {
	Size      int // encoded size in bytes
	Threshold int
	Limit     int
	KeyID     string
}

// WithSizeWarning calls fn for every payload whose encoded size is above
// threshold bytes and within the limit, so operators can find payloads
// growing towards it. fn must be quick and safe for concurrent use. The
// default threshold is [DefaultWarnPayloadSize]; threshold 0 keeps it.
func WithSizeWarning(threshold int, fn func(SizeEvent)) Option {
	return func(c *config) error {
		if threshold < 0 || fn == nil {
			return fmt.Errorf("codec: WithSizeWarning: need a non-negative threshold and a function")
		}
		if threshold > 0 {
			c.warnPayload = threshold
		}
		c.onLargePayload = fn
		return nil
	}
}

// KeyUsage reports how many payloads one key has sealed in this process.
type KeyUsage struct {
	KeyID     string
	Algorithm string
	Sealed    uint64
	// Budget is the algorithm's per-key message bound,
	// [aead.Algorithm.MaxMessages].
	Budget uint64
}

// WithKeyUsageWarning calls fn each time a key's count of sealed payloads
// reaches a multiple of every (the first multiple included), so that
// operators rotate keys well before the per-key budget (2³² payloads for the
// 96-bit-nonce algorithms). every 0 means a quarter of the budget: with
// AES-GCM, fn is first called at 2³⁰ payloads. Counts are per process and
// per [Key] value; a fleet of workers shares a budget, so divide
// accordingly, or use envelope encryption, whose data keys rotate by use
// count. fn must be quick and safe for concurrent use.
func WithKeyUsageWarning(every uint64, fn func(KeyUsage)) Option {
	return func(c *config) error {
		if fn == nil {
			return fmt.Errorf("codec: WithKeyUsageWarning: nil function")
		}
		c.usageEvery = every
		c.onKeyUsage = fn
		return nil
	}
}

// WithNamespaceBinding binds each payload to its Temporal namespace: the
// namespace becomes part of the associated data, so a payload copied into
// another namespace's history fails to decrypt there even under a shared
// key. The payload records that it is bound (metadata encryption-scope =
// "namespace") so readers know to supply the namespace.
//
// The codec learns the namespace from the SDK's serialization context, and
// the codec server from the request path. A payload encoded where no
// namespace is known is left unbound. Reading a bound payload where no
// namespace is known fails with [ErrNoNamespace].
//
// A payload that is not bound (written before binding was turned on, or
// where no namespace was known) still decodes anywhere, unless the codec is
// also [WithStrict]: then, where the namespace is known, it fails with
// [ErrNotBound], so that an unbound payload cannot be replayed into
// another namespace.
//
// Only the namespace is bound, never the workflow ID: the Web UI and CLI
// ask the codec server to decode with no workflow ID, and payloads move
// between workflows by design (child workflow input, signals, Nexus).
// Off by default.
func WithNamespaceBinding(on bool) Option {
	return func(c *config) error {
		c.bindNamespace = on
		return nil
	}
}
