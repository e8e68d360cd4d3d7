package bench_test

import (
	"bytes"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/bench"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

func TestSampleCodecRoundTrip(t *testing.T) {
	c := newSample(t)
	for _, size := range []int{0, 64, 1 << 10, 64 << 10} {
		in := []*commonpb.Payload{bench.Payload(bench.JSON, size), bench.Payload(bench.Random, size)}
		enc, err := c.Encode(in)
		if err != nil {
			t.Fatalf("Encode(%d bytes): %v", size, err)
		}
		for i, p := range enc {
			if got := string(p.Metadata["encoding"]); got != "binary/encrypted" {
				t.Errorf("payload %d: encoding = %q, want binary/encrypted", i, got)
			}
			if got := string(p.Metadata["encryption-key-id"]); got != "bench-key" {
				t.Errorf("payload %d: encryption-key-id = %q, want bench-key", i, got)
			}
			if size > 0 && bytes.Contains(p.Data, in[i].Data) {
				t.Errorf("payload %d: ciphertext contains the plaintext", i)
			}
		}
		dec, err := c.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(%d bytes)): %v", size, err)
		}
		for i := range in {
			if !proto.Equal(dec[i], in[i]) {
				t.Errorf("Decode(Encode(p)) != p for payload %d of %d bytes", i, size)
			}
		}
	}
}

func TestSampleCodecRejects(t *testing.T) {
	c := newSample(t)
	enc, err := c.Encode([]*commonpb.Payload{bench.Payload(bench.JSON, 64)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(p *commonpb.Payload)
	}{
		{"flipped bit", func(p *commonpb.Payload) { p.Data[20] ^= 1 }},
		{"truncated", func(p *commonpb.Payload) { p.Data = p.Data[:5] }},
		{"other key ID", func(p *commonpb.Payload) { p.Metadata["encryption-key-id"] = []byte("other") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := proto.Clone(enc[0]).(*commonpb.Payload)
			tt.mutate(p)
			if _, err := c.Decode([]*commonpb.Payload{p}); err == nil {
				t.Errorf("Decode accepted a payload with a %s", tt.name)
			}
		})
	}
}

func TestSampleCodecPassesForeignPayloads(t *testing.T) {
	in := bench.Payload(bench.JSON, 64)
	out, err := newSample(t).Decode([]*commonpb.Payload{in})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(out[0], in) {
		t.Error("Decode changed a payload that was not encrypted")
	}
}

// TestSampleCodecIsTheLegacyFormat checks the baseline against the format
// it claims to follow: this project's codec, which reads the published
// samples' payloads with WithLegacyFormat, must read the baseline's.
func TestSampleCodecIsTheLegacyFormat(t *testing.T) {
	k, err := codec.NewKey("bench-key", aead.AES256GCM, keyMaterial(32))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := codec.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := codec.New(ring, codec.WithLegacyFormat(true))
	if err != nil {
		t.Fatal(err)
	}
	in := []*commonpb.Payload{bench.Payload(bench.Orders, 2<<10)}
	enc, err := newSample(t).Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := ours.Decode(enc)
	if err != nil {
		t.Fatalf("codec with WithLegacyFormat cannot read the sample-style codec: %v", err)
	}
	if !proto.Equal(dec[0], in[0]) {
		t.Error("codec read the sample-style payload back wrong")
	}
}

func TestNewSampleCodecKeySize(t *testing.T) {
	if _, err := bench.NewSampleCodec("k", make([]byte, 16)); err == nil {
		t.Error("NewSampleCodec accepted a 16-byte key")
	}
}

// TestZlibSampleOrder checks that the chain compresses before it
// encrypts: the sample codec alone must unwrap it to a zlib payload.
func TestZlibSampleOrder(t *testing.T) {
	sample := newSample(t)
	chain := bench.NewZlibSample(sample)
	in := []*commonpb.Payload{bench.Payload(bench.JSON, 16<<10)}
	enc, err := chain.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(enc[0].Metadata["encoding"]); got != "binary/encrypted" {
		t.Fatalf("outer encoding = %q, want binary/encrypted", got)
	}
	inner, err := sample.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(inner[0].Metadata["encoding"]); got != "binary/zlib" {
		t.Errorf("inner encoding = %q, want binary/zlib", got)
	}
	dec, err := chain.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(dec[0], in[0]) {
		t.Error("chain Decode(Encode(p)) != p")
	}
}
