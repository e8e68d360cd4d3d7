package pkcs11_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ThalesGroup/crypto11"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/kms"
	"github.com/temporal-encryption/temporal-encryption/codec/pkcs11"
)

const softHSM = "/usr/lib/softhsm/libsofthsm2.so"

// newToken initializes a fresh SoftHSM2 token in a temporary directory and
// returns a crypto11 context logged in to it. Without SoftHSM2 the test
// fails, unless -short is given: scripts/install-softhsm.sh installs it.
func newToken(t *testing.T) *crypto11.Context {
	t.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if _, statErr := os.Stat(softHSM); statErr != nil || err != nil {
		if testing.Short() {
			t.Skip("SoftHSM2 is not installed; skipped in -short mode")
		}
		t.Fatalf("SoftHSM2 is not installed (%s, softhsm2-util); run scripts/install-softhsm.sh", softHSM)
	}

	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	cmd := exec.Command(util, "--init-token", "--free", "--label", "temporal-test", "--pin", "1234", "--so-pin", "5678")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}

	c, err := crypto11.Configure(&crypto11.Config{
		Path:        softHSM,
		TokenLabel:  "temporal-test",
		Pin:         "1234",
		GCMIVLength: 12,
	})
	if err != nil {
		t.Fatalf("crypto11.Configure: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newWrapper(t *testing.T, c *crypto11.Context, label string) *pkcs11.Wrapper {
	t.Helper()
	if err := pkcs11.GenerateKey(c, label); err != nil {
		t.Fatal(err)
	}
	w, err := pkcs11.New(c, label)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var secret = []byte(`"CANARY-hsm-51d0"`)

func TestRoundTripThroughCodec(t *testing.T) {
	c := newToken(t)
	w := newWrapper(t, c, "master-1")
	if w.Name() != "pkcs11:object=master-1" {
		t.Errorf("Name() = %q", w.Name())
	}
	src, err := kms.NewSource(w)
	if err != nil {
		t.Fatal(err)
	}
	cd, _ := codec.New(src)
	ns1 := cd.ForNamespace("ns1")
	enc, err := ns1.Encode([]*commonpb.Payload{{Data: secret}})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}

	// A second process: a new source unwraps in the token.
	src2, _ := kms.NewSource(w)
	cd2, _ := codec.New(src2)
	dec, err := cd2.ForNamespace("ns1").Decode(enc)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !bytes.Equal(dec[0].GetData(), secret) {
		t.Fatal("Decode(Encode(x)) != x")
	}
	out, err := cd2.ForNamespace("ns2").Decode(enc)
	if !errors.Is(err, kms.ErrUnwrap) || out != nil {
		t.Errorf("Decode in another namespace = %v, want ErrUnwrap", err)
	}
}

func TestUnwrapRejects(t *testing.T) {
	c := newToken(t)
	w1, w2 := newWrapper(t, c, "master-1"), newWrapper(t, c, "master-2")
	ctx := context.Background()
	b := kms.Binding{Namespace: "ns", Algorithm: "aes-256-gcm"}
	dek := bytes.Repeat([]byte{7}, 32)
	wrapped, err := w1.Wrap(ctx, dek, b)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := w1.Unwrap(ctx, wrapped, b); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap = %v, want the data key", err)
	}
	flipped := append([]byte(nil), wrapped...)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name    string
		w       *pkcs11.Wrapper
		wrapped []byte
		b       kms.Binding
	}{
		{"other master key", w2, wrapped, b},
		{"other namespace", w1, wrapped, kms.Binding{Namespace: "other", Algorithm: b.Algorithm}},
		{"other algorithm", w1, wrapped, kms.Binding{Namespace: "ns", Algorithm: "chacha20-poly1305"}},
		{"bit flipped", w1, flipped, b},
		{"truncated", w1, wrapped[:20], b},
		{"empty", w1, nil, b},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.w.Unwrap(ctx, tt.wrapped, tt.b)
			if !errors.Is(err, kms.ErrUnwrap) || got != nil {
				t.Errorf("Unwrap = %v, want ErrUnwrap", err)
			}
		})
	}
}

func TestKeySetup(t *testing.T) {
	c := newToken(t)
	if _, err := pkcs11.New(c, "missing"); err == nil {
		t.Error("New found a key that does not exist")
	}
	if err := pkcs11.GenerateKey(c, "k"); err != nil {
		t.Fatal(err)
	}
	if err := pkcs11.GenerateKey(c, "k"); err == nil {
		t.Error("GenerateKey made a second key with the same label")
	}
}
