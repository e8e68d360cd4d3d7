package kms_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

func TestRoundTripEveryAlgorithm(t *testing.T) {
	for _, a := range aead.All() {
		t.Run(string(a.ID()), func(t *testing.T) {
			f := newFakeKMS(t, "master-1")
			c := newCodec(t, newSource(t, f, kms.WithAlgorithm(a.ID())), "ns1")
			p := encodeOne(t, c, 0)
			if got := string(p.GetMetadata()[codec.MetadataAlgorithm]); got != string(a.ID()) {
				t.Errorf("algorithm = %q, want %q", got, a.ID())
			}
			// A reader configured for another algorithm still opens it:
			// the algorithm is bound to the wrapped key.
			reader := newCodec(t, newSource(t, f, kms.WithAlgorithm(aead.AES128GCM)), "ns1")
			out, err := reader.Decode([]*commonpb.Payload{p})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !bytes.Equal(out[0].GetData(), plain(0).GetData()) {
				t.Errorf("Decode(Encode(x)) != x")
			}
		})
	}
}

func TestNamespaceBinding(t *testing.T) {
	// One master key shared by all namespaces: a payload moved into another
	// namespace's history must not open there.
	f := newFakeKMS(t, "shared")
	src := newSource(t, f)
	a, b := newCodec(t, src, "tenant-a"), newCodec(t, src, "tenant-b")
	pa := encodeOne(t, a, 0)
	if _, err := a.Decode([]*commonpb.Payload{pa}); err != nil {
		t.Fatalf("Decode in own namespace: %v", err)
	}
	// Even though this process holds the data key in its cache.
	out, err := b.Decode([]*commonpb.Payload{pa})
	checkNoPlaintext(t, err, out)
	if !errors.Is(err, kms.ErrUnwrap) {
		t.Errorf("Decode of tenant-a's payload in tenant-b = %v, want ErrUnwrap", err)
	}
	// And the algorithm is bound too: relabelling needs a matching tag,
	// but the key service already refuses the data key.
	moved := cloneWith(pa, codec.MetadataAlgorithm, string(aead.ChaCha20Poly1305))
	out, err = a.Decode([]*commonpb.Payload{moved})
	checkNoPlaintext(t, err, out)
	if !errors.Is(err, kms.ErrUnwrap) {
		t.Errorf("Decode with the algorithm relabelled = %v, want ErrUnwrap", err)
	}
}

func cloneWith(p *commonpb.Payload, key, value string) *commonpb.Payload {
	md := make(map[string][]byte, len(p.GetMetadata()))
	for k, v := range p.GetMetadata() {
		md[k] = v
	}
	md[key] = []byte(value)
	return &commonpb.Payload{Metadata: md, Data: p.GetData()}
}

