// Package gcpkms is a [kms.Wrapper] over a Google Cloud KMS symmetric
// key, for envelope encryption of Temporal payloads with package kms.
//
//	client, err := gcpkmsapi.NewKeyManagementClient(ctx) // cloud.google.com/go/kms/apiv1
//	w, err := gcpkms.New(client, "projects/p/locations/europe-west1/keyRings/temporal/cryptoKeys/payloads")
//	src, err := kms.NewSource(w)
//	c, err := codec.New(src)
//
// # Security properties
//
// Data keys are wrapped with Encrypt under the CryptoKey (its primary
// version), with the [kms.Binding] (namespace and algorithm) as additional
// authenticated data; Cloud KMS refuses to decrypt under other AAD. Every
// request and response is checked with the CRC32C fields Cloud KMS offers,
// so a corrupted request or response is an error, never a wrong key.
//
// The CryptoKey's resource name is the key ID written on every payload.
// Rotate by adding a key version (or turning on automatic rotation):
// Decrypt finds the version from the ciphertext, so old payloads keep
// opening as long as their version is enabled. Destroying a version shreds
// every data key it wrapped.
//
// # Errors
//
// gRPC codes Unavailable, DeadlineExceeded, Internal, Aborted and
// ResourceExhausted (throttling) wrap [kms.ErrUnavailable]. On decrypt,
// InvalidArgument (wrong AAD or altered ciphertext), FailedPrecondition
// (disabled or destroyed version) and NotFound wrap [kms.ErrUnwrap]. The
// Cloud KMS client retries some codes itself; the source's per-call
// timeout bounds those retries.
package gcpkms

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"

	kmspb "cloud.google.com/go/kms/apiv1/kmspb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

// API is the part of the Cloud KMS *KeyManagementClient that a [Wrapper]
// uses.
type API interface {
	Encrypt(ctx context.Context, req *kmspb.EncryptRequest, opts ...gax.CallOption) (*kmspb.EncryptResponse, error)
	Decrypt(ctx context.Context, req *kmspb.DecryptRequest, opts ...gax.CallOption) (*kmspb.DecryptResponse, error)
}

// Wrapper wraps data keys under one Cloud KMS CryptoKey. It is safe for
// concurrent use.
type Wrapper struct {
	api  API
	name string
}

var _ kms.Wrapper = (*Wrapper)(nil)

// New returns a wrapper for the CryptoKey with resource name name
// ("projects/…/locations/…/keyRings/…/cryptoKeys/…"), called through api.
func New(api API, name string) (*Wrapper, error) {
	if api == nil {
		return nil, errors.New("gcpkms: nil client")
	}
	if name == "" || len(name) > 256 {
		return nil, fmt.Errorf("gcpkms: key name must be 1 to 256 bytes, got %d", len(name))
	}
	return &Wrapper{api: api, name: name}, nil
}

// Name returns the CryptoKey's resource name.
func (w *Wrapper) Name() string { return w.name }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) *wrapperspb.Int64Value {
	return wrapperspb.Int64(int64(crc32.Checksum(b, castagnoli)))
}

// Wrap encrypts dek under the key with b as AAD.
func (w *Wrapper) Wrap(ctx context.Context, dek []byte, b kms.Binding) ([]byte, error) {
	aad := b.AAD()
	resp, err := w.api.Encrypt(ctx, &kmspb.EncryptRequest{
		Name:                              w.name,
		Plaintext:                         dek,
		PlaintextCrc32C:                   crc(dek),
		AdditionalAuthenticatedData:       aad,
		AdditionalAuthenticatedDataCrc32C: crc(aad),
	})
	if err != nil {
		return nil, classify("encrypt", err, false)
	}
	if !resp.GetVerifiedPlaintextCrc32C() || !resp.GetVerifiedAdditionalAuthenticatedDataCrc32C() {
		return nil, kms.Unavailable(errors.New("gcpkms: encrypt: request corrupted in transit"))
	}
	if resp.GetCiphertextCrc32C().GetValue() != crc(resp.GetCiphertext()).GetValue() {
		return nil, kms.Unavailable(errors.New("gcpkms: encrypt: response corrupted in transit"))
	}
	return resp.GetCiphertext(), nil
}

// Unwrap decrypts a data key wrapped by Wrap under the same key and
// binding.
func (w *Wrapper) Unwrap(ctx context.Context, wrapped []byte, b kms.Binding) ([]byte, error) {
	aad := b.AAD()
	resp, err := w.api.Decrypt(ctx, &kmspb.DecryptRequest{
		Name:                              w.name,
		Ciphertext:                        wrapped,
		CiphertextCrc32C:                  crc(wrapped),
		AdditionalAuthenticatedData:       aad,
		AdditionalAuthenticatedDataCrc32C: crc(aad),
	})
	if err != nil {
		return nil, classify("decrypt", err, true)
	}
	if resp.GetPlaintextCrc32C().GetValue() != crc(resp.GetPlaintext()).GetValue() {
		clear(resp.GetPlaintext())
		return nil, kms.Unavailable(errors.New("gcpkms: decrypt: response corrupted in transit"))
	}
	return resp.GetPlaintext(), nil
}

func classify(op string, err error, unwrap bool) error {
	err = fmt.Errorf("gcpkms: %s: %w", op, err)
	if errors.Is(err, context.Canceled) {
		return err
	}
	switch status.Code(errors.Unwrap(err)) {
	case codes.ResourceExhausted:
		return kms.Throttled(err)
	case codes.Unavailable, codes.DeadlineExceeded, codes.Internal, codes.Aborted:
		return kms.Unavailable(err)
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound:
		if unwrap {
			return kms.Unwrapped(err)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return kms.Unavailable(err)
	}
	return err
}
