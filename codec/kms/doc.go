// Package kms is envelope encryption for the codec: payloads are sealed
// under data keys made in this process, and each data key travels with the
// payload, wrapped under a master key that never leaves a key service.
//
// A [Source] is a [codec.KeySource] built on a [Wrapper], the one interface
// a key service has to meet. The providers live in their own packages, so a
// program compiles only the SDK it uses:
//
//	codec/awskms        AWS KMS
//	codec/gcpkms        Google Cloud KMS
//	codec/azurekv       Azure Key Vault and Managed HSM
//	codec/vaulttransit  HashiCorp Vault transit
//	codec/pkcs11        any PKCS#11 HSM
//
// [LocalWrapper] holds its master key in memory, for tests and file-based
// setups.
//
//	w, err := awskms.New(client, keyARN)
//	src, err := kms.NewSource(w)
//	c, err := codec.New(src)
//
// # Security properties
//
// Each data key is 32 random bytes (or as the algorithm needs) from
// crypto/rand, or from the key service [WithDataKeysFromKMS]. It is wrapped
// bound to a [Binding]: the Temporal namespace and the AEAD algorithm. The
// key service refuses to unwrap it under any other binding, so a payload
// copied into another namespace does not open there, even though the
// master key is shared, and a data key cannot be used with another
// algorithm. The wrapped key (at most 4096 bytes) is written into payload
// metadata "encryption-wrapped-key" and bound by the codec into each
// payload's associated data; the key ID on the payload is the master key's
// [Wrapper.Name].
//
// Decoding therefore needs the namespace the payload was written in: the
// codec has it from the SDK in workers and clients, and the codec server
// from the request path (/{namespace}/decode). A payload decoded with no
// namespace, or another one, fails with [ErrUnwrap].
//
// What stays visible on each payload: the master key's name, the wrapped
// data key (opaque without the master key), and which payloads share a data
// key.
//
// # Caching
//
// Calling the key service for every payload would be slow and costly, so a
// source keeps, per namespace, one data key that encrypts until it is
// [WithLifetime] old (10 minutes by default) or has sealed [WithMaxUses]
// payloads (2²⁰) or [WithMaxBytes] bytes; and a cache of up to
// [WithCacheSize] unwrapped keys (1024), each kept for the same lifetime
// and number of uses. Concurrent misses for the same key share one call to
// the key service, so a cold start of many workflow tasks costs one call
// per distinct key.
//
// A key in the cache stays usable after its master key is disabled or
// destroyed, until it expires or [Source.Forget] drops it.
//
// # Failures
//
// A call that fails with [ErrUnavailable] (network errors, timeouts,
// throttling) is retried [WithRetry] times with jittered exponential
// backoff, each try bounded by [WithCallTimeout]; then the error is
// returned. It wraps [ErrUnavailable], which is codec.ErrUnavailable, and
// the codec turns it into a workflow task failure, so that Temporal retries
// the task later instead of failing the workflow. Other errors (access
// denied, [ErrUnwrap]) are returned at once. No payload is ever returned in
// clear because a key could not be had.
//
// # Crypto-shredding
//
// With [PerNamespace], each namespace has its own master key. Destroying
// one tenant's master key in the key service makes every payload of that
// tenant unreadable, in every history and backup, while other tenants are
// unaffected. See docs/crypto-shredding.md.
//
// # Observability
//
// [WithObserver] receives an [Event] for each call to the key service,
// each cache hit and miss, each throttled request and each new data key.
// The package does not log.
//
// # Limitations
//
// Data keys and the ciphers built from them cannot be wiped from memory:
// the garbage collector frees them. A wrapped key the key service rejects
// is not remembered, so a flood of forged payloads with distinct wrapped
// keys costs one failed call each; the key service's rate limit bounds it.
package kms
