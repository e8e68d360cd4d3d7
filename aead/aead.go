package aead

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"math"
	"strconv"

	"golang.org/x/crypto/chacha20poly1305"
)

// ID is the stable name of an algorithm, as written in payload metadata.
type ID string

// The algorithms this package builds.
const (
	AES256GCM         ID = "aes-256-gcm"
	AES128GCM         ID = "aes-128-gcm"
	ChaCha20Poly1305  ID = "chacha20-poly1305"
	XChaCha20Poly1305 ID = "xchacha20-poly1305"
)

// ErrUnknownAlgorithm is returned for an [ID] this package does not build.
var ErrUnknownAlgorithm = errors.New("aead: unknown algorithm")

// KeySizeError reports a key whose length does not fit its algorithm.
// It carries lengths only, never key bytes.
type KeySizeError struct {
	Algorithm ID
	Got, Want int
}

var _ error = (*KeySizeError)(nil)

func (e *KeySizeError) Error() string {
	return "aead: " + string(e.Algorithm) + " needs a " + strconv.Itoa(e.Want) +
		"-byte key, got " + strconv.Itoa(e.Got) + " bytes"
}

// Algorithm describes one AEAD backend. The zero value is not valid; get one
// from [Lookup] or [All]. An Algorithm is a small value, safe to copy and to
// use from many goroutines.
type Algorithm struct {
	id        ID
	keySize   int
	nonceSize int
	overhead  int
	build     func(key []byte) (cipher.AEAD, error)
}

// ID returns the algorithm's stable identifier.
func (a Algorithm) ID() ID { return a.id }

// KeySize returns the key length in bytes: 32, or 16 for AES-128-GCM.
func (a Algorithm) KeySize() int { return a.keySize }

// NonceSize returns the nonce length in bytes: 12, or 24 for
// XChaCha20-Poly1305.
func (a Algorithm) NonceSize() int { return a.nonceSize }

// Overhead returns how many bytes sealing adds to a plaintext, not counting
// the nonce: the 16-byte tag, for every algorithm here.
func (a Algorithm) Overhead() int { return a.overhead }

// MaxMessages returns how many messages one key may seal under nonces drawn
// uniformly at random before the chance that two of them share a nonce
// reaches about 2⁻³².
//
// For q messages with b-bit random nonces that chance is at most q²/2^(b+1).
// With the 96-bit nonces of AES-GCM and ChaCha20-Poly1305 the answer is 2³²
// (4,294,967,296), which is also the limit NIST SP 800-38D §8.3 sets for
// GCM with random nonces. With the 192-bit nonces of XChaCha20-Poly1305 it
// is about 2⁸⁰, more than a uint64 holds, so MaxMessages reports
// [math.MaxUint64]: at that many messages the chance is still below 2⁻⁶⁴.
//
// Rotate a key well before it reaches this count. The zero Algorithm
// reports 0.
func (a Algorithm) MaxMessages() uint64 {
	if a.nonceSize == 0 {
		return 0
	}
	// q²/2^(b+1) <= 2⁻³² when q <= 2^((b-31)/2); round the exponent down.
	log2 := (8*a.nonceSize - 31) / 2
	if log2 >= 64 {
		return math.MaxUint64
	}
	return 1 << log2
}

// New returns a [cipher.AEAD] for key. The key is copied; the caller may
// clear its slice afterwards. A key of the wrong length is a [*KeySizeError]:
// it is never padded or truncated, and a 16-byte key does not turn
// AES-256-GCM into AES-128-GCM.
//
// The AEAD is safe for concurrent use. It follows the [cipher.AEAD]
// contract: Seal and Open append to dst, Open zeroes what it wrote when
// authentication fails, and both panic if the nonce is not exactly
// [Algorithm.NonceSize] bytes, so check lengths that come from untrusted
// input before calling them.
func (a Algorithm) New(key []byte) (cipher.AEAD, error) {
	if a.build == nil {
		return nil, ErrUnknownAlgorithm
	}
	if len(key) != a.keySize {
		return nil, &KeySizeError{Algorithm: a.id, Got: len(key), Want: a.keySize}
	}
	c, err := a.build(key)
	if err != nil {
		// Only reachable in FIPS 140-only mode; see the package doc.
		return nil, fmt.Errorf("aead: %s: %w", a.id, err)
	}
	return c, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

var algorithms = []Algorithm{
	{id: AES256GCM, keySize: 32, nonceSize: 12, overhead: 16, build: newGCM},
	{id: AES128GCM, keySize: 16, nonceSize: 12, overhead: 16, build: newGCM},
	{
		id:        ChaCha20Poly1305,
		keySize:   chacha20poly1305.KeySize,
		nonceSize: chacha20poly1305.NonceSize,
		overhead:  chacha20poly1305.Overhead,
		build:     chacha20poly1305.New,
	},
	{
		id:        XChaCha20Poly1305,
		keySize:   chacha20poly1305.KeySize,
		nonceSize: chacha20poly1305.NonceSizeX,
		overhead:  chacha20poly1305.Overhead,
		build:     chacha20poly1305.NewX,
	},
}

// All returns every algorithm this package builds, in a fixed order. The
// slice is the caller's to modify.
func All() []Algorithm {
	return append([]Algorithm(nil), algorithms...)
}

// Lookup returns the algorithm named id, or an error wrapping
// [ErrUnknownAlgorithm]. Names match exactly: no case folding, no trimming.
// The error quotes id, cut to 64 bytes; it comes from metadata and is not
// secret.
func Lookup(id ID) (Algorithm, error) {
	for _, a := range algorithms {
		if a.id == id {
			return a, nil
		}
	}
	return Algorithm{}, fmt.Errorf("%w %q", ErrUnknownAlgorithm, truncate(string(id)))
}

// New is shorthand for looking up id and building a cipher for key.
func New(id ID, key []byte) (cipher.AEAD, error) {
	a, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	return a.New(key)
}

// truncate bounds a name from untrusted input before it goes into an error.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
