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
// All four algorithms give confidentiality and integrity of the plaintext and
// integrity of the associated data (IND-CCA2 and INT-CTXT) as long as a
// nonce is never used twice with the same key. Callers of this package draw
// nonces at random from crypto/rand; see [Algorithm.MaxMessages] for how many
// messages one key may seal before the chance of a repeated nonce stops being
// negligible.
//
// # Algorithm identifiers
//
// An [ID] names an algorithm and is written into payload metadata, so it never
// changes once released:
//
//	aes-256-gcm          32-byte key, 12-byte nonce, 16-byte tag
//	aes-128-gcm          16-byte key, 12-byte nonce, 16-byte tag
//	chacha20-poly1305    32-byte key, 12-byte nonce, 16-byte tag
//	xchacha20-poly1305   32-byte key, 24-byte nonce, 16-byte tag
//
// The algorithm belongs to a key and is chosen by the key's owner; this
// package never guesses it from the key's length, and a key of the wrong
// length is an error, never padded or truncated.
//
// # Hardware
//
// AES-GCM is fast and constant-time only where the CPU has AES and
// carry-less multiplication instructions. [Default] returns AES-256-GCM where
// the standard library uses them, and ChaCha20-Poly1305 elsewhere; [Detect]
// reports what was found and why.
package aead
