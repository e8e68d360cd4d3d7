package codec_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

func TestStrictMode(t *testing.T) {
	lax := newCodec(t)
	strict := newCodec(t, codec.WithStrict(true))
	enc, _ := lax.Encode([]*commonpb.Payload{jsonPayload(t, "x")})
	if _, err := strict.Decode(enc); err != nil {
		t.Fatalf("strict Decode of our payload: %v", err)
	}
	for _, p := range []*commonpb.Payload{jsonPayload(t, "plain"), jsonPayload(t, nil), nil, {}} {
		if _, err := strict.Decode([]*commonpb.Payload{p}); !errors.Is(err, codec.ErrNotEncrypted) {
			t.Errorf("strict Decode(%v) = %v, want ErrNotEncrypted", p, err)
		}
	}
}

func TestCompression(t *testing.T) {
	c := newCodec(t, codec.WithCompression(0))
	big, small := jsonishPayload(64<<10), jsonishPayload(100)
	random := &commonpb.Payload{Data: make([]byte, 4096)}
	for i := range random.Data {
		random.Data[i] = byte(i*7919 + i>>3*31)
	}
	enc, err := c.Encode([]*commonpb.Payload{big, small, random})
	if err != nil {
		t.Fatal(err)
	}
	if string(enc[0].Metadata[codec.MetadataCompression]) != "zstd" || len(enc[0].Data) > len(big.Data)/2 {
		t.Errorf("64 KiB of JSON: compression %q, %d bytes", enc[0].Metadata[codec.MetadataCompression], len(enc[0].Data))
	}
	if _, ok := enc[1].Metadata[codec.MetadataCompression]; ok {
		t.Error("a payload under the minimum size was compressed")
	}
	// Decoding does not depend on the encoding options.
	plainReader := newCodec(t)
	dec, err := plainReader.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []*commonpb.Payload{big, small, random} {
		if !proto.Equal(dec[i], want) {
			t.Errorf("payload %d did not round-trip", i)
		}
	}
	// The flag is authenticated.
	delete(enc[0].Metadata, codec.MetadataCompression)
	if _, err := plainReader.Decode(enc[:1]); !errors.Is(err, codec.ErrDecrypt) {
		t.Fatalf("Decode with the compression flag removed = %v, want ErrDecrypt", err)
	}
}

func TestMaxDecodedSize(t *testing.T) {
	writer := newCodec(t, codec.WithCompression(0), codec.WithMaxPayloadSize(8<<20))
	enc, err := writer.Encode([]*commonpb.Payload{jsonishPayload(4 << 20)})
	if err != nil {
		t.Fatal(err)
	}
	// A tiny payload that expands to 4 MiB, read by a codec capped at 1 MiB.
	reader := newCodec(t, codec.WithMaxDecodedSize(1<<20))
	_, err = reader.Decode(enc)
	var tooLarge *codec.PayloadTooLargeError
	if !errors.As(err, &tooLarge) || !tooLarge.Decoded {
		t.Fatalf("Decode of a 4 MiB bomb with a 1 MiB cap = %v, want decoded PayloadTooLargeError", err)
	}
	// And the writer side refuses to produce what its own cap forbids.
	capped := newCodec(t, codec.WithCompression(0), codec.WithMaxDecodedSize(1<<20))
	if _, err := capped.Encode([]*commonpb.Payload{jsonishPayload(2 << 20)}); !errors.Is(err, codec.ErrPayloadTooLarge) {
		t.Fatalf("Encode over the decoded cap = %v, want ErrPayloadTooLarge", err)
	}
}

func TestSizeGuard(t *testing.T) {
	var events []codec.SizeEvent
	c := newCodec(t, codec.WithMaxPayloadSize(10_000),
		codec.WithSizeWarning(5_000, func(e codec.SizeEvent) { events = append(events, e) }))
	if _, err := c.Encode([]*commonpb.Payload{{Data: make([]byte, 4_000)}}); err != nil || len(events) != 0 {
		t.Fatalf("4000 B: %v, %d warnings", err, len(events))
	}
	if _, err := c.Encode([]*commonpb.Payload{{Data: make([]byte, 6_000)}}); err != nil || len(events) != 1 {
		t.Fatalf("6000 B: %v, %d warnings", err, len(events))
	}
	if e := events[0]; e.Size <= 6_000 || e.Threshold != 5_000 || e.Limit != 10_000 || e.KeyID != "k1" {
		t.Errorf("warning = %+v", e)
	}
	out, err := c.Encode([]*commonpb.Payload{{Data: make([]byte, 9_990)}})
	var tooLarge *codec.PayloadTooLargeError
	if !errors.As(err, &tooLarge) || out != nil || tooLarge.Limit != 10_000 || tooLarge.Size <= 10_000 {
		t.Fatalf("Encode over the limit = %v, %v; want PayloadTooLargeError", out, err)
	}
	for _, want := range []string{"10000", "over the limit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Fatalf("too-large error %v is not a non-retryable application error", err)
	}
}

