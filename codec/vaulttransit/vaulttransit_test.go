package vaulttransit_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	vault "github.com/hashicorp/vault/api"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/kms"
	"github.com/temporal-encryption/temporal-encryption/codec/vaulttransit"
)

const vaultToken = "s.fake-token"

// fakeTransit answers transit's encrypt and decrypt endpoints for one
// derived key. A real transit key derives a key per context with HKDF; the
// fake binds the context as AES-GCM associated data, which refuses a wrong
// context the same way.
type fakeTransit struct {
	aead   cipher.AEAD
	status atomic.Int32 // a status to fail every call with, or 0
}

func newFakeTransit(t *testing.T) (*fakeTransit, *vault.Client) {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	b, _ := aes.NewCipher(k)
	g, _ := cipher.NewGCM(b)
	f := &fakeTransit{aead: g}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)

	cfg := vault.DefaultConfig()
	cfg.Address = srv.URL
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(vaultToken)
	return f, c
}

func vaultError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string][]string{"errors": {msg}})
}

func (f *fakeTransit) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Vault-Token") != vaultToken {
		vaultError(w, 403, "permission denied")
		return
	}
	if s := int(f.status.Load()); s != 0 {
		vaultError(w, s, "injected failure")
		return
	}
	var req map[string]string
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		vaultError(w, 400, "bad body")
		return
	}
	ctxBytes, err := base64.StdEncoding.DecodeString(req["context"])
	if err != nil || len(ctxBytes) == 0 {
		vaultError(w, 400, "missing 'context' for key derivation; the key was created using a derived key")
		return
	}
	var data map[string]string
	switch r.URL.Path {
	case "/v1/transit/encrypt/temporal-payloads":
		pt, err := base64.StdEncoding.DecodeString(req["plaintext"])
		if err != nil {
			vaultError(w, 400, "failed to base64-decode plaintext")
			return
		}
		nonce := make([]byte, f.aead.NonceSize())
		rand.Read(nonce)
		ct := f.aead.Seal(nonce, nonce, pt, ctxBytes)
		data = map[string]string{"ciphertext": "vault:v1:" + base64.StdEncoding.EncodeToString(ct), "key_version": "1"}
	case "/v1/transit/decrypt/temporal-payloads":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(req["ciphertext"], "vault:v1:"))
		if err != nil || len(raw) < f.aead.NonceSize() {
			vaultError(w, 400, "invalid ciphertext: unable to decode")
			return
		}
		pt, err := f.aead.Open(nil, raw[:f.aead.NonceSize()], raw[f.aead.NonceSize():], ctxBytes)
		if err != nil {
			vaultError(w, 400, "cipher: message authentication failed")
			return
		}
		data = map[string]string{"plaintext": base64.StdEncoding.EncodeToString(pt)}
	default:
		vaultError(w, 404, "no handler for route")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"data": data})
}

var secret = []byte(`"CANARY-vault-6f18"`)

func TestRoundTripThroughCodec(t *testing.T) {
	_, client := newFakeTransit(t)
	w, err := vaulttransit.New(client, "transit", "temporal-payloads")
	if err != nil {
		t.Fatal(err)
	}
	if w.Name() != "vault-transit:transit/temporal-payloads" {
		t.Errorf("Name() = %q", w.Name())
	}
	src, _ := kms.NewSource(w)
	cd, _ := codec.New(src)
	enc, err := cd.ForNamespace("ns1").Encode([]*commonpb.Payload{{Data: secret}})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	src2, _ := kms.NewSource(w)
	cd2, _ := codec.New(src2)
	dec, err := cd2.ForNamespace("ns1").Decode(enc)
	if err != nil || !bytes.Equal(dec[0].GetData(), secret) {
		t.Fatalf("Decode = %v, want the original", err)
	}
	out, err := cd2.ForNamespace("ns2").Decode(enc)
	if !errors.Is(err, kms.ErrUnwrap) || out != nil {
		t.Errorf("Decode in another namespace = %v, want ErrUnwrap", err)
	}
}

func TestErrorClasses(t *testing.T) {
	f, client := newFakeTransit(t)
	w, _ := vaulttransit.New(client, "transit", "temporal-payloads")
	ctx := context.Background()
	b := kms.Binding{Namespace: "ns", Algorithm: "aes-256-gcm"}
	wrapped, err := w.Wrap(ctx, make([]byte, 32), b)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		status  int
		wrapped []byte
		want    error
		notWant error
	}{
		{"rate limited", 429, wrapped, kms.ErrThrottled, nil},
		{"sealed", 503, wrapped, kms.ErrUnavailable, kms.ErrThrottled},
		{"permission denied", 403, wrapped, nil, kms.ErrUnavailable},
		{"altered", 0, append(bytes.Clone(wrapped[:len(wrapped)-4]), "AAAA"...), kms.ErrUnwrap, kms.ErrUnavailable},
		{"not transit", 0, []byte("garbage"), kms.ErrUnwrap, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.status.Store(int32(tt.status))
			defer f.status.Store(0)
			_, err := w.Unwrap(ctx, tt.wrapped, b)
			if err == nil {
				t.Fatal("Unwrap succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Unwrap = %v, want %v", err, tt.want)
			}
			if tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Errorf("Unwrap = %v, must not wrap %v", err, tt.notWant)
			}
		})
	}
}
