// Package envkey loads a single encryption key from environment variables,
// the setup of Temporal's encryption samples and of the Python template this
// project grew from:
//
//	TEMPORAL_ENCRYPTION_KEY         the key: hex, or standard or URL-safe
//	                                base64 (padded or not), of exactly the
//	                                algorithm's key size
//	TEMPORAL_ENCRYPTION_KEY_ID      the key ID written on each payload
//	                                (default "default-key")
//	TEMPORAL_ENCRYPTION_ALGORITHM   the algorithm bound to the key
//	                                (default "aes-256-gcm")
//
// The algorithm is configured, never guessed from the key's length. Errors
// say which variable to fix and never include key material.
//
// An environment variable is visible to anything that can read the
// process's environment; prefer a KMS-backed key source in production.
package envkey

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

// The variables Load reads, and the key ID used when none is set.
const (
	VarKey       = "TEMPORAL_ENCRYPTION_KEY"
	VarKeyID     = "TEMPORAL_ENCRYPTION_KEY_ID"
	VarAlgorithm = "TEMPORAL_ENCRYPTION_ALGORITHM"

	DefaultKeyID = "default-key"
)

// Load reads the key from the process environment and returns a keyring
// holding it as the only, primary, key.
func Load() (*codec.Keyring, error) {
	return LoadFrom(os.Getenv)
}

// LoadFrom is [Load] with the environment read through getenv.
func LoadFrom(getenv func(string) string) (*codec.Keyring, error) {
	algID := aead.AES256GCM
	if v := strings.TrimSpace(getenv(VarAlgorithm)); v != "" {
		algID = aead.ID(v)
	}
	alg, err := aead.Lookup(algID)
	if err != nil {
		return nil, fmt.Errorf("envkey: %s: unknown algorithm; use one of %s",
			VarAlgorithm, algorithmNames())
	}

	id := getenv(VarKeyID)
	if id == "" {
		id = DefaultKeyID
	}

	raw := strings.TrimSpace(getenv(VarKey))
	if raw == "" {
		return nil, fmt.Errorf("envkey: %s is not set; set it to %d random bytes in hex or base64 (for example: openssl rand -hex %d)",
			VarKey, alg.KeySize(), alg.KeySize())
	}
	material, err := Decode(raw, alg.KeySize())
	if err != nil {
		return nil, fmt.Errorf("envkey: %s: %w", VarKey, err)
	}
	defer clear(material)

	k, err := codec.NewKey(id, alg.ID(), material)
	if err != nil {
		return nil, fmt.Errorf("envkey: %s: %w", VarKeyID, err)
	}
	return codec.NewKeyring(k)
}

// Decode parses a key written as hex or base64 and checks that it is exactly
// size bytes. A string of an even number of hex digits is read as hex and
// nothing else: a base64 key of 16 or 32 bytes has padding or an odd length
// unless its unpadded form happens to use only hex digits, which is
// reported as a wrong-length hex key rather than silently read another way.
// Otherwise the standard and URL-safe base64 alphabets are tried, padded and
// not, strictly: no embedded line breaks, no stray trailing bits. A string
// that gives size bytes no way is an error that says, by length only, what
// it did give.
func Decode(s string, size int) ([]byte, error) {
	want := fmt.Sprintf("need exactly %d bytes (%d hex digits or %d base64 characters)",
		size, 2*size, base64.StdEncoding.EncodedLen(size))
	if isHex(s) {
		switch {
		case len(s)%2 == 1 && len(s) < 2*size:
			return nil, fmt.Errorf("is %d hex digits, an odd number; %s", len(s), want)
		case len(s)%2 == 0 && len(s) != 2*size:
			return nil, fmt.Errorf("hex decodes to %d bytes; %s", len(s)/2, want)
		case len(s) == 2*size:
			return hex.DecodeString(s)
		}
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return nil, fmt.Errorf("contains white space; %s", want)
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.Strict().DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != size {
			clear(b)
			return nil, fmt.Errorf("base64 decodes to %d bytes; %s", len(b), want)
		}
		return b, nil
	}
	return nil, fmt.Errorf("is neither hex nor base64; %s", want)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// Generate returns a new random 32-byte key, hex encoded, suitable for
// TEMPORAL_ENCRYPTION_KEY with any of the 32-byte algorithms.
func Generate() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("envkey: %w", err)
	}
	defer clear(b[:])
	return hex.EncodeToString(b[:]), nil
}

func algorithmNames() string {
	var names []string
	for _, a := range aead.All() {
		names = append(names, string(a.ID()))
	}
	return strings.Join(names, ", ")
}
