// Package aead builds the authenticated ciphers that protect payloads, one
// [cipher.AEAD] per key, from a short list of vetted algorithms.
//
// Every backend is a standard [cipher.AEAD]: the standard library's
// AES-GCM, and ChaCha20-Poly1305 and XChaCha20-Poly1305 from
// golang.org/x/crypto. This package adds what the standard interface leaves
// out: a stable identifier for each algorithm that is safe to write on the
// wire, key-length validation per algorithm, and a default chosen from what
// the CPU accelerates.
//
// # Security properties
//
// All four algorithms give confidentiality of the plaintext and integrity of
// the plaintext and the associated data (IND-CCA2 and INT-CTXT) as long as
// a nonce is never used twice with the same key. The ciphertext is exactly
// as long as the plaintext plus a 16-byte tag, so lengths stay visible.
//
// A repeated nonce is not a small leak. Under AES-GCM it reveals the XOR of
// the two plaintexts and lets an attacker solve for the GHASH key, and from
// then on forge messages under that key. Under ChaCha20-Poly1305 it reveals
// the XOR of the two plaintexts and lets an attacker compute the one-time
// Poly1305 key of that nonce and forge messages with it.
//
// # Nonces and messages per key
//
// The codec draws every nonce at random from crypto/rand (or from a reader
// injected for tests). With q messages under one key and b-bit random
// nonces, the chance that any two collide is at most q²/2^(b+1).
//
// AES-GCM and ChaCha20-Poly1305 take 96-bit nonces. After 2³² messages the
// chance of a collision is about 2⁻³³, and it grows with the square of the
// count; NIST SP 800-38D §8.3 allows no more than 2³² random-nonce
// encryptions per GCM key. So rotate a key well before it has sealed 2³²
// (about 4.3 billion) payloads: at 1,000 payloads a second that is 50 days.
// [Algorithm.MaxMessages] returns this limit.
//
// XChaCha20-Poly1305 takes 192-bit nonces. Its core, HChaCha20, derives a
// fresh subkey from the key and the first 128 bits of the nonce, and
// ChaCha20-Poly1305 runs under that subkey with the remaining 64 bits. After
// 2⁶⁴ messages the chance of a collision is still below 2⁻⁶⁴, and it
// reaches 2⁻³² only near 2⁸⁰ messages, so random nonces put no practical
// limit on how long a key may be used. Choose it when one key seals very
// many payloads or when the cost of a rotation schedule is not worth paying.
//
// AES-GCM also wears with the total volume it encrypts: after σ 16-byte
// blocks an attacker's advantage in telling its output from random is about
// σ²/2¹²⁹. For 2³² payloads of 2 MiB each (σ = 2⁴⁹) that is 2⁻³¹, the same
// order as the nonce bound, so the 2³² guidance holds for payloads up to the
// Temporal server's default limit of 2 MiB, and larger payloads call for
// earlier rotation.
//
// # Algorithm identifiers
//
// An [ID] names an algorithm and is written into payload metadata, so it never
// changes once released:
//
//	ID                   key    nonce  tag    messages per key
//	aes-256-gcm          32 B   12 B   16 B   2³²
//	aes-128-gcm          16 B   12 B   16 B   2³²
//	chacha20-poly1305    32 B   12 B   16 B   2³²
//	xchacha20-poly1305   32 B   24 B   16 B   no practical limit
//
// The algorithm belongs to a key and is chosen by the key's owner; this
// package never guesses it from the key's length, and a key of the wrong
// length is a [*KeySizeError], never padded or truncated. [Lookup] matches
// identifiers exactly.
//
// # Hardware
//
// AES-GCM is fast and constant-time only where the standard library runs it
// on hardware instructions: AES-NI with PCLMULQDQ, SSE4.1 and SSSE3 on
// amd64, the AES and PMULL instructions on arm64, CPACF on s390x, and POWER8
// on ppc64. Elsewhere, including every 386 build, the standard library runs
// generic code that is much slower and not guaranteed constant-time:
// without AES instructions it looks up tables indexed by secret data, which
// can leak timing through the cache. ChaCha20-Poly1305 uses only additions,
// rotations and XORs and is constant-time everywhere.
//
// [Default] returns AES-256-GCM where the standard library accelerates it and
// ChaCha20-Poly1305 elsewhere; [Detect] reports what was found and why. The
// command cmd/aead-info prints the same report.
//
// # Limitations
//
// [Detect] reads the CPU, not the build: a binary built with the purego tag
// uses the generic AES-GCM code even on a CPU that accelerates it.
//
// In FIPS 140-only mode (GODEBUG=fips140=only), [Algorithm.New] fails for
// every algorithm: the standard library refuses GCM with nonces chosen by
// the caller, and ChaCha20-Poly1305 is not an approved algorithm.
//
// Seal panics on plaintexts over about 64 GiB for AES-GCM and 256 GiB for
// the ChaCha20 family; Temporal payloads are far smaller.
package aead
