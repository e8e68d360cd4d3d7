package fuzz_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
)

func newDataConverter(t testing.TB, opts ...codec.Option) converter.DataConverter {
	t.Helper()
	k, err := codec.NewKey("fuzz", aead.ChaCha20Poly1305, bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := codec.NewKeyring(k)
	c, err := codec.New(ring, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return codec.NewDataConverter(c)
}

// FuzzDataConverter drives the converter the SDK uses, end to end: any
// JSON value survives ToPayloads then FromPayloads, the payloads on the
// wire are all encrypted and carry none of the input, and any payload the
// server could hand back (arbitrary bytes) is either decoded or refused
// with an error, never a panic.
func FuzzDataConverter(f *testing.F) {
	f.Add(`{"account":"ACCT-7781","positions":[{"sym":"ACME","qty":100}]}`, []byte("garbage"))
	f.Add(`"plain string"`, []byte{})
	f.Add(`null`, []byte{0x0a, 0x00})
	dcs := []converter.DataConverter{
		newDataConverter(f),
		newDataConverter(f, codec.WithCompression(1)),
	}
	f.Fuzz(func(t *testing.T, doc string, raw []byte) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		for _, dc := range dcs {
			ps, err := dc.ToPayloads(v)
			if err != nil {
				t.Fatalf("ToPayloads: %v", err)
			}
			for _, p := range ps.GetPayloads() {
				if string(p.Metadata["encoding"]) != codec.EncodingEncrypted {
					t.Fatalf("payload on the wire has encoding %q", p.Metadata["encoding"])
				}
				if len(doc) >= 8 && bytes.Contains(p.Data, []byte(doc)) {
					t.Fatal("plaintext visible in the encrypted payload")
				}
			}
			var back any
			if err := dc.FromPayloads(ps, &back); err != nil {
				t.Fatalf("FromPayloads: %v", err)
			}
			want, _ := json.Marshal(v)
			got, _ := json.Marshal(back)
			if !bytes.Equal(want, got) {
				t.Fatalf("round trip changed %s into %s", want, got)
			}

			// Hostile payloads: ours with arbitrary data, and arbitrary
			// bytes as a whole serialized payload.
			forged := proto.Clone(ps.GetPayloads()[0]).(*commonpb.Payload)
			forged.Data = raw
			var sink any
			if err := dc.FromPayload(forged, &sink); err == nil {
				t.Fatal("a forged encrypted payload decoded")
			}
			var p commonpb.Payload
			if proto.Unmarshal(raw, &p) == nil {
				_ = dc.FromPayload(&p, &sink) // must not panic
			}
		}
	})
}

// FuzzKeyLoading: key strings from the environment are accepted only at
// exactly the algorithm's size, errors never echo the input, and an
// accepted key works in the codec.
func FuzzKeyLoading(f *testing.F) {
	f.Add("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "aes-256-gcm")
	f.Add("AAECAwQFBgcICQoLDA0ODw==", "aes-128-gcm")
	f.Add("not a key", "chacha20-poly1305")
	f.Fuzz(func(t *testing.T, key, alg string) {
		ring, err := envkey.LoadFrom(func(name string) string {
			switch name {
			case envkey.VarKey:
				return key
			case envkey.VarAlgorithm:
				return alg
			}
			return ""
		})
		if err != nil {
			if len(key) >= 8 && bytes.Contains([]byte(err.Error()), []byte(key)) {
				t.Fatalf("error echoes the key: %v", err)
			}
			return
		}
		c, err := codec.New(ring)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Decode(enc); err != nil && !errors.Is(err, codec.ErrDecrypt) {
			t.Fatal(err)
		}
	})
}
