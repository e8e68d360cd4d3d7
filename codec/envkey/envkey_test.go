package envkey_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadAcceptsEncodings(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 11)[:32] // has '+', '/' in base64
	tests := []struct {
		name  string
		value string
	}{
		{"hex", hex.EncodeToString(key)},
		{"hex upper", strings.ToUpper(hex.EncodeToString(key))},
		{"base64", base64.StdEncoding.EncodeToString(key)},
		{"base64 raw", base64.RawStdEncoding.EncodeToString(key)},
		{"base64url", base64.URLEncoding.EncodeToString(key)},
		{"trailing newline", hex.EncodeToString(key) + "\n"},
	}
	var ref []*commonpb.Payload
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ring, err := envkey.LoadFrom(env(map[string]string{envkey.VarKey: tt.value}))
			if err != nil {
				t.Fatalf("LoadFrom: %v", err)
			}
			c, _ := codec.New(ring)
			if ref == nil {
				ref, _ = c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
				return
			}
			// Every spelling must yield the same key.
			if _, err := c.Decode(ref); err != nil {
				t.Fatalf("key decoded from %s differs: %v", tt.name, err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	secret := hex.EncodeToString(bytes.Repeat([]byte{0xab}, 31))
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"missing", nil, "is not set"},
		{"31 bytes hex", map[string]string{envkey.VarKey: secret}, "31 bytes"},
		{"33 bytes base64", map[string]string{envkey.VarKey: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 33))}, "33 bytes"},
		{"16 bytes", map[string]string{envkey.VarKey: hex.EncodeToString(make([]byte, 16))}, "16 bytes"},
		{"not encoded", map[string]string{envkey.VarKey: "correct-horse-battery-staple!"}, "neither hex nor base64"},
		{"unknown algorithm", map[string]string{envkey.VarKey: hex.EncodeToString(make([]byte, 32)), envkey.VarAlgorithm: "rot13"}, "unknown algorithm"},
		{"3 hex digits", map[string]string{envkey.VarKey: "abc"}, "3 hex digits, an odd number"},
		{"22 hex digits for aes-128", map[string]string{envkey.VarKey: hex.EncodeToString(make([]byte, 11)), envkey.VarAlgorithm: "aes-128-gcm"}, "hex decodes to 11 bytes"},
		{"line break inside base64", map[string]string{envkey.VarKey: base64.StdEncoding.EncodeToString(make([]byte, 32))[:20] + "\n" + base64.StdEncoding.EncodeToString(make([]byte, 32))[20:]}, "white space"},
		{"stray trailing bits", map[string]string{envkey.VarKey: base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32))[:42] + "/"}, "neither hex nor base64"},
		{"aes-128 with 32 bytes", map[string]string{envkey.VarKey: hex.EncodeToString(make([]byte, 32)), envkey.VarAlgorithm: "aes-128-gcm"}, "hex decodes to 32 bytes; need exactly 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := envkey.LoadFrom(env(tt.env))
			if err == nil {
				t.Fatal("LoadFrom succeeded, want error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line containing %q", msg, tt.want)
			}
			if v := tt.env[envkey.VarKey]; v != "" && strings.Contains(msg, v) {
				t.Fatalf("error %q echoes the key", msg)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	a, err := envkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := envkey.Generate()
	if a == b || len(a) != 64 {
		t.Fatalf("Generate gave %d chars, equal=%v", len(a), a == b)
	}
	if _, err := envkey.LoadFrom(env(map[string]string{envkey.VarKey: a})); err != nil {
		t.Fatalf("generated key does not load: %v", err)
	}
}