func TestNamespaceBinding(t *testing.T) {
	base := newCodec(t, codec.WithNamespaceBinding(true))
	dc := converter.WorkflowSerializationContext{Namespace: "bank-a", WorkflowID: "wf-1"}
	a := base.WithSerializationContext(dc)
	enc, err := a.Encode([]*commonpb.Payload{jsonPayload(t, "tenant A")})
	if err != nil {
		t.Fatal(err)
	}
	if string(enc[0].Metadata[codec.MetadataScope]) != "namespace" {
		t.Fatalf("scope = %q, want namespace", enc[0].Metadata[codec.MetadataScope])
	}
	// Same namespace, other workflow (as the codec server sees it): fine.
	if _, err := base.ForNamespace("bank-a").Decode(enc); err != nil {
		t.Fatalf("Decode in the same namespace: %v", err)
	}
	activity := base.WithSerializationContext(converter.ActivitySerializationContext{Namespace: "bank-a"})
	if _, err := activity.Decode(enc); err != nil {
		t.Fatalf("Decode from an activity of the same namespace: %v", err)
	}
	if _, err := base.ForNamespace("bank-b").Decode(enc); !errors.Is(err, codec.ErrDecrypt) {
		t.Fatalf("Decode in another namespace = %v, want ErrDecrypt", err)
	}
	if _, err := base.Decode(enc); !errors.Is(err, codec.ErrNoNamespace) {
		t.Fatalf("Decode with no namespace = %v, want ErrNoNamespace", err)
	}
	// Removing the scope marker is tampering.
	delete(enc[0].Metadata, codec.MetadataScope)
	if _, err := base.ForNamespace("bank-a").Decode(enc); !errors.Is(err, codec.ErrDecrypt) {
		t.Fatalf("Decode with the scope removed = %v, want ErrDecrypt", err)
	}
	// Without a namespace, encoding leaves the payload unbound, and only a
	// strict codec refuses it where the namespace is known.
	unbound, _ := base.Encode([]*commonpb.Payload{jsonPayload(t, 1)})
	if _, ok := unbound[0].Metadata[codec.MetadataScope]; ok {
		t.Fatal("payload bound although no namespace was known")
	}
	if _, err := base.ForNamespace("bank-b").Decode(unbound); err != nil {
		t.Fatalf("lax Decode of an unbound payload: %v", err)
	}
	strict := newCodec(t, codec.WithNamespaceBinding(true), codec.WithStrict(true))
	if _, err := strict.ForNamespace("bank-b").Decode(unbound); !errors.Is(err, codec.ErrNotBound) {
		t.Fatalf("strict Decode of an unbound payload = %v, want ErrNotBound", err)
	}
	// Typed nil contexts are ignored, not dereferenced.
	base.WithSerializationContext((*converter.WorkflowSerializationContext)(nil))
	base.WithSerializationContext((*converter.ActivitySerializationContext)(nil))
}

// failingSource fails like an unreachable KMS.
type failingSource struct{ err error }

func (s failingSource) EncryptionKey(context.Context) (*codec.Key, error) { return nil, s.err }
func (s failingSource) DecryptionKey(context.Context, codec.KeyRef) (*codec.Key, error) {
	return nil, s.err
}

func TestKeySourceFailuresFailClosed(t *testing.T) {
	outage := failingSource{err: errors.Join(codec.ErrUnavailable, errors.New("kms: throttled"))}
	c, _ := codec.New(outage)
	out, err := c.Encode([]*commonpb.Payload{jsonPayload(t, "must not leak")})
	if err == nil || out != nil {
		t.Fatalf("Encode with the key source down = %v, %v; want an error and nothing", out, err)
	}
	var wtf *converter.WorkflowTaskFailureError
	if !errors.As(err, &wtf) || !errors.Is(err, codec.ErrUnavailable) {
		t.Fatalf("Encode error %v should fail the workflow task and wrap ErrUnavailable", err)
	}

	enc, _ := newCodec(t).Encode([]*commonpb.Payload{jsonPayload(t, 1)})
	if _, err := c.Decode(enc); !errors.As(err, &wtf) {
		t.Fatalf("Decode error %v should fail the workflow task", err)
	}
	// A forged payload is not something a retry fixes.
	enc[0].Data[0] ^= 1
	if _, err := newCodec(t).Decode(enc); errors.As(err, &wtf) || !errors.Is(err, codec.ErrDecrypt) {
		t.Fatalf("Decode of a forged payload = %v, want plain ErrDecrypt", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	ring, _ := codec.NewKeyring(testKey(t, "k1", aead.AES256GCM))
	for name, opt := range map[string]codec.Option{
		"negative compression": codec.WithCompression(-1),
		"tiny decoded cap":     codec.WithMaxDecodedSize(10),
		"huge decoded cap":     codec.WithMaxDecodedSize(2 << 30),
		"zero payload limit":   codec.WithMaxPayloadSize(0),
		"nil random":           codec.WithRandom(nil),
		"nil size hook":        codec.WithSizeWarning(1, nil),
		"nil usage hook":       codec.WithKeyUsageWarning(1, nil),
	} {
		if _, err := codec.New(ring, opt); err == nil {
			t.Errorf("%s: New succeeded, want error", name)
		}
	}
	if _, err := codec.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}
