package codec

import (
	"crypto/rand"
	"fmt"
	"io"
)

// Option configures a [Codec]. Options are checked by [New], which returns an
// error for any value out of range.
type Option func(*config) error

type config struct {
	rand   io.Reader
	legacy bool
}

func defaultConfig() config {
	return config{rand: rand.Reader}
}

// WithRandom sets the source of nonces. The default is crypto/rand, which is
// the right choice outside tests. A read error or short read fails the
// encode with [ErrRandom]; the codec never seals with a nonce it did not
// fully read.
func WithRandom(r io.Reader) Option {
	return func(c *config) error {
		if r == nil {
			return fmt.Errorf("codec: WithRandom: nil reader")
		}
		c.rand = r
		return nil
	}
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
