package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// LocalWrapper is a [Wrapper] whose master key is an AES-256 key in this
// process's memory. Data keys are wrapped with AES-256-GCM under a random
// 96-bit nonce, with the [Binding] as associated data:
//
//	wrapped = nonce (12 B) ‖ AES-256-GCM(master, nonce, dek, Binding.AAD()) ‖ tag (16 B)
//
// It is meant for tests and for setups where the master key comes from a
// file or a secret store rather than a key service, such as per-tenant
// master keys kept in a keyring file: deleting a tenant's entry there
// shreds that tenant's data. Its master key is exposed to every process
// that loads it; a key service keeps it out of reach.
type LocalWrapper struct {
	name string
	aead cipher.AEAD
}

var _ Wrapper = (*LocalWrapper)(nil)

// NewLocalWrapper returns a wrapper called name over a 32-byte master key,
// which it copies.
func NewLocalWrapper(name string, master []byte) (*LocalWrapper, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if len(master) != 32 {
		return nil, fmt.Errorf("kms: local master key %q must be 32 bytes, got %d", name, len(master))
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}
	return &LocalWrapper{name: name, aead: g}, nil
}

// Name returns the master key's name.
func (w *LocalWrapper) Name() string { return w.name }

// Wrap seals dek under the master key, bound to b.
func (w *LocalWrapper) Wrap(_ context.Context, dek []byte, b Binding) ([]byte, error) {
	ns := w.aead.NonceSize()
	out := make([]byte, ns, ns+len(dek)+w.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("kms: random source failed: %w", err)
	}
	return w.aead.Seal(out, out[:ns], dek, b.AAD()), nil
}

// Unwrap opens a key sealed by Wrap under the same master key and binding,
// or fails with [ErrUnwrap].
func (w *LocalWrapper) Unwrap(_ context.Context, wrapped []byte, b Binding) ([]byte, error) {
	ns := w.aead.NonceSize()
	if len(wrapped) < ns+w.aead.Overhead() {
		return nil, fmt.Errorf("kms: local master key %q: %w", w.name, ErrUnwrap)
	}
	dek, err := w.aead.Open(nil, wrapped[:ns], wrapped[ns:], b.AAD())
	if err != nil {
		return nil, fmt.Errorf("kms: local master key %q: %w", w.name, ErrUnwrap)
	}
	return dek, nil
}
