package codec_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

func TestNewKeyValidates(t *testing.T) {
	tests := []struct {
		name string
		id   string
		alg  aead.ID
		n    int
	}{
		{"aes-256 with 16 bytes", "k", aead.AES256GCM, 16},
		{"aes-256 with 31 bytes", "k", aead.AES256GCM, 31},
		{"aes-256 with 33 bytes", "k", aead.AES256GCM, 33},
		{"aes-256 with 64 bytes", "k", aead.AES256GCM, 64},
		{"chacha20 with 16 bytes", "k", aead.ChaCha20Poly1305, 16},
		{"unknown algorithm", "k", "aes-512-gcm", 32},
		{"empty ID", "", aead.AES256GCM, 32},
		{"long ID", string(bytes.Repeat([]byte("i"), 257)), aead.AES256GCM, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := codec.NewKey(tt.id, tt.alg, make([]byte, tt.n)); err == nil {
				t.Fatalf("NewKey(%q, %s, %d bytes) succeeded, want error", tt.id, tt.alg, tt.n)
			}
		})
	}
}

func TestKeyringRejectsDuplicates(t *testing.T) {
	a := testKey(t, "k1", aead.AES256GCM)
	b := testKey(t, "k1", aead.ChaCha20Poly1305)
	if _, err := codec.NewKeyring(a, b); err == nil {
		t.Fatal("NewKeyring accepted one key ID bound to two algorithms")
	}
	if _, err := codec.NewKeyring(nil); err == nil {
		t.Fatal("NewKeyring accepted a nil primary")
	}
}

func TestKeyringUnknownKey(t *testing.T) {
	r, _ := codec.NewKeyring(testKey(t, "k1", aead.AES256GCM))
	_, err := r.DecryptionKey(t.Context(), codec.KeyRef{ID: "gone"})
	var uk *codec.UnknownKeyError
	if !errors.As(err, &uk) || uk.ID != "gone" || !errors.Is(err, codec.ErrUnknownKey) {
		t.Fatalf("DecryptionKey = %v, want UnknownKeyError{gone}", err)
	}
}
