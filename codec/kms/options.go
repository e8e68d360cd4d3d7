package kms

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// Option configures a [Source]. Options are checked by the constructor,
// which returns an error for any value out of range.
type Option func(*config) error

type config struct {
	alg         aead.ID
	decryptOnly []Wrapper
	fromKMS     bool
	requireNS   bool
	lifetime    time.Duration
	maxUses     uint64
	maxBytes    uint64
	cacheSize   int
	attempts    int
	backoff     time.Duration
	maxBackoff  time.Duration
	callTimeout time.Duration
	observer    func(Event)
	rand        io.Reader
	now         func() time.Time
}

// Defaults. See each option for its range.
const (
	DefaultLifetime    = 10 * time.Minute
	DefaultMaxUses     = 1 << 20
	DefaultMaxBytes    = 1 << 36 // 64 GiB
	DefaultCacheSize   = 1024
	DefaultAttempts    = 3
	DefaultBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff  = time.Second
	DefaultCallTimeout = 5 * time.Second
)

func defaultConfig() config {
	return config{
		alg:         aead.AES256GCM,
		lifetime:    DefaultLifetime,
		maxUses:     DefaultMaxUses,
		maxBytes:    DefaultMaxBytes,
		cacheSize:   DefaultCacheSize,
		attempts:    DefaultAttempts,
		backoff:     DefaultBackoff,
		maxBackoff:  DefaultMaxBackoff,
		callTimeout: DefaultCallTimeout,
		rand:        rand.Reader,
		now:         time.Now,
	}
}

// WithAlgorithm sets the AEAD of new data keys. The default is
// aead.AES256GCM. Data keys made earlier keep the algorithm they were bound
// to when wrapped, so changing it needs no migration.
func WithAlgorithm(id aead.ID) Option {
	return func(c *config) error {
		if _, err := aead.Lookup(id); err != nil {
			return fmt.Errorf("kms: WithAlgorithm: %w", err)
		}
		c.alg = id
		return nil
	}
}

// WithDecryptOnly adds master keys that only unwrap: keys that wrapped data
// keys before a master-key rotation. Only for [NewSource].
func WithDecryptOnly(ws ...Wrapper) Option {
	return func(c *config) error {
		c.decryptOnly = append(c.decryptOnly, ws...)
		return nil
	}
}

// WithDataKeysFromKMS makes the key service generate each data key
// (AWS GenerateDataKey) instead of this process's crypto/rand. The primary
// master key must then implement [DataKeyGenerator]. Off by default: a
// local data key costs the same one call (to wrap it).
func WithDataKeysFromKMS() Option {
	return func(c *config) error {
		c.fromKMS = true
		return nil
	}
}

// WithRequireNamespace makes the source refuse, with [ErrNoNamespace], to
// encrypt or decrypt when the context names no namespace, instead of using
// the namespace "". Turn it on with per-tenant master keys
// ([PerNamespace]), so that nothing a tenant writes lands under a shared
// key.
func WithRequireNamespace() Option {
	return func(c *config) error {
		c.requireNS = true
		return nil
	}
}

// WithLifetime sets how long a data key is used after it was made or
// unwrapped: the encrypting key is replaced by a new one, and an unwrapped
// key is dropped from the cache and unwrapped again by the key service,
// which then checks again that the master key may still be used. The
// default is 10 minutes; the range is 1 second to 24 hours. It also
// bounds how long a destroyed master key's data keys stay usable in a
// running process that was not told (see [Source.Forget]).
func WithLifetime(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second || d > 24*time.Hour {
			return fmt.Errorf("kms: WithLifetime: %v is outside 1s to 24h", d)
		}
		c.lifetime = d
		return nil
	}
}

