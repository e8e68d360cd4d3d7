// Package vaulttransit is a [kms.Wrapper] over a key of HashiCorp Vault's
// transit secrets engine (or OpenBao's), for envelope encryption of
// Temporal payloads with package kms.
//
//	client, err := vault.NewClient(vault.DefaultConfig()) // github.com/hashicorp/vault/api; reads VAULT_ADDR, VAULT_TOKEN
//	w, err := vaulttransit.New(client, "transit", "temporal-payloads")
//	src, err := kms.NewSource(w)
//
// # Security properties
//
// Data keys are wrapped with transit's encrypt endpoint and unwrapped with
// decrypt; the transit key never leaves Vault. The [kms.Binding]
// (namespace and algorithm) is passed as the key derivation context, so
// every namespace gets its own derived key and a data key wrapped for one
// namespace does not decrypt in another. The transit key must therefore be
// created with derivation on:
//
//	vault write -f transit/keys/temporal-payloads type=aes256-gcm96 derived=true
//
// The wrapped form is transit's ciphertext string ("vault:v3:…"), which
// names the key version; rotate with "vault write -f
// transit/keys/NAME/rotate", and old payloads keep opening until
// min_decryption_version passes their version, which shreds them.
//
// The key ID on every payload is "vault-transit:<mount>/<key>".
//
// # Errors
//
// HTTP 429 (rate-limit quotas) wraps [kms.ErrThrottled]; 5xx (including a
// sealed or standby node, 503) and transport errors wrap
// [kms.ErrUnavailable]. On decrypt, 400 (altered ciphertext, another
// context) wraps [kms.ErrUnwrap]. Set the client's MaxRetries low (0 or 1):
// the source retries too.
package vaulttransit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	vault "github.com/hashicorp/vault/api"

	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

// Wrapper wraps data keys under one transit key. It is safe for concurrent
// use.
type Wrapper struct {
	client  *vault.Client
	encrypt string
	decrypt string
	name    string
}

var _ kms.Wrapper = (*Wrapper)(nil)

// New returns a wrapper for the transit key key of the transit engine
// mounted at mount ("transit" by default in Vault), called through client,
// which carries the Vault address and token.
func New(client *vault.Client, mount, key string) (*Wrapper, error) {
	if client == nil {
		return nil, errors.New("vaulttransit: nil client")
	}
	mount = strings.Trim(mount, "/")
	if mount == "" || key == "" || strings.ContainsAny(key, "/?#") {
		return nil, fmt.Errorf("vaulttransit: bad mount %q or key %q", mount, key)
	}
	w := &Wrapper{
		client:  client,
		encrypt: mount + "/encrypt/" + key,
		decrypt: mount + "/decrypt/" + key,
		name:    "vault-transit:" + mount + "/" + key,
	}
	if len(w.name) > 256 {
		return nil, fmt.Errorf("vaulttransit: key name is %d bytes, limit 256", len(w.name))
	}
	return w, nil
}

// Name returns "vault-transit:<mount>/<key>".
func (w *Wrapper) Name() string { return w.name }

func derivation(b kms.Binding) string {
	return base64.StdEncoding.EncodeToString(b.AAD())
}

// Wrap encrypts dek under the transit key, derived for b.
func (w *Wrapper) Wrap(ctx context.Context, dek []byte, b kms.Binding) ([]byte, error) {
	s, err := w.client.Logical().WriteWithContext(ctx, w.encrypt, map[string]any{
		"plaintext": base64.StdEncoding.EncodeToString(dek),
		"context":   derivation(b),
	})
	if err != nil {
		return nil, classify("encrypt", err, false)
	}
	ct, _ := field(s, "ciphertext")
	if !strings.HasPrefix(ct, "vault:v") {
		return nil, errors.New("vaulttransit: encrypt: response has no ciphertext")
	}
	return []byte(ct), nil
}

// Unwrap decrypts a data key wrapped by Wrap under the same key and
// binding.
func (w *Wrapper) Unwrap(ctx context.Context, wrapped []byte, b kms.Binding) ([]byte, error) {
	if !strings.HasPrefix(string(wrapped), "vault:v") {
		return nil, kms.Unwrapped(errors.New("vaulttransit: wrapped key is not a transit ciphertext"))
	}
	s, err := w.client.Logical().WriteWithContext(ctx, w.decrypt, map[string]any{
		"ciphertext": string(wrapped),
		"context":    derivation(b),
	})
	if err != nil {
		return nil, classify("decrypt", err, true)
	}
	pt, ok := field(s, "plaintext")
	if !ok {
		return nil, errors.New("vaulttransit: decrypt: response has no plaintext")
	}
	dek, err := base64.StdEncoding.DecodeString(pt)
	if err != nil {
		return nil, errors.New("vaulttransit: decrypt: plaintext is not base64")
	}
	return dek, nil
}

func field(s *vault.Secret, name string) (string, bool) {
	if s == nil || s.Data == nil {
		return "", false
	}
	v, ok := s.Data[name].(string)
	return v, ok
}

func classify(op string, err error, unwrap bool) error {
	err = fmt.Errorf("vaulttransit: %s: %w", op, err)
	if errors.Is(err, context.Canceled) {
		return err
	}
	var re *vault.ResponseError
	if !errors.As(err, &re) {
		return kms.Unavailable(err) // transport failure or deadline
	}
	switch s := re.StatusCode; {
	case s == http.StatusTooManyRequests:
		return kms.Throttled(err)
	case s >= 500:
		return kms.Unavailable(err)
	case unwrap && s == http.StatusBadRequest:
		return kms.Unwrapped(err)
	}
	return err
}
