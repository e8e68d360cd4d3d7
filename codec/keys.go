package codec

import (
	"context"
	"crypto/cipher"
	"fmt"
	"sync/atomic"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec/internal/envelope"
)

// Key is one data key, ready to seal and open. Its cipher is built once, when
// the key is made, and is safe for concurrent use. A Key never hands its key
// material back out.
type Key struct {
	id      string
	alg     aead.Algorithm
	aead    cipher.AEAD
	wrapped []byte
	sealed  atomic.Uint64
	bytes   atomic.Uint64
}

// NewKey builds a key for algorithm alg. The material is copied into the
// cipher; the caller may clear it afterwards. The ID must be 1 to 256 bytes;
// it is written in clear on every payload, so it must not itself be secret.
func NewKey(id string, alg aead.ID, material []byte) (*Key, error) {
	if id == "" || len(id) > envelope.MaxKeyIDLen {
		return nil, fmt.Errorf("codec: key ID must be 1 to %d bytes, got %d", envelope.MaxKeyIDLen, len(id))
	}
	a, err := aead.Lookup(alg)
	if err != nil {
		return nil, fmt.Errorf("codec: key %q: %w", id, err)
	}
	c, err := a.New(material)
	if err != nil {
		return nil, fmt.Errorf("codec: key %q: %w", id, err)
	}
	return &Key{id: id, alg: a, aead: c}, nil
}

// NewWrappedKey is like [NewKey] for a data key that a key source wrapped
// under a master key. The wrapped form, at most 4096 bytes, is written into
// the metadata of every payload the key seals and handed back to the key
// source, in a [KeyRef], to find the key again.
func NewWrappedKey(id string, alg aead.ID, material, wrapped []byte) (*Key, error) {
	if len(wrapped) == 0 || len(wrapped) > envelope.MaxWrappedKeyLen {
		return nil, fmt.Errorf("codec: key %q: wrapped key must be 1 to %d bytes, got %d",
			id, envelope.MaxWrappedKeyLen, len(wrapped))
	}
	k, err := NewKey(id, alg, material)
	if err != nil {
		return nil, err
	}
	k.wrapped = append([]byte(nil), wrapped...)
	return k, nil
}

// ID returns the key's identifier.
func (k *Key) ID() string { return k.id }

// Algorithm returns the algorithm the key is bound to.
func (k *Key) Algorithm() aead.ID { return k.alg.ID() }

// Sealed returns how many payloads this key has sealed in this process.
func (k *Key) Sealed() uint64 { return k.sealed.Load() }

// SealedBytes returns how many plaintext bytes (after compression) this
// key has sealed in this process. AES-GCM keys should seal well under 2⁶⁴
// bytes in all; envelope-encryption sources use it to retire data keys by
// volume.
func (k *Key) SealedBytes() uint64 { return k.bytes.Load() }

// KeyRef names the key a payload was sealed with, as read from its metadata.
// Every field comes from untrusted input; a key source must treat it so.
type KeyRef struct {
	ID        string
	Algorithm aead.ID
	// Wrapped is the wrapped data key, or nil. It aliases the payload's
	// metadata and must not be modified or retained.
	Wrapped []byte
}

// KeySource gives a [Codec] its keys.
//
// EncryptionKey returns the key that seals new payloads. DecryptionKey
// returns the key a payload names, and only that key: a source must never
// offer another key to try. When it has no such key it returns an error
// wrapping [ErrUnknownKey]; other errors (a KMS that cannot be reached) are
// passed to the caller wrapped, and the payload is never returned in clear.
//
// Both methods must be safe for concurrent use.
type KeySource interface {
	EncryptionKey(ctx context.Context) (*Key, error)
	DecryptionKey(ctx context.Context, ref KeyRef) (*Key, error)
}

// Keyring is a fixed set of keys held in memory: one primary that encrypts,
// and any number that only decrypt, for payloads written before a rotation.
// It is safe for concurrent use.
type Keyring struct {
	primary *Key
	byID    map[string]*Key
}

var _ KeySource = (*Keyring)(nil)

// NewKeyring returns a keyring that encrypts with primary and decrypts with
// primary and every key in decryptOnly. Key IDs must be unique.
func NewKeyring(primary *Key, decryptOnly ...*Key) (*Keyring, error) {
	if primary == nil {
		return nil, fmt.Errorf("codec: keyring has no primary key")
	}
	r := &Keyring{primary: primary, byID: make(map[string]*Key, 1+len(decryptOnly))}
	for _, k := range append([]*Key{primary}, decryptOnly...) {
		if k == nil {
			return nil, fmt.Errorf("codec: keyring holds a nil key")
		}
		if _, dup := r.byID[k.id]; dup {
			return nil, fmt.Errorf("codec: keyring has key ID %q twice", k.id)
		}
		r.byID[k.id] = k
	}
	return r, nil
}

// EncryptionKey returns the primary key.
func (r *Keyring) EncryptionKey(context.Context) (*Key, error) { return r.primary, nil }

// DecryptionKey returns the key with ref's ID.
func (r *Keyring) DecryptionKey(_ context.Context, ref KeyRef) (*Key, error) {
	k, ok := r.byID[ref.ID]
	if !ok {
		return nil, &UnknownKeyError{ID: ref.ID}
	}
	return k, nil
}
