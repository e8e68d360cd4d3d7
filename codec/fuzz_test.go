package codec_test

import (
	"bytes"
	"errors"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

func fuzzCodecs(t testing.TB) map[string]*codec.Codec {
	ring, err := codec.NewKeyring(testKey(t, "k1", aead.AES256GCM),
		testKey(t, "k2", aead.XChaCha20Poly1305))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(opts ...codec.Option) *codec.Codec {
		c, err := codec.New(ring, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return map[string]*codec.Codec{
		"plain":      mk(),
		"zstd":       mk(codec.WithCompression(1)),
		"strict":     mk(codec.WithStrict(true), codec.WithLegacyFormat(true)),
		"namespaced": mk(codec.WithNamespaceBinding(true)).ForNamespace("ns1"),
	}
}

// FuzzDecode feeds Decode payloads with arbitrary metadata and data,
// seeded with real encodings. Properties: no panic; exactly one payload or
// an error; a payload that is not ours comes back unchanged unless strict
// mode rejects it; nothing that fails to authenticate is returned.
func FuzzDecode(f *testing.F) {
	for _, c := range fuzzCodecs(f) {
		for _, p := range []*commonpb.Payload{
			{Data: []byte("x")},
			jsonishPayload(2000),
			{},
		} {
			enc, err := c.Encode([]*commonpb.Payload{p})
			if err != nil {
				f.Fatal(err)
			}
			e := enc[0]
			f.Add(e.Metadata["encoding"], e.Metadata["encryption-format"], e.Metadata["encryption-algorithm"],
				e.Metadata["encryption-key-id"], e.Metadata["encryption-compression"], e.Metadata["encryption-scope"], e.Data)
		}
	}
	f.Add([]byte("json/plain"), []byte(nil), []byte(nil), []byte(nil), []byte(nil), []byte(nil), []byte(`"hi"`))
	f.Add([]byte("binary/encrypted"), []byte(nil), []byte(nil), []byte("k1"), []byte(nil), []byte(nil), make([]byte, 40))

	codecs := fuzzCodecs(f)
	f.Fuzz(func(t *testing.T, encoding, format, alg, keyID, compression, scope, data []byte) {
		md := map[string][]byte{}
		for k, v := range map[string][]byte{
			"encoding": encoding, codec.MetadataFormat: format, codec.MetadataAlgorithm: alg,
			codec.MetadataKeyID: keyID, codec.MetadataCompression: compression, codec.MetadataScope: scope,
		} {
			if v != nil {
				md[k] = v
			}
		}
		in := &commonpb.Payload{Metadata: md, Data: data}
		orig := proto.Clone(in).(*commonpb.Payload)
		for name, c := range codecs {
			out, err := c.Decode([]*commonpb.Payload{in})
			if !proto.Equal(in, orig) {
				t.Fatalf("%s: Decode modified its input", name)
			}
			if err != nil {
				if out != nil {
					t.Fatalf("%s: Decode returned payloads with error %v", name, err)
				}
				continue
			}
			if len(out) != 1 || out[0] == nil {
				t.Fatalf("%s: Decode returned %d payloads", name, len(out))
			}
			if string(encoding) != codec.EncodingEncrypted && !proto.Equal(out[0], in) {
				t.Fatalf("%s: foreign payload changed", name)
			}
			if string(encoding) != codec.EncodingEncrypted && name == "strict" {
				t.Fatalf("strict mode passed a plaintext payload through")
			}
		}
	})
}

// FuzzRoundTrip: Decode(Encode(x)) == x for every codec configuration,
// and flipping any one bit of the result makes it fail to authenticate.
func FuzzRoundTrip(f *testing.F) {
	f.Add("json/plain", []byte(`{"account":"ACCT-1"}`), uint16(0))
	f.Add("binary/null", []byte(nil), uint16(3))
	f.Add("", bytes.Repeat([]byte("abc"), 500), uint16(999))
	codecs := fuzzCodecs(f)
	f.Fuzz(func(t *testing.T, encoding string, data []byte, flip uint16) {
		in := &commonpb.Payload{Data: data}
		if encoding != "" {
			in.Metadata = map[string][]byte{"encoding": []byte(encoding)}
		}
		for name, c := range codecs {
			enc, err := c.Encode([]*commonpb.Payload{in})
			if err != nil {
				if errors.Is(err, codec.ErrPayloadTooLarge) {
					continue
				}
				t.Fatalf("%s: Encode: %v", name, err)
			}
			dec, err := c.Decode(enc)
			if err != nil {
				t.Fatalf("%s: Decode(Encode(x)): %v", name, err)
			}
			if !proto.Equal(dec[0], in) && (len(in.Data) > 0 || len(dec[0].Data) > 0) {
				t.Fatalf("%s: Decode(Encode(x)) != x", name)
			}
			bit := int(flip) % (8 * len(enc[0].Data))
			enc[0].Data[bit/8] ^= 1 << (bit % 8)
			if _, err := c.Decode(enc); !errors.Is(err, codec.ErrDecrypt) {
				t.Fatalf("%s: Decode after flipping bit %d = %v, want ErrDecrypt", name, bit, err)
			}
		}
	})
}
