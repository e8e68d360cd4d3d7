package kms_test

// Case C23: a KMS stampede. A key service stand-in counts calls while 500
// encodes and 500 decodes start on a cold cache, limits expire, and the
// service throttles for 2 seconds.

import (
	"errors"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

const stampede = 500

func TestStampedeEncodeColdCache(t *testing.T) {
	tests := []struct {
		name    string
		opts    []kms.Option
		calls   func(*fakeKMS) int64
		wantOp  kms.Op
		wantKMS int64
	}{
		{"local data keys", nil, func(f *fakeKMS) int64 { return f.wraps.Load() }, kms.OpWrap, 1},
		{"data keys from KMS", []kms.Option{kms.WithDataKeysFromKMS()},
			func(f *fakeKMS) int64 { return f.generates.Load() }, kms.OpGenerate, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKMS(t, "master-1")
			f.delay = 20 * time.Millisecond
			var m metrics
			src := newSource(t, f, append(tt.opts, kms.WithObserver(m.observe))...)
			c := newCodec(t, src, "ns1")

			out := make([]*commonpb.Payload, stampede)
			errs := make([]error, stampede)
			concurrently(stampede, func(i int) {
				var p []*commonpb.Payload
				p, errs[i] = c.Encode([]*commonpb.Payload{plain(i)})
				if errs[i] == nil {
					out[i] = p[0]
				}
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("Encode %d: %v", i, err)
				}
			}
			if got := tt.calls(f); got != tt.wantKMS || f.calls() != tt.wantKMS {
				t.Errorf("%d encodes on a cold cache made %d %s calls (%d in all), want %d",
					stampede, got, tt.wantOp, f.calls(), tt.wantKMS)
			}
			if got := m.get("call/" + string(tt.wantOp)); got != int(tt.wantKMS) {
				t.Errorf("observer saw %d %s calls, want %d", got, tt.wantOp, tt.wantKMS)
			}
			if got := m.get("hit") + m.get("miss"); got < stampede {
				t.Errorf("observer saw %d hits and misses, want at least %d", got, stampede)
			}
			for i, p := range out {
				if wrappedKey(p) != wrappedKey(out[0]) {
					t.Fatalf("payload %d has another data key than payload 0", i)
				}
				if id := string(p.GetMetadata()[codec.MetadataKeyID]); id != "master-1" {
					t.Fatalf("payload %d key ID = %q, want the master key's name", i, id)
				}
			}
		})
	}
}

