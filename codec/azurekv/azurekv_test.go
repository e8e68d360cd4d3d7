package azurekv_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/azurekv"
	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

const token = "fake-token"

// fakeVault answers Key Vault's wrapkey and unwrapkey over TLS on
// loopback, after the bearer challenge real vaults send. Each key version
// is an AES-256-GCM key standing in for the RSA key.
type fakeVault struct {
	mu       sync.Mutex
	versions map[string]cipher.AEAD // "name/version"
	current  map[string]string      // name -> current version
	status   atomic.Int32           // a status to fail every call with, or 0
	unauthed atomic.Int64
}

func newFakeVault(t *testing.T) (*fakeVault, *httptest.Server) {
	t.Helper()
	f := &fakeVault{versions: make(map[string]cipher.AEAD), current: make(map[string]string)}
	srv := httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

// rotate makes a new current version of the key name.
func (f *fakeVault) rotate(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := make([]byte, 32)
	rand.Read(k)
	b, _ := aes.NewCipher(k)
	g, _ := cipher.NewGCM(b)
	v := fmt.Sprintf("%032x", len(f.versions)+1)
	f.versions[name+"/"+v] = g
	f.current[name] = v
	return v
}

func (f *fakeVault) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+token {
		f.unauthed.Add(1)
		w.Header().Set("WWW-Authenticate",
			`Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if s := int(f.status.Load()); s != 0 {
		writeError(w, s, "Injected", "injected failure")
		return
	}
	// /keys/{name}/{version}/{op}, the version left out for the current one
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 3 {
		parts = []string{parts[0], parts[1], "", parts[2]}
	}
	if r.Method != http.MethodPost || len(parts) != 4 || parts[0] != "keys" {
		writeError(w, 404, "NotFound", "no such route")
		return
	}
	name, version, op := parts[1], parts[2], parts[3]
	var req struct {
		Alg   string `json:"alg"`
		Value string `json:"value"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, 400, "BadParameter", "bad body")
		return
	}
	value, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(req.Value, "="))
	if err != nil {
		writeError(w, 400, "BadParameter", "bad value")
		return
	}
	f.mu.Lock()
	if version == "" {
		version = f.current[name]
	}
	g := f.versions[name+"/"+version]
	f.mu.Unlock()
	if g == nil {
		writeError(w, 404, "KeyNotFound", "A key with (name/id) was not found in this key vault.")
		return
	}
	var out []byte
	switch op {
	case "wrapkey":
		nonce := make([]byte, g.NonceSize())
		rand.Read(nonce)
		out = g.Seal(nonce, nonce, value, []byte(req.Alg))
	case "unwrapkey":
		if len(value) < g.NonceSize() {
			writeError(w, 400, "BadParameter", "The parameter is incorrect.")
			return
		}
		if out, err = g.Open(nil, value[:g.NonceSize()], value[g.NonceSize():], []byte(req.Alg)); err != nil {
			writeError(w, 400, "BadParameter", "The parameter is incorrect.")
			return
		}
	default:
		writeError(w, 404, "NotFound", "no such operation")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{
		"kid":   "https://" + r.Host + "/keys/" + name + "/" + version,
		"value": base64.RawURLEncoding.EncodeToString(out),
	})
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

type fakeCredential struct{}

func (fakeCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func newWrapper(t *testing.T, srv *httptest.Server) *azurekv.Wrapper {
	t.Helper()
	client, err := azkeys.NewClient(srv.URL, fakeCredential{}, &azkeys.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Transport: srv.Client(),
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
		DisableChallengeResourceVerification: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	w, err := azurekv.New(client, srv.URL, "temporal-payloads")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var secret = []byte(`"CANARY-azure-04c7"`)

func TestRoundTripAcrossKeyRotation(t *testing.T) {
	f, srv := newFakeVault(t)
	f.rotate("temporal-payloads")
	w := newWrapper(t, srv)
	if want := srv.URL + "/keys/temporal-payloads"; w.Name() != want {
		t.Errorf("Name() = %q, want %q", w.Name(), want)
	}
	src, _ := kms.NewSource(w)
	cd, _ := codec.New(src)
	enc, err := cd.ForNamespace("ns1").Encode([]*commonpb.Payload{{Data: secret}})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if f.unauthed.Load() == 0 {
		t.Error("the client never met the bearer challenge")
	}

	// The key gets a new version; the old payload still opens.
	f.rotate("temporal-payloads")
	src2, _ := kms.NewSource(w)
	cd2, _ := codec.New(src2)
	dec, err := cd2.ForNamespace("ns1").Decode(enc)
	if err != nil || !bytes.Equal(dec[0].GetData(), secret) {
		t.Fatalf("Decode after key rotation = %v, want the original", err)
	}
	out, err := cd2.ForNamespace("ns2").Decode(enc)
	if !errors.Is(err, kms.ErrUnwrap) || out != nil {
		t.Errorf("Decode in another namespace = %v, want ErrUnwrap", err)
	}
}

func TestErrorClasses(t *testing.T) {
	f, srv := newFakeVault(t)
	f.rotate("temporal-payloads")
	w := newWrapper(t, srv)
	ctx := context.Background()
	b := kms.Binding{Namespace: "ns", Algorithm: "aes-256-gcm"}
	wrapped, err := w.Wrap(ctx, make([]byte, 32), b)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), wrapped...)
	flipped[len(flipped)-1] ^= 1

	tests := []struct {
		name    string
		status  int
		wrapped []byte
		want    error
		notWant error
	}{
		{"throttled", 429, wrapped, kms.ErrThrottled, nil},
		{"server error", 503, wrapped, kms.ErrUnavailable, kms.ErrThrottled},
		{"forbidden", 403, wrapped, nil, kms.ErrUnavailable},
		{"altered", 0, flipped, kms.ErrUnwrap, kms.ErrUnavailable},
		{"malformed", 0, []byte{40, 1}, kms.ErrUnwrap, nil},
		{"unknown version", 0, append([]byte{3}, "abc..."...), kms.ErrUnwrap, nil},
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

func TestNewValidates(t *testing.T) {
	_, srv := newFakeVault(t)
	client, _ := azkeys.NewClient(srv.URL, fakeCredential{}, nil)
	for _, tt := range []struct{ url, key string }{
		{"http://vault", "k"}, {srv.URL, ""}, {srv.URL, "a/b"},
	} {
		if _, err := azurekv.New(client, tt.url, tt.key); err == nil {
			t.Errorf("New(%q, %q) succeeded", tt.url, tt.key)
		}
	}
	if _, err := azurekv.New(client, srv.URL, "k", azurekv.WithAlgorithm(azkeys.EncryptionAlgorithmRSA15)); err == nil {
		t.Error("WithAlgorithm accepted RSA1_5")
	}
}
