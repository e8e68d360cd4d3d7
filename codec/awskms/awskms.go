// Package awskms is a [kms.Wrapper] over an AWS KMS symmetric key, for
// envelope encryption of Temporal payloads with package kms.
//
//	cfg, err := config.LoadDefaultConfig(ctx) // github.com/aws/aws-sdk-go-v2/config
//	w, err := awskms.New(kmsapi.NewFromConfig(cfg), "arn:aws:kms:eu-west-1:111122223333:key/…")
//	src, err := kms.NewSource(w)
//	c, err := codec.New(src)
//
// # Security properties
//
// Data keys are wrapped with Encrypt (or made with GenerateDataKey, with
// [kms.WithDataKeysFromKMS]) under the configured key, with an encryption
// context that binds the Temporal namespace ("temporal-namespace") and the
// algorithm ("temporal-encryption-algorithm"); AWS KMS refuses to decrypt
// under any other context and records the context in CloudTrail, so key
// use can be audited per namespace, and IAM conditions
// (kms:EncryptionContext:temporal-namespace) can limit each worker role to
// its namespaces. Decrypt names the key, so a wrapped key made under
// another KMS key is refused rather than silently opened.
//
// The key ID given to [New] is written on every payload. Use a key ARN: an
// alias may be pointed at another key later, and then Decrypt under the
// alias fails for every payload written before. Rotate with KMS automatic
// key rotation (same ARN, new backing material, old payloads still open),
// or with a new key and [kms.WithDecryptOnly] for the old one.
//
// # Errors
//
// Throttling and server-side faults (ThrottlingException, KMSInternalException,
// DependencyTimeoutException, KeyUnavailableException, 5xx, network errors)
// wrap [kms.ErrUnavailable] and are retried by the source. Invalid
// ciphertext, a wrong key or context, and a disabled, pending-deletion or
// missing key on decrypt wrap [kms.ErrUnwrap]. Configure the client with
// few retries of its own (RetryMaxAttempts 1 or 2), since the source
// retries too.
package awskms

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

// API is the part of the AWS SDK's *kms.Client that a [Wrapper] uses.
type API interface {
	Encrypt(ctx context.Context, in *awskms.EncryptInput, opts ...func(*awskms.Options)) (*awskms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *awskms.DecryptInput, opts ...func(*awskms.Options)) (*awskms.DecryptOutput, error)
	GenerateDataKey(ctx context.Context, in *awskms.GenerateDataKeyInput, opts ...func(*awskms.Options)) (*awskms.GenerateDataKeyOutput, error)
}

var _ API = (*awskms.Client)(nil)

// Wrapper wraps data keys under one AWS KMS symmetric key. It is safe for
// concurrent use.
type Wrapper struct {
	api   API
	keyID string
}

var (
	_ kms.Wrapper          = (*Wrapper)(nil)
	_ kms.DataKeyGenerator = (*Wrapper)(nil)
)

// New returns a wrapper for the symmetric KMS key keyID (a key ARN; see the
// package doc), called through api.
func New(api API, keyID string) (*Wrapper, error) {
	if api == nil {
		return nil, errors.New("awskms: nil client")
	}
	if keyID == "" || len(keyID) > 256 {
		return nil, fmt.Errorf("awskms: key ID must be 1 to 256 bytes, got %d", len(keyID))
	}
	return &Wrapper{api: api, keyID: keyID}, nil
}

// Name returns the key ID given to [New].
func (w *Wrapper) Name() string { return w.keyID }

// Wrap encrypts dek under the key with b as encryption context.
func (w *Wrapper) Wrap(ctx context.Context, dek []byte, b kms.Binding) ([]byte, error) {
	out, err := w.api.Encrypt(ctx, &awskms.EncryptInput{
		KeyId:               aws.String(w.keyID),
		Plaintext:           dek,
		EncryptionContext:   b.Map(),
		EncryptionAlgorithm: types.EncryptionAlgorithmSpecSymmetricDefault,
	})
	if err != nil {
		return nil, classify("encrypt", err, false)
	}
	return out.CiphertextBlob, nil
}

// Unwrap decrypts a data key wrapped by Wrap or GenerateDataKey under the
// same key and binding.
func (w *Wrapper) Unwrap(ctx context.Context, wrapped []byte, b kms.Binding) ([]byte, error) {
	out, err := w.api.Decrypt(ctx, &awskms.DecryptInput{
		KeyId:               aws.String(w.keyID),
		CiphertextBlob:      wrapped,
		EncryptionContext:   b.Map(),
		EncryptionAlgorithm: types.EncryptionAlgorithmSpecSymmetricDefault,
	})
	if err != nil {
		return nil, classify("decrypt", err, true)
	}
	return out.Plaintext, nil
}

// GenerateDataKey has KMS make a data key of size bytes, returned in clear
// and wrapped with b as encryption context.
func (w *Wrapper) GenerateDataKey(ctx context.Context, size int, b kms.Binding) ([]byte, []byte, error) {
	if size < 1 || size > 1024 {
		return nil, nil, fmt.Errorf("awskms: data key size %d is outside 1 to 1024", size)
	}
	n := int32(size)
	out, err := w.api.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{
		KeyId:             aws.String(w.keyID),
		NumberOfBytes:     &n,
		EncryptionContext: b.Map(),
	})
	if err != nil {
		return nil, nil, classify("generate data key", err, false)
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// Error codes that mean "try again later", beyond what the SDK's own
// retryer classes as retryable.
var transientCodes = map[string]bool{
	"KMSInternalException":       true,
	"DependencyTimeoutException": true,
	"KeyUnavailableException":    true,
	"ServiceUnavailable":         true,
}

// Error codes that, on decrypt, mean this wrapped key will never open under
// this key.
var refusedCodes = map[string]bool{
	"InvalidCiphertextException": true,
	"IncorrectKeyException":      true,
	"DisabledException":          true,
	"KMSInvalidStateException":   true,
	"NotFoundException":          true,
}

func classify(op string, err error, unwrap bool) error {
	err = fmt.Errorf("awskms: %s: %w", op, err)
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary:
		return kms.Throttled(err)
	case transientCodes[code],
		retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary,
		errors.Is(err, context.DeadlineExceeded):
		return kms.Unavailable(err)
	case unwrap && refusedCodes[code]:
		return kms.Unwrapped(err)
	}
	return err
}
