package codec_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

func testKey(t testing.TB, id string, alg aead.ID) *codec.Key {
	t.Helper()
	a, err := aead.Lookup(alg)
	if err != nil {
		t.Fatal(err)
	}
	material := bytes.Repeat([]byte{byte(len(id))}, a.KeySize())
	material[0] = id[0]
	k, err := codec.NewKey(id, alg, material)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCodec(t testing.TB, opts ...codec.Option) *codec.Codec {
	t.Helper()
	ring, err := codec.NewKeyring(testKey(t, "k1", aead.AES256GCM))
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(ring, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jsonPayload(t testing.TB, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	c := newCodec(t)
	in := []*commonpb.Payload{
		jsonPayload(t, map[string]any{"account": "ACCT-CANARY-1", "qty": 100}),
		jsonPayload(t, nil), // binary/null
		jsonPayload(t, []byte{0, 1, 2}),
		{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte{}},
		{Data: bytes.Repeat([]byte("x"), 1<<20)},
	}
	orig := make([]*commonpb.Payload, len(in))
	for i, p := range in {
		orig[i] = proto.Clone(p).(*commonpb.Payload)
	}

	enc, err := c.Encode(in)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if len(enc) != len(in) {
		t.Fatalf("Encode returned %d payloads, want %d", len(enc), len(in))
	}
	for i, p := range enc {
		if got := string(p.Metadata["encoding"]); got != codec.EncodingEncrypted {
			t.Errorf("payload %d encoding = %q, want %q", i, got, codec.EncodingEncrypted)
		}
		if bytes.Contains(p.Data, []byte("CANARY")) {
			t.Errorf("payload %d ciphertext contains plaintext", i)
		}
	}
	for i := range in {
		if !proto.Equal(in[i], orig[i]) {
			t.Errorf("Encode modified input %d", i)
		}
	}

	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	for i := range in {
		if !proto.Equal(dec[i], orig[i]) {
			t.Errorf("Decode(Encode(p%d)) differs from p%d", i, i)
		}
	}
}

func TestEncodeIsRandomized(t *testing.T) {
	c := newCodec(t)
	p := []*commonpb.Payload{jsonPayload(t, "same")}
	a, _ := c.Encode(p)
	b, _ := c.Encode(p)
	if bytes.Equal(a[0].Data, b[0].Data) {
		t.Fatal("two encodings of the same payload are identical; nonce reuse")
	}
}

func TestDecodePassesForeignPayloadsThrough(t *testing.T) {
	c := newCodec(t)
	foreign := []*commonpb.Payload{
		jsonPayload(t, "plain"),
		jsonPayload(t, nil),
		{Metadata: map[string][]byte{"encoding": []byte("binary/zlib")}, Data: []byte{1, 2}},
		{},
	}
	out, err := c.Decode(foreign)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	for i := range foreign {
		if !proto.Equal(out[i], foreign[i]) {
			t.Errorf("foreign payload %d changed", i)
		}
		if out[i] == foreign[i] {
			t.Errorf("foreign payload %d returned by pointer; output must not share memory with input", i)
		}
	}
}

func TestNilAndEmpty(t *testing.T) {
	c := newCodec(t)
	for _, in := range [][]*commonpb.Payload{nil, {}, {nil}, {nil, nil, nil}} {
		enc, err := c.Encode(in)
		if err != nil {
			t.Fatalf("Encode(%d payloads): %v", len(in), err)
		}
		if enc == nil || len(enc) != len(in) {
			t.Fatalf("Encode(%d payloads) returned %d (nil=%v)", len(in), len(enc), enc == nil)
		}
		dec, err := c.Decode(enc)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		for i, p := range dec {
			if p == nil || len(p.Data) != 0 || len(p.Metadata) != 0 {
				t.Errorf("payload %d = %v, want empty non-nil payload", i, p)
			}
		}
	}
	dec, err := c.Decode([]*commonpb.Payload{nil})
	if err != nil || len(dec) != 1 || dec[0] == nil {
		t.Fatalf("Decode([nil]) = %v, %v; want one empty payload", dec, err)
	}
}

func TestTamperedPayloadsFail(t *testing.T) {
	c := newCodec(t)
	enc, err := c.Encode([]*commonpb.Payload{jsonPayload(t, "secret order")})
	if err != nil {
		t.Fatal(err)
	}
	good := enc[0]

	tests := []struct {
		name   string
		mutate func(p *commonpb.Payload)
		want   error
	}{
		{"flip first data bit", func(p *commonpb.Payload) { p.Data[0] ^= 1 }, codec.ErrDecrypt},
		{"flip last data bit", func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 0x80 }, codec.ErrDecrypt},
		{"truncate", func(p *commonpb.Payload) { p.Data = p.Data[:len(p.Data)-1] }, codec.ErrDecrypt},
		{"empty data", func(p *commonpb.Payload) { p.Data = nil }, codec.ErrDecrypt},
		{"other algorithm", func(p *commonpb.Payload) {
			p.Metadata[codec.MetadataAlgorithm] = []byte(aead.ChaCha20Poly1305)
		}, codec.ErrDecrypt},
		{"unknown algorithm", func(p *commonpb.Payload) { p.Metadata[codec.MetadataAlgorithm] = []byte("none") }, codec.ErrDecrypt},
		{"no algorithm", func(p *commonpb.Payload) { delete(p.Metadata, codec.MetadataAlgorithm) }, codec.ErrDecrypt},
		{"unknown key", func(p *commonpb.Payload) { p.Metadata[codec.MetadataKeyID] = []byte("k9") }, codec.ErrUnknownKey},
		{"no key ID", func(p *commonpb.Payload) { delete(p.Metadata, codec.MetadataKeyID) }, codec.ErrDecrypt},
		{"future version", func(p *commonpb.Payload) { p.Metadata[codec.MetadataFormat] = []byte("2") }, codec.ErrUnsupportedVersion},
		{"garbage version", func(p *commonpb.Payload) { p.Metadata[codec.MetadataFormat] = []byte("v1") }, codec.ErrDecrypt},
		{"compression flag added", func(p *commonpb.Payload) { p.Metadata["encryption-compression"] = []byte("zstd") }, codec.ErrDecrypt},
		{"format marker removed", func(p *commonpb.Payload) { delete(p.Metadata, codec.MetadataFormat) }, codec.ErrLegacyFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := proto.Clone(good).(*commonpb.Payload)
			tt.mutate(p)
			out, err := c.Decode([]*commonpb.Payload{p})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, want %v", err, tt.want)
			}
			if out != nil {
				t.Fatalf("Decode returned payloads with an error")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks plaintext: %v", err)
			}
		})
	}
}

