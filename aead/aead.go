package aead

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
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

func (e *KeySizeError) Error() string {
	return "aead: " + string(e.Algorithm) + " needs a " + strconv.Itoa(e.Want) +
		"-byte key, got " + strconv.Itoa(e.Got) + " bytes"
}

// Algorithm describes one AEAD backend. The zero value is not valid; get one
// from [Lookup] or [All].
type Algorithm struct {
	id        ID
	keySize   int
	nonceSize int
	overhead  int
	// maxMessages is how many messages one key may seal with random nonces
	// before the collision probability passes 2⁻³², as a power of two.
	maxMessagesLog2 int
	build           func(key []byte) (cipher.AEAD, error)
}

// ID returns the algorithm's stable identifier.
func (a Algorithm) ID() ID { return a.id }

// KeySize returns the key length in bytes.
func (a Algorithm) KeySize() int { return a.keySize }

// NonceSize returns the nonce length in bytes.
func (a Algorithm) NonceSize() int { return a.nonceSize }

// Overhead returns how many bytes sealing adds to a plaintext, not counting
// the nonce.
func (a Algorithm) Overhead() int { return a.overhead }

// MaxMessages returns how many messages one key should seal with random
// nonces: 2³² for the 96-bit nonces of AES-GCM and ChaCha20-Poly1305, the
// bound NIST SP 800-38D sets for random GCM nonces, and 2⁶⁴ (reported as
// the largest uint64) for the 192-bit nonces of XChaCha20-Poly1305, whose
// collision chance stays negligible far beyond any realistic volume.
// Rotate a key well before it reaches this count.
func (a Algorithm) MaxMessages() uint64 {
	if a.maxMessagesLog2 >= 64 {
		return ^uint64(0)
	}
	return 1 << a.maxMessagesLog2
}

// New returns a [cipher.AEAD] for key. The key is copied by the underlying
// implementation; the caller may clear its slice afterwards. A key of the
// wrong length is a [*KeySizeError].
func (a Algorithm) New(key []byte) (cipher.AEAD, error) {
	if a.build == nil {
		return nil, ErrUnknownAlgorithm
	}
	if len(key) != a.keySize {
		return nil, &KeySizeError{Algorithm: a.id, Got: len(key), Want: a.keySize}
	}
	return a.build(key)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aead: %w", err)
	}
	return cipher.NewGCM(block)
}

var algorithms = []Algorithm{
	{AES256GCM, 32, 12, 16, 32, newGCM},
	{AES128GCM, 16, 12, 16, 32, newGCM},
	{ChaCha20Poly1305, chacha20poly1305.KeySize, chacha20poly1305.NonceSize,
		chacha20poly1305.Overhead, 32, chacha20poly1305.New},
	{XChaCha20Poly1305, chacha20poly1305.KeySize, chacha20poly1305.NonceSizeX,
		chacha20poly1305.Overhead, 64, chacha20poly1305.NewX},
}

// All returns every algorithm this package builds, in a fixed order.
func All() []Algorithm {
	return append([]Algorithm(nil), algorithms...)
}

// Lookup returns the algorithm named id, or an error wrapping
// [ErrUnknownAlgorithm]. The error quotes id, which comes from metadata and
// is not secret.
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
