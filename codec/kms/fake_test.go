package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

// fakeKMS is a key service stand-in that counts its calls, can be slow, can
// throttle for a while, and can have its master key destroyed.
type fakeKMS struct {
	inner *kms.LocalWrapper
	delay time.Duration

	wraps, unwraps, generates atomic.Int64
	throttled                 atomic.Int64
	throttling                atomic.Bool
	destroyed                 atomic.Bool
}

var (
	_ kms.Wrapper          = (*fakeKMS)(nil)
	_ kms.DataKeyGenerator = (*fakeKMS)(nil)
)

func newFakeKMS(t testing.TB, name string) *fakeKMS {
	t.Helper()
	master := make([]byte, 32)
	rand.Read(master)
	w, err := kms.NewLocalWrapper(name, master)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeKMS{inner: w}
}

func (f *fakeKMS) calls() int64 { return f.wraps.Load() + f.unwraps.Load() + f.generates.Load() }

func (f *fakeKMS) gate(ctx context.Context) error {
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return kms.Unavailable(ctx.Err())
		}
	}
	if f.throttling.Load() {
		f.throttled.Add(1)
		return kms.Throttled(errors.New("fake: rate exceeded"))
	}
	if f.destroyed.Load() {
		return kms.Unwrapped(errors.New("fake: master key is destroyed"))
	}
	return nil
}

func (f *fakeKMS) Name() string { return f.inner.Name() }

func (f *fakeKMS) Wrap(ctx context.Context, dek []byte, b kms.Binding) ([]byte, error) {
	f.wraps.Add(1)
	if err := f.gate(ctx); err != nil {
		return nil, err
	}
	return f.inner.Wrap(ctx, dek, b)
}

func (f *fakeKMS) Unwrap(ctx context.Context, wrapped []byte, b kms.Binding) ([]byte, error) {
	f.unwraps.Add(1)
	if err := f.gate(ctx); err != nil {
		return nil, err
	}
	return f.inner.Unwrap(ctx, wrapped, b)
}

func (f *fakeKMS) GenerateDataKey(ctx context.Context, size int, b kms.Binding) ([]byte, []byte, error) {
	f.generates.Add(1)
	if err := f.gate(ctx); err != nil {
		return nil, nil, err
	}
	dek := make([]byte, size)
	rand.Read(dek)
	wrapped, err := f.inner.Wrap(ctx, dek, b)
	return dek, wrapped, err
}

// metrics counts events by kind and operation.
type metrics struct {
	mu     sync.Mutex
	counts map[string]int
}

func (m *metrics) observe(e kms.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts = make(map[string]int)
	}
	m.counts[e.Kind.String()]++
	m.counts[e.Kind.String()+"/"+string(e.Op)]++
}

func (m *metrics) get(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[key]
}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newSource(t testing.TB, w kms.Wrapper, opts ...kms.Option) *kms.Source {
	t.Helper()
	s, err := kms.NewSource(w, opts...)
	if err != nil {
		t.Fatalf("NewSource: %v", err)
	}
	return s
}

func newCodec(t testing.TB, src codec.KeySource, namespace string) *codec.Codec {
	t.Helper()
	c, err := codec.New(src)
	if err != nil {
		t.Fatalf("codec.New: %v", err)
	}
	return c.ForNamespace(namespace)
}

const canary = "CANARY-7c1e-plaintext"

func plain(i int) *commonpb.Payload {
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain")},
		Data:     []byte(`"` + canary + `-` + string(rune('a'+i%26)) + `"`),
	}
}

func encodeOne(t testing.TB, c *codec.Codec, i int) *commonpb.Payload {
	t.Helper()
	out, err := c.Encode([]*commonpb.Payload{plain(i)})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return out[0]
}

// checkNoPlaintext fails if err's text or any payload holds the canary.
func checkNoPlaintext(t testing.TB, err error, out []*commonpb.Payload) {
	t.Helper()
	if out != nil {
		t.Errorf("got %d payloads with error %v, want none", len(out), err)
	}
	if err != nil && bytes.Contains([]byte(err.Error()), []byte(canary)) {
		t.Errorf("error text holds plaintext: %v", err)
	}
}

func wrappedKey(p *commonpb.Payload) string {
	return string(p.GetMetadata()[codec.MetadataWrappedKey])
}

// concurrently runs f(i) for i in [0, n) on n goroutines released at once.
func concurrently(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}