func TestErrorsNameIndexAndKeyID(t *testing.T) {
	c := newCodec(t)
	enc, _ := c.Encode([]*commonpb.Payload{jsonPayload(t, 1), jsonPayload(t, 2), jsonPayload(t, 3)})
	enc[1].Metadata[codec.MetadataKeyID] = []byte("retired-key")
	_, err := c.Decode(enc)
	var uk *codec.UnknownKeyError
	if !errors.As(err, &uk) || uk.ID != "retired-key" {
		t.Fatalf("Decode = %v, want UnknownKeyError for retired-key", err)
	}
	if !strings.Contains(err.Error(), "payload 1") {
		t.Fatalf("error %q does not name the payload index", err)
	}
}

func TestMovedBetweenKeysFails(t *testing.T) {
	// A payload sealed under k1 relabelled as k2 must not open, even though
	// the codec holds k2.
	k1, k2 := testKey(t, "k1", aead.AES256GCM), testKey(t, "k2", aead.AES256GCM)
	r1, _ := codec.NewKeyring(k1, k2)
	c, _ := codec.New(r1)
	enc, _ := c.Encode([]*commonpb.Payload{jsonPayload(t, "x")})
	enc[0].Metadata[codec.MetadataKeyID] = []byte("k2")
	if _, err := c.Decode(enc); !errors.Is(err, codec.ErrDecrypt) {
		t.Fatalf("Decode = %v, want ErrDecrypt", err)
	}
}

func TestFailingRandomSource(t *testing.T) {
	tests := []struct {
		name string
		src  io.Reader
	}{
		{"short read", bytes.NewReader(make([]byte, 5))},
		{"read error", iotest.ErrReader(errors.New("entropy gone"))},
		{"empty", bytes.NewReader(nil)},
		{"never makes progress", zeroReader{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCodec(t, codec.WithRandom(tt.src))
			out, err := c.Encode([]*commonpb.Payload{jsonPayload(t, "x")})
			if !errors.Is(err, codec.ErrRandom) || out != nil {
				t.Fatalf("Encode = %v, %v; want ErrRandom and no payloads", out, err)
			}
		})
	}
}

// legacyEncode writes a payload the way Temporal's published encryption
// samples do: 12-byte nonce ‖ AES-256-GCM(serialized payload), no AD.
func legacyEncode(t *testing.T, key []byte, keyID string, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	plain, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := bytes.Repeat([]byte{7}, 12)
	return &commonpb.Payload{
		Metadata: map[string][]byte{
			"encoding":          []byte("binary/encrypted"),
			"encryption-key-id": []byte(keyID),
		},
		Data: gcm.Seal(nonce, nonce, plain, nil),
	}
}

func TestLegacyFormat(t *testing.T) {
	material := bytes.Repeat([]byte{42}, 32)
	k, _ := codec.NewKey("default-key", aead.AES256GCM, material)
	ring, _ := codec.NewKeyring(k)
	orig := jsonPayload(t, "from the python template")
	legacy := legacyEncode(t, material, "default-key", orig)

	off, _ := codec.New(ring)
	if _, err := off.Decode([]*commonpb.Payload{legacy}); !errors.Is(err, codec.ErrLegacyFormat) {
		t.Fatalf("Decode without legacy = %v, want ErrLegacyFormat", err)
	}

	on, _ := codec.New(ring, codec.WithLegacyFormat(true))
	out, err := on.Decode([]*commonpb.Payload{legacy})
	if err != nil {
		t.Fatalf("Decode with legacy: %v", err)
	}
	if !proto.Equal(out[0], orig) {
		t.Fatal("legacy payload decoded to something else")
	}

	wrongID := legacyEncode(t, material, "other-key", orig)
	if _, err := on.Decode([]*commonpb.Payload{wrongID}); !errors.Is(err, codec.ErrUnknownKey) {
		t.Fatalf("Decode legacy with unknown key = %v, want ErrUnknownKey", err)
	}
	legacy.Data[20] ^= 1
	if _, err := on.Decode([]*commonpb.Payload{legacy}); !errors.Is(err, codec.ErrDecrypt) {
		t.Fatalf("Decode tampered legacy = %v, want ErrDecrypt", err)
	}
}

func TestDataConverterRoundTrip(t *testing.T) {
	dc := codec.NewDataConverter(newCodec(t))
	type order struct {
		Account string
		Qty     int
	}
	p, err := dc.ToPayload(order{"ACCT-1", 5})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata["encoding"]) != codec.EncodingEncrypted {
		t.Fatalf("ToPayload encoding = %q", p.Metadata["encoding"])
	}
	var got order
	if err := dc.FromPayload(p, &got); err != nil || got != (order{"ACCT-1", 5}) {
		t.Fatalf("FromPayload = %+v, %v", got, err)
	}
}

// zeroReader returns nothing and no error, forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }
