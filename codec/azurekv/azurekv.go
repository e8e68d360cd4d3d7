// Package azurekv is a [kms.Wrapper] over a key in Azure Key Vault or
// Azure Managed HSM, for envelope encryption of Temporal payloads with
// package kms.
//
//	cred, err := azidentity.NewDefaultAzureCredential(nil)
//	client, err := azkeys.NewClient("https://my-vault.vault.azure.net/", cred, nil)
//	w, err := azurekv.New(client, "https://my-vault.vault.azure.net/", "temporal-payloads")
//	src, err := kms.NewSource(w)
//
// # Security properties
//
// Data keys are wrapped with the vault's wrapKey operation, RSA-OAEP-256 by
// default (an RSA key of 3072 bits or more, or an RSA-HSM key), or A256KW
// for an AES key in Managed HSM ([WithAlgorithm]). Neither takes associated
// data, so the [kms.Binding] is bound by wrapping, together with the data
// key, its SHA-256 hash:
//
//	wrapKey(SHA-256(Binding.AAD()) ‖ dek)
//
// Unwrap checks the hash in constant time and refuses the key under any
// other binding. RSA-OAEP and AES key wrap both reject any change to the
// wrapped bytes, so the hash cannot be swapped without the key.
//
// The wrapped form records the key version that wrapped it, so payloads
// keep opening after the key is rotated to a new version, as long as the
// old version stays enabled:
//
//	wrapped = len(version) (1 B) ‖ version ‖ wrapKey result
//
// The key ID on every payload is the vault URL and key name,
// "https://my-vault.vault.azure.net/keys/temporal-payloads".
//
// # Errors
//
// HTTP 429 wraps [kms.ErrThrottled]; 408 and 5xx, and transport errors,
// wrap [kms.ErrUnavailable]. On unwrap, 400 (bad ciphertext) and 404 (no
// such key or version) wrap [kms.ErrUnwrap]. The azkeys client retries
// 429 and 5xx itself; the source's per-call timeout bounds those retries.
package azurekv

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

// API is the part of the azkeys *Client that a [Wrapper] uses.
type API interface {
	WrapKey(ctx context.Context, name, version string, params azkeys.KeyOperationParameters, opts *azkeys.WrapKeyOptions) (azkeys.WrapKeyResponse, error)
	UnwrapKey(ctx context.Context, name, version string, params azkeys.KeyOperationParameters, opts *azkeys.UnwrapKeyOptions) (azkeys.UnwrapKeyResponse, error)
}

var _ API = (*azkeys.Client)(nil)

// Wrapper wraps data keys under one Key Vault key. It is safe for
// concurrent use.
type Wrapper struct {
	api     API
	key     string
	name    string
	alg     azkeys.EncryptionAlgorithm
	hashLen int
}

var _ kms.Wrapper = (*Wrapper)(nil)

// Option configures a [Wrapper].
type Option func(*Wrapper) error

// WithAlgorithm sets the key wrap algorithm: RSA-OAEP-256 (the default),
// or A256KW for an AES key in Managed HSM. RSA1_5 and RSA-OAEP (SHA-1)
// are refused.
func WithAlgorithm(alg azkeys.EncryptionAlgorithm) Option {
	return func(w *Wrapper) error {
		switch alg {
		case azkeys.EncryptionAlgorithmRSAOAEP256, azkeys.EncryptionAlgorithmA256KW:
			w.alg = alg
			return nil
		}
		return fmt.Errorf("azurekv: WithAlgorithm: %q is not RSA-OAEP-256 or A256KW", alg)
	}
}

// New returns a wrapper for the key called keyName in the vault at
// vaultURL, called through api (an azkeys client for that vault).
func New(api API, vaultURL, keyName string, opts ...Option) (*Wrapper, error) {
	if api == nil {
		return nil, errors.New("azurekv: nil client")
	}
	if !strings.HasPrefix(vaultURL, "https://") {
		return nil, fmt.Errorf("azurekv: vault URL %q must start with https://", vaultURL)
	}
	if keyName == "" || strings.ContainsAny(keyName, "/?#") {
		return nil, fmt.Errorf("azurekv: bad key name %q", keyName)
	}
	w := &Wrapper{
		api: api, key: keyName, alg: azkeys.EncryptionAlgorithmRSAOAEP256, hashLen: sha256.Size,
		name: strings.TrimRight(vaultURL, "/") + "/keys/" + keyName,
	}
	for _, o := range opts {
		if err := o(w); err != nil {
			return nil, err
		}
	}
	if len(w.name) > 256 {
		return nil, fmt.Errorf("azurekv: key identifier is %d bytes, limit 256", len(w.name))
	}
	return w, nil
}

// Name returns the key's identifier without a version.
func (w *Wrapper) Name() string { return w.name }

func bindingHash(b kms.Binding) []byte {
	h := sha256.Sum256(b.AAD())
	return h[:]
}

// Wrap wraps SHA-256(binding) ‖ dek under the key's current version.
func (w *Wrapper) Wrap(ctx context.Context, dek []byte, b kms.Binding) ([]byte, error) {
	value := append(bindingHash(b), dek...)
	defer clear(value)
	alg := w.alg
	resp, err := w.api.WrapKey(ctx, w.key, "", azkeys.KeyOperationParameters{Algorithm: &alg, Value: value}, nil)
	if err != nil {
		return nil, classify("wrap", err, false)
	}
	version := ""
	if resp.KID != nil {
		version = resp.KID.Version()
	}
	if version == "" || len(version) > 255 {
		return nil, fmt.Errorf("azurekv: wrap: the vault returned no usable key version")
	}
	out := make([]byte, 0, 1+len(version)+len(resp.Result))
	out = append(out, byte(len(version)))
	out = append(out, version...)
	return append(out, resp.Result...), nil
}

// Unwrap unwraps with the key version recorded in wrapped and checks the
// binding.
func (w *Wrapper) Unwrap(ctx context.Context, wrapped []byte, b kms.Binding) ([]byte, error) {
	if len(wrapped) < 2 || len(wrapped) < 2+int(wrapped[0]) || wrapped[0] == 0 {
		return nil, kms.Unwrapped(errors.New("azurekv: malformed wrapped key"))
	}
	n := int(wrapped[0])
	version, result := string(wrapped[1:1+n]), wrapped[1+n:]
	alg := w.alg
	resp, err := w.api.UnwrapKey(ctx, w.key, version, azkeys.KeyOperationParameters{Algorithm: &alg, Value: result}, nil)
	if err != nil {
		return nil, classify("unwrap", err, true)
	}
	value := resp.Result
	defer clear(value)
	if len(value) <= w.hashLen || subtle.ConstantTimeCompare(value[:w.hashLen], bindingHash(b)) != 1 {
		return nil, kms.Unwrapped(errors.New("azurekv: data key is bound to another namespace or algorithm"))
	}
	return append([]byte(nil), value[w.hashLen:]...), nil
}

func classify(op string, err error, unwrap bool) error {
	err = fmt.Errorf("azurekv: %s: %w", op, err)
	if errors.Is(err, context.Canceled) {
		return err
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return kms.Unavailable(err) // transport failure or deadline
	}
	switch s := re.StatusCode; {
	case s == http.StatusTooManyRequests:
		return kms.Throttled(err)
	case s == http.StatusRequestTimeout || s >= 500:
		return kms.Unavailable(err)
	case unwrap && (s == http.StatusBadRequest || s == http.StatusNotFound):
		return kms.Unwrapped(err)
	}
	return err
}
