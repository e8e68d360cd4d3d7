// Package pkcs11 is a [kms.Wrapper] over an AES key held in a hardware
// security module (or any PKCS#11 token), for envelope encryption of
// Temporal payloads with package kms. It needs cgo and the vendor's PKCS#11
// library.
//
//	ctx, err := crypto11.Configure(&crypto11.Config{
//		Path:        "/usr/lib/softhsm/libsofthsm2.so", // the vendor's library
//		TokenLabel:  "temporal",
//		Pin:         os.Getenv("HSM_PIN"),
//		GCMIVLength: 12,
//	})
//	w, err := pkcs11.New(ctx, "temporal-master-2026")
//	src, err := kms.NewSource(w)
//
// # Security properties
//
// The master key is a 256-bit AES key created in the token as sensitive
// and not extractable ([GenerateKey]); it never leaves the token. Each
// data key is wrapped inside the token with AES-GCM under a fresh random
// 96-bit nonce, with the [kms.Binding] (namespace and algorithm) as
// associated data:
//
//	wrapped = nonce (12 B) ‖ AES-256-GCM(master, nonce, dek, Binding.AAD()) ‖ tag (16 B)
//
// AES-GCM is used rather than the token's AES key wrap mechanisms (RFC 3394
// and 5649) because those take no associated data, so they could not bind
// a data key to its namespace; it also works on every token the crypto11
// library supports. With random nonces one master key must wrap fewer than
// 2³² data keys; with the source's default lifetime of 10 minutes that is
// thousands of years per namespace.
//
// Configure crypto11 with GCMIVLength 12. On tokens that make their own IV
// (AWS CloudHSM: UseGCMIVFromHSM) the nonce the token chose is the one
// stored.
//
// # Errors
//
// The crypto11 library panics when a token fails to encrypt; Wrap recovers
// and returns an error wrapping [kms.ErrUnavailable]. A wrapped key that
// does not authenticate fails with [kms.ErrUnwrap]. crypto11 reports the
// PKCS#11 return value only as text, so device and session failures
// (CKR_DEVICE_ERROR, CKR_SESSION_HANDLE_INVALID, …) are recognized by name
// and reported as [kms.ErrUnavailable].
package pkcs11

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/ThalesGroup/crypto11"

	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

// Wrapper wraps data keys under one AES key in a PKCS#11 token. It is safe
// for concurrent use; crypto11 pools the sessions.
type Wrapper struct {
	name string
	aead cipher.AEAD
}

var _ kms.Wrapper = (*Wrapper)(nil)

const nonceSize = 12

// New returns a wrapper over the AES key labelled label in the token c is
// logged in to. Its name, written on every payload, is
// "pkcs11:object=<label>".
func New(c *crypto11.Context, label string) (*Wrapper, error) {
	if c == nil {
		return nil, errors.New("pkcs11: nil crypto11 context")
	}
	if label == "" || len(label) > 200 {
		return nil, fmt.Errorf("pkcs11: key label must be 1 to 200 bytes, got %d", len(label))
	}
	keys, err := c.FindKeys(nil, []byte(label))
	if err != nil {
		return nil, fmt.Errorf("pkcs11: find key %q: %w", label, err)
	}
	switch len(keys) {
	case 0:
		return nil, fmt.Errorf("pkcs11: no secret key labelled %q in the token", label)
	case 1:
	default:
		return nil, fmt.Errorf("pkcs11: %d secret keys labelled %q in the token; labels must be unique", len(keys), label)
	}
	g, err := keys[0].NewGCM()
	if err != nil {
		return nil, fmt.Errorf("pkcs11: key %q: %w", label, err)
	}
	if g.NonceSize() != nonceSize {
		return nil, fmt.Errorf("pkcs11: GCM nonce size is %d; configure crypto11 with GCMIVLength: %d",
			g.NonceSize(), nonceSize)
	}
	return &Wrapper{name: "pkcs11:object=" + label, aead: g}, nil
}

// GenerateKey creates a 256-bit AES master key labelled label in the token,
// sensitive and not extractable, for [New]. It refuses to make a second key
// with a label already in use.
func GenerateKey(c *crypto11.Context, label string) error {
	if c == nil {
		return errors.New("pkcs11: nil crypto11 context")
	}
	if label == "" || len(label) > 200 {
		return fmt.Errorf("pkcs11: key label must be 1 to 200 bytes, got %d", len(label))
	}
	if keys, err := c.FindKeys(nil, []byte(label)); err != nil {
		return fmt.Errorf("pkcs11: find key %q: %w", label, err)
	} else if len(keys) > 0 {
		return fmt.Errorf("pkcs11: the token already has a key labelled %q", label)
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("pkcs11: %w", err)
	}
	if _, err := c.GenerateSecretKeyWithLabel(id, []byte(label), 256, crypto11.CipherAES); err != nil {
		return fmt.Errorf("pkcs11: generate key %q: %w", label, err)
	}
	return nil
}

// Name returns "pkcs11:object=" and the key's label.
func (w *Wrapper) Name() string { return w.name }

// Wrap seals dek in the token, bound to b.
func (w *Wrapper) Wrap(_ context.Context, dek []byte, b kms.Binding) (wrapped []byte, err error) {
	out := make([]byte, nonceSize, nonceSize+len(dek)+w.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("pkcs11: random source failed: %w", err)
	}
	defer func() {
		// crypto11 panics when C_Encrypt fails.
		if r := recover(); r != nil {
			wrapped, err = nil, kms.Unavailable(fmt.Errorf("pkcs11: %s: encrypt failed: %v", w.name, r))
		}
	}()
	return w.aead.Seal(out, out[:nonceSize], dek, b.AAD()), nil
}

// Unwrap opens a key sealed by Wrap under the same master key and binding.
func (w *Wrapper) Unwrap(_ context.Context, wrapped []byte, b kms.Binding) ([]byte, error) {
	if len(wrapped) < nonceSize+w.aead.Overhead() {
		return nil, kms.Unwrapped(fmt.Errorf("pkcs11: %s: wrapped key is %d bytes", w.name, len(wrapped)))
	}
	dek, err := w.aead.Open(nil, wrapped[:nonceSize], wrapped[nonceSize:], b.AAD())
	if err != nil {
		err = fmt.Errorf("pkcs11: %s: %w", w.name, err)
		if deviceFailure(err) {
			return nil, kms.Unavailable(err)
		}
		return nil, kms.Unwrapped(err)
	}
	return dek, nil
}

// deviceFailures are PKCS#11 return values that say the token or session,
// not the data, failed.
var deviceFailures = []string{
	"CKR_DEVICE_ERROR", "CKR_DEVICE_MEMORY", "CKR_DEVICE_REMOVED",
	"CKR_TOKEN_NOT_PRESENT", "CKR_SESSION_CLOSED", "CKR_SESSION_HANDLE_INVALID",
	"CKR_FUNCTION_CANCELED", "CKR_CRYPTOKI_NOT_INITIALIZED", "CKR_USER_NOT_LOGGED_IN",
	"cannot used closed Context", "context is closed", "resource pool timed out",
}

func deviceFailure(err error) bool {
	msg := err.Error()
	for _, s := range deviceFailures {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