// TestCryptoShredding destroys one tenant's master key and checks that the
// tenant's payloads no longer open, in a running process and a new one,
// while the other tenant's still do.
func TestCryptoShredding(t *testing.T) {
	masters := map[string]*fakeKMS{
		"tenant-a": newFakeKMS(t, "tenant-a-master"),
		"tenant-b": newFakeKMS(t, "tenant-b-master"),
	}
	resolver := kms.PerNamespace(func(_ context.Context, ns string) (kms.Wrapper, error) {
		if w, ok := masters[ns]; ok {
			return w, nil
		}
		return nil, &codec.UnknownKeyError{ID: ns}
	})
	clk := newClock()
	newSrc := func() *kms.Source {
		s, err := kms.NewSourceWithResolver(resolver, kms.WithRequireNamespace(),
			kms.WithClock(clk.now), kms.WithLifetime(5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	src := newSrc()
	a, b := newCodec(t, src, "tenant-a"), newCodec(t, src, "tenant-b")
	pa, pb := encodeOne(t, a, 0), encodeOne(t, b, 1)

	// Tenants do not share master keys: b cannot even name a's key.
	out, err := b.Decode([]*commonpb.Payload{pa})
	checkNoPlaintext(t, err, out)
	if !errors.Is(err, codec.ErrUnknownKey) {
		t.Errorf("Decode of tenant-a's payload in tenant-b = %v, want ErrUnknownKey", err)
	}

	// Erase tenant a.
	masters["tenant-a"].destroyed.Store(true)

	// A running process that is not told keeps its cached key until the
	// lifetime ends; then a's payloads stop opening.
	if _, err := a.Decode([]*commonpb.Payload{pa}); err != nil {
		t.Fatalf("cached key stopped working before its lifetime: %v", err)
	}
	clk.advance(5 * time.Minute)
	out, err = a.Decode([]*commonpb.Payload{pa})
	checkNoPlaintext(t, err, out)
	if !errors.Is(err, kms.ErrUnwrap) {
		t.Errorf("Decode of a shredded tenant's payload = %v, want ErrUnwrap", err)
	}

	// A process that is told forgets at once.
	src2 := newSrc()
	masters["tenant-a"].destroyed.Store(false)
	a2 := newCodec(t, src2, "tenant-a")
	pa2 := encodeOne(t, a2, 2)
	masters["tenant-a"].destroyed.Store(true)
	src2.Forget("tenant-a")
	for _, p := range []*commonpb.Payload{pa, pa2} {
		out, err := a2.Decode([]*commonpb.Payload{p})
		checkNoPlaintext(t, err, out)
		if !errors.Is(err, kms.ErrUnwrap) {
			t.Errorf("Decode after Forget = %v, want ErrUnwrap", err)
		}
	}
	out, err = a2.Encode([]*commonpb.Payload{plain(3)})
	checkNoPlaintext(t, err, out)
	if err == nil {
		t.Error("Encode for a shredded tenant succeeded")
	}

	// Tenant b is unaffected, in both processes and a fresh one.
	for _, s := range []*kms.Source{src, src2, newSrc()} {
		got, err := newCodec(t, s, "tenant-b").Decode([]*commonpb.Payload{pb})
		if err != nil {
			t.Fatalf("Decode of tenant-b after shredding tenant-a: %v", err)
		}
		if !bytes.Equal(got[0].GetData(), plain(1).GetData()) {
			t.Fatal("tenant-b payload decoded wrong")
		}
	}
}

func TestRequireNamespace(t *testing.T) {
	src := newSource(t, newFakeKMS(t, "m"), kms.WithRequireNamespace())
	c := newCodec(t, src, "")
	out, err := c.Encode([]*commonpb.Payload{plain(0)})
	checkNoPlaintext(t, err, out)
	if !errors.Is(err, kms.ErrNoNamespace) {
		t.Errorf("Encode without a namespace = %v, want ErrNoNamespace", err)
	}
}

func TestMasterKeyRotation(t *testing.T) {
	old, cur := newFakeKMS(t, "master-2025"), newFakeKMS(t, "master-2026")
	before := encodeOne(t, newCodec(t, newSource(t, old), "ns"), 0)

	c := newCodec(t, newSource(t, cur, kms.WithDecryptOnly(old)), "ns")
	after := encodeOne(t, c, 1)
	if id := string(after.GetMetadata()[codec.MetadataKeyID]); id != "master-2026" {
		t.Errorf("new payload names %q, want the new master key", id)
	}
	if _, err := c.Decode([]*commonpb.Payload{before, after}); err != nil {
		t.Fatalf("Decode across a master-key rotation: %v", err)
	}

	// Once the old key is dropped, its payloads name an unknown key.
	out, err := newCodec(t, newSource(t, cur), "ns").Decode([]*commonpb.Payload{before})
	checkNoPlaintext(t, err, out)
	if !errors.Is(err, codec.ErrUnknownKey) {
		t.Errorf("Decode with the old master key gone = %v, want ErrUnknownKey", err)
	}
}

func TestBadWrappedKeys(t *testing.T) {
	f := newFakeKMS(t, "m")
	c := newCodec(t, newSource(t, f), "ns")
	p := encodeOne(t, c, 0)
	w := p.GetMetadata()[codec.MetadataWrappedKey]
	flipped := append([]byte(nil), w...)
	flipped[len(flipped)/2] ^= 1

	tests := []struct {
		name string
		p    *commonpb.Payload
		want error
	}{
		{"altered wrapped key", cloneWith(p, codec.MetadataWrappedKey, string(flipped)), kms.ErrUnwrap},
		{"no wrapped key", withoutKey(p, codec.MetadataWrappedKey), codec.ErrUnknownKey},
		{"unknown master key", cloneWith(p, codec.MetadataKeyID, "other"), codec.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.Decode([]*commonpb.Payload{tt.p})
			checkNoPlaintext(t, err, out)
			if !errors.Is(err, tt.want) {
				t.Errorf("Decode = %v, want %v", err, tt.want)
			}
		})
	}
}

func withoutKey(p *commonpb.Payload, key string) *commonpb.Payload {
	q := cloneWith(p, key, "")
	delete(q.Metadata, key)
	return q
}

// shortKeys is a generator that returns a data key of the wrong size.
type shortKeys struct{ *fakeKMS }

func (s shortKeys) GenerateDataKey(ctx context.Context, size int, b kms.Binding) ([]byte, []byte, error) {
	dek, wrapped, err := s.fakeKMS.GenerateDataKey(ctx, size-1, b)
	return dek, wrapped, err
}

func TestGeneratedKeyOfWrongSize(t *testing.T) {
	src := newSource(t, shortKeys{newFakeKMS(t, "m")}, kms.WithDataKeysFromKMS())
	out, err := newCodec(t, src, "ns").Encode([]*commonpb.Payload{plain(0)})
	checkNoPlaintext(t, err, out)
	if err == nil || !strings.Contains(err.Error(), "31-byte data key") {
		t.Errorf("Encode with a 31-byte generated key = %v, want a size error", err)
	}
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	f := newFakeKMS(t, "m")
	p := encodeOne(t, newCodec(t, newSource(t, f), "ns"), 0)
	f.destroyed.Store(true)
	before := f.calls()
	out, err := newCodec(t, newSource(t, f, kms.WithRetry(5, time.Millisecond, time.Millisecond)), "ns").
		Decode([]*commonpb.Payload{p})
	checkNoPlaintext(t, err, out)
	if got := f.calls() - before; got != 1 {
		t.Errorf("a permanent failure was tried %d times, want 1", got)
	}
	if errors.Is(err, kms.ErrUnavailable) {
		t.Errorf("permanent failure %v wraps ErrUnavailable", err)
	}
}

// slowKMS never answers before its context ends.
type slowKMS struct{ *fakeKMS }

func (s slowKMS) Wrap(ctx context.Context, _ []byte, _ kms.Binding) ([]byte, error) {
	s.wraps.Add(1)
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestCallTimeoutIsRetriedThenUnavailable(t *testing.T) {
	s := slowKMS{newFakeKMS(t, "m")}
	src := newSource(t, s, kms.WithCallTimeout(20*time.Millisecond), kms.WithRetry(2, time.Millisecond, time.Millisecond))
	out, err := newCodec(t, src, "ns").Encode([]*commonpb.Payload{plain(0)})
	checkNoPlaintext(t, err, out)
	if !errors.Is(err, kms.ErrUnavailable) || s.wraps.Load() != 2 {
		t.Errorf("Encode against a hung key service = %v after %d calls, want ErrUnavailable after 2",
			err, s.wraps.Load())
	}
}

func TestOptionsValidate(t *testing.T) {
	w := newFakeKMS(t, "m")
	tests := []struct {
		name string
		opt  kms.Option
	}{
		{"unknown algorithm", kms.WithAlgorithm("rot13")},
		{"lifetime too short", kms.WithLifetime(time.Millisecond)},
		{"lifetime too long", kms.WithLifetime(25 * time.Hour)},
		{"zero uses", kms.WithMaxUses(0)},
		{"too many uses", kms.WithMaxUses(1 << 31)},
		{"too few bytes", kms.WithMaxBytes(100)},
		{"zero cache", kms.WithCacheSize(0)},
		{"zero attempts", kms.WithRetry(0, time.Millisecond, time.Second)},
		{"max below base", kms.WithRetry(3, time.Second, time.Millisecond)},
		{"tiny timeout", kms.WithCallTimeout(time.Microsecond)},
		{"nil observer", kms.WithObserver(nil)},
		{"nil random", kms.WithRandom(nil)},
		{"nil clock", kms.WithClock(nil)},
		{"duplicate decrypt-only", kms.WithDecryptOnly(w)},
		{"nil decrypt-only", kms.WithDecryptOnly(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := kms.NewSource(w, tt.opt); err == nil {
				t.Errorf("NewSource accepted %s", tt.name)
			}
		})
	}
	if _, err := kms.NewSource(nil); err == nil {
		t.Error("NewSource(nil) succeeded")
	}
	plainWrapper := struct{ kms.Wrapper }{w} // hides GenerateDataKey
	if _, err := kms.NewSource(plainWrapper, kms.WithDataKeysFromKMS()); err == nil {
		t.Error("WithDataKeysFromKMS accepted a wrapper that cannot generate")
	}
}

func TestBindingEncodingsDiffer(t *testing.T) {
	// Length prefixes keep ("ab", "c") and ("a", "bc") apart.
	x := kms.Binding{Namespace: "ab", Algorithm: "c"}.AAD()
	y := kms.Binding{Namespace: "a", Algorithm: "bc"}.AAD()
	if bytes.Equal(x, y) {
		t.Error("different bindings share an AAD encoding")
	}
	if m := (kms.Binding{Algorithm: aead.AES256GCM}).Map(); len(m) != 1 {
		t.Errorf("binding without a namespace maps to %v, want the algorithm only", m)
	}
}