// WithMaxUses sets how many payloads one data key seals before it is
// replaced, and how many payloads a cached unwrapped key opens before the
// key service is asked again (which checks again that the master key may
// still be used). The default is 2²⁰; the range is 1 to 2³⁰,
// far below the 2³² random-nonce bound of AES-GCM.
func WithMaxUses(n uint64) Option {
	return func(c *config) error {
		if n < 1 || n > 1<<30 {
			return fmt.Errorf("kms: WithMaxUses: %d is outside 1 to 2^30", n)
		}
		c.maxUses = n
		return nil
	}
}

// WithMaxBytes sets how many plaintext bytes one data key seals before it
// is replaced. The default is 2³⁶ (64 GiB); the range is 1 KiB to 2⁵⁰.
// The count is the codec's [codec.Key.SealedBytes], after compression.
func WithMaxBytes(n uint64) Option {
	return func(c *config) error {
		if n < 1<<10 || n > 1<<50 {
			return fmt.Errorf("kms: WithMaxBytes: %d is outside 2^10 to 2^50", n)
		}
		c.maxBytes = n
		return nil
	}
}

// WithCacheSize sets how many unwrapped data keys are cached, and how many
// namespaces at most have an encrypting data key at a time. The default is
// 1024; the range is 1 to 2²⁰. When the cache is full, expired keys go
// first, then the oldest.
func WithCacheSize(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 1<<20 {
			return fmt.Errorf("kms: WithCacheSize: %d is outside 1 to 2^20", n)
		}
		c.cacheSize = n
		return nil
	}
}

// WithRetry sets how often a call to the key service that failed with
// [ErrUnavailable] is tried in all, and the backoff between tries: the
// first wait is about base, each later one twice the one before, capped
// at max, and each is drawn at random between half and all of that, so
// that many workers do not retry in step. Defaults: 3 attempts, 100ms, 1s. Ranges: 1 to 10
// attempts; base 1ms to 10s; max from base to 1 minute. Other errors are
// not retried.
func WithRetry(attempts int, base, max time.Duration) Option {
	return func(c *config) error {
		switch {
		case attempts < 1 || attempts > 10:
			return fmt.Errorf("kms: WithRetry: %d attempts is outside 1 to 10", attempts)
		case base < time.Millisecond || base > 10*time.Second:
			return fmt.Errorf("kms: WithRetry: base %v is outside 1ms to 10s", base)
		case max < base || max > time.Minute:
			return fmt.Errorf("kms: WithRetry: max %v is outside base to 1m", max)
		}
		c.attempts, c.backoff, c.maxBackoff = attempts, base, max
		return nil
	}
}

// WithCallTimeout bounds each single call to the key service. A call that
// runs out of time counts as [ErrUnavailable] and is retried. The default
// is 5 seconds; the range is 10ms to 1 minute. The longest a cache miss can
// take is about attempts × timeout plus the backoff; keep it below the
// workflow task timeout (10 seconds by default).
func WithCallTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 10*time.Millisecond || d > time.Minute {
			return fmt.Errorf("kms: WithCallTimeout: %v is outside 10ms to 1m", d)
		}
		c.callTimeout = d
		return nil
	}
}

// WithObserver sets a function called for every [Event]: each call to the
// key service, each cache hit and miss, each throttled request, each new
// data key. It is called synchronously from the encoding goroutine, so it
// must be fast and safe for concurrent use. Events hold names, sizes and
// durations, never key material.
func WithObserver(f func(Event)) Option {
	return func(c *config) error {
		if f == nil {
			return fmt.Errorf("kms: WithObserver: nil function")
		}
		c.observer = f
		return nil
	}
}

// WithRandom sets the source of local data keys. The default is
// crypto/rand; change it only in tests.
func WithRandom(r io.Reader) Option {
	return func(c *config) error {
		if r == nil {
			return fmt.Errorf("kms: WithRandom: nil reader")
		}
		c.rand = r
		return nil
	}
}

// WithClock sets the clock that ages data keys. The default is time.Now;
// change it only in tests. Backoff sleeps use real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("kms: WithClock: nil function")
		}
		c.now = now
		return nil
	}
}