func TestStampedeDecodeOneDataKey(t *testing.T) {
	f := newFakeKMS(t, "master-1")
	writer := newCodec(t, newSource(t, f), "ns1")
	in := make([]*commonpb.Payload, stampede)
	for i := range in {
		in[i] = encodeOne(t, writer, i)
	}
	if f.wraps.Load() != 1 {
		t.Fatalf("writer made %d data keys, want 1", f.wraps.Load())
	}

	// A fresh process: nothing cached.
	f.delay = 20 * time.Millisecond
	var m metrics
	reader := newCodec(t, newSource(t, f, kms.WithObserver(m.observe)), "ns1")
	errs := make([]error, stampede)
	concurrently(stampede, func(i int) {
		var out []*commonpb.Payload
		out, errs[i] = reader.Decode(in[i : i+1])
		if errs[i] == nil && string(out[0].GetData()) != string(plain(i).GetData()) {
			errs[i] = errors.New("decoded data differs")
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Decode %d: %v", i, err)
		}
	}
	if got := f.unwraps.Load(); got != 1 {
		t.Errorf("%d decodes of one data key on a cold cache made %d unwrap calls, want 1", stampede, got)
	}
	if hits, misses := m.get("hit/decrypt"), m.get("miss/decrypt"); hits+misses != stampede || misses < 1 {
		t.Errorf("observer saw %d hits and %d misses, want %d in all", hits, misses, stampede)
	}
	if got := m.get("call/unwrap"); got != 1 {
		t.Errorf("observer saw %d unwrap calls, want 1", got)
	}
}

func TestLifetime(t *testing.T) {
	f := newFakeKMS(t, "master-1")
	clk := newClock()
	src := newSource(t, f, kms.WithLifetime(10*time.Minute), kms.WithClock(clk.now))
	c := newCodec(t, src, "ns1")

	p1 := encodeOne(t, c, 1)
	clk.advance(10*time.Minute - time.Second)
	p2 := encodeOne(t, c, 2)
	if f.wraps.Load() != 1 || wrappedKey(p1) != wrappedKey(p2) {
		t.Fatalf("data key replaced before its lifetime: %d wraps", f.wraps.Load())
	}
	clk.advance(time.Second)
	p3 := encodeOne(t, c, 3)
	if f.wraps.Load() != 2 || wrappedKey(p3) == wrappedKey(p1) {
		t.Fatalf("data key not replaced after its lifetime: %d wraps", f.wraps.Load())
	}

	// The decrypt side: a cold reader unwraps once, then again once the
	// cached key expires.
	rclk := newClock()
	reader := newCodec(t, newSource(t, f, kms.WithLifetime(time.Minute), kms.WithClock(rclk.now)), "ns1")
	for range 3 {
		if _, err := reader.Decode([]*commonpb.Payload{p1}); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.unwraps.Load(); got != 1 {
		t.Fatalf("3 decodes within the lifetime made %d unwraps, want 1", got)
	}
	rclk.advance(time.Minute)
	if _, err := reader.Decode([]*commonpb.Payload{p1}); err != nil {
		t.Fatal(err)
	}
	if got := f.unwraps.Load(); got != 2 {
		t.Fatalf("decode after the lifetime made %d unwraps in all, want 2", got)
	}
}

func TestMaxUses(t *testing.T) {
	f := newFakeKMS(t, "master-1")
	c := newCodec(t, newSource(t, f, kms.WithMaxUses(100)), "ns1")

	out := make([]*commonpb.Payload, stampede)
	concurrently(stampede, func(i int) {
		p, err := c.Encode([]*commonpb.Payload{plain(i)})
		if err != nil {
			t.Errorf("Encode %d: %v", i, err)
			return
		}
		out[i] = p[0]
	})
	if t.Failed() {
		return
	}
	if got := f.wraps.Load(); got != stampede/100 {
		t.Errorf("%d encodes with 100 uses per data key made %d data keys, want %d", stampede, got, stampede/100)
	}
	perKey := make(map[string]int)
	for _, p := range out {
		perKey[wrappedKey(p)]++
	}
	for _, n := range perKey {
		if n > 100 {
			t.Errorf("a data key sealed %d payloads, limit 100", n)
		}
	}

	// A batch counts every payload it seals.
	f2 := newFakeKMS(t, "master-2")
	c2 := newCodec(t, newSource(t, f2, kms.WithMaxUses(10)), "ns1")
	batch := make([]*commonpb.Payload, 10)
	for i := range batch {
		batch[i] = plain(i)
	}
	if _, err := c2.Encode(batch); err != nil {
		t.Fatal(err)
	}
	encodeOne(t, c2, 0)
	if got := f2.wraps.Load(); got != 2 {
		t.Errorf("a batch of 10 and one more payload with 10 uses per key made %d data keys, want 2", got)
	}

	// The decrypt side asks the key service again after 100 uses.
	reader := newCodec(t, newSource(t, f, kms.WithMaxUses(100)), "ns1")
	for range 250 {
		if _, err := reader.Decode(out[:1]); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.unwraps.Load(); got != 3 {
		t.Errorf("250 decodes with 100 uses per cached key made %d unwraps, want 3", got)
	}
}

func TestThrottling(t *testing.T) {
	const attempts = 3
	f := newFakeKMS(t, "master-1")
	f.delay = 30 * time.Millisecond
	writer := newCodec(t, newSource(t, f), "ns1")
	old := encodeOne(t, writer, 0)

	var m metrics
	src := newSource(t, f, kms.WithObserver(m.observe), kms.WithRetry(attempts, 10*time.Millisecond, 40*time.Millisecond))
	c := newCodec(t, src, "ns1")
	warm := encodeOne(t, c, 1) // this process now holds a data key
	callsBefore := f.calls()

	// The service throttles for 2 seconds, or until the checks below are
	// done if they take longer on a loaded machine.
	throttleStart := time.Now()
	f.throttling.Store(true)

	// 500 decodes of a data key this process has not seen: one flight,
	// bounded retries, then an error for each.
	errs := make([]error, stampede)
	outs := make([][]*commonpb.Payload, stampede)
	concurrently(stampede, func(i int) {
		outs[i], errs[i] = c.Decode([]*commonpb.Payload{old})
	})
	for i, err := range errs {
		checkNoPlaintext(t, err, outs[i])
		if !errors.Is(err, kms.ErrThrottled) || !errors.Is(err, kms.ErrUnavailable) ||
			!errors.Is(err, codec.ErrUnavailable) {
			t.Fatalf("Decode %d while throttled = %v, want ErrThrottled and ErrUnavailable", i, err)
		}
	}
	calls := f.calls() - callsBefore
	// Usually one flight; a goroutine scheduled after a flight failed
	// starts another, so allow a few on a loaded machine. Without
	// collapsing it would be 500 flights.
	if calls%attempts != 0 || calls > 5*attempts {
		t.Errorf("%d decodes while throttled made %d calls, want %d attempts per flight and at most 5 flights",
			stampede, calls, attempts)
	}
	if got := m.get("throttled"); int64(got) != f.throttled.Load() || got == 0 {
		t.Errorf("observer saw %d throttles, key service refused %d", got, f.throttled.Load())
	}

	// Encoding with the data key already held needs no call.
	if _, err := c.Encode([]*commonpb.Payload{plain(2)}); err != nil {
		t.Errorf("Encode with a cached data key while throttled: %v", err)
	}
	// A process with no data key yet cannot encode, and says so.
	cold := newCodec(t, newSource(t, f, kms.WithRetry(attempts, 10*time.Millisecond, 40*time.Millisecond)), "ns1")
	coldBefore := f.calls()
	out, err := cold.Encode([]*commonpb.Payload{plain(3)})
	coldCalls := f.calls() - coldBefore
	checkNoPlaintext(t, err, out)
	if !errors.Is(err, kms.ErrUnavailable) {
		t.Errorf("Encode on a cold cache while throttled = %v, want ErrUnavailable", err)
	}

	// After the throttling ends, the same payload decodes.
	time.Sleep(time.Until(throttleStart.Add(2 * time.Second)))
	f.throttling.Store(false)
	for _, p := range []*commonpb.Payload{old, warm} {
		if _, err := c.Decode([]*commonpb.Payload{p}); err != nil {
			t.Fatalf("Decode after throttling ended: %v", err)
		}
	}
	// The observer saw the warm encode, the throttled flights and the
	// decode after; not the cold process's calls.
	if got, want := m.get("call"), int(f.calls()-callsBefore-coldCalls)+1; got != want {
		t.Errorf("observer saw %d calls, key service had %d", got, want)
	}
}
