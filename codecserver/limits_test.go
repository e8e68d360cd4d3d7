package codecserver_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
)

// zeros reads as an endless run of '0' bytes without allocating.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

// TestBodyLimit is the first part of case C13: a 50 MB body is refused
// with 413, whether or not it declares its length, before it is read.
func TestBodyLimit(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	_, url := newServer(t, c, codecserver.WithMaxBodySize(64<<10))

	for _, declared := range []bool{true, false} {
		req, err := http.NewRequest(http.MethodPost, url+"/decode", io.LimitReader(zeros{}, 50<<20))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if declared {
			req.ContentLength = 50 << 20
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("50 MB body (length declared: %v): %v", declared, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("50 MB body (length declared: %v) = %d, want 413; %s", declared, resp.StatusCode, b)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("50 MB body took %v to refuse", d)
		}
	}

	// At the limit the body is read, and found not to be JSON.
	r := post(t, url+"/decode", strings.Repeat("0", 64<<10))
	if r.status != http.StatusBadRequest {
		t.Errorf("body at the limit = %d, want 400", r.status)
	}
}

// TestPayloadCountLimit: a batch of 10,000 payloads is refused; the
// default limit of 1,000 passes.
func TestPayloadCountLimit(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	_, url := newServer(t, c)
	batch := func(n int) string {
		ps := make([]*commonpb.Payload, n)
		for i := range ps {
			ps[i] = &commonpb.Payload{Data: []byte{byte(i)}}
		}
		return body(t, ps...)
	}
	r := post(t, url+"/decode", batch(10_000))
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(errorBody(t, r).Error, "1000") {
		t.Errorf("10,000 payloads = %d %s, want 413 naming the limit", r.status, r.body)
	}
	if got := payloads(t, post(t, url+"/decode", batch(codecserver.DefaultMaxPayloads))); len(got) != codecserver.DefaultMaxPayloads {
		t.Errorf("%d payloads out", len(got))
	}
}

// TestSlowClients: header and body timeouts cut slow clients off.
func TestSlowClients(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	_, url := newServer(t, c, codecserver.WithTimeouts(300*time.Millisecond, 600*time.Millisecond, 5*time.Second, 5*time.Second))
	addr := strings.TrimPrefix(url, "http://")

	tests := []struct {
		name, send string
		want       string // prefix of what the server answers before closing; "" for nothing
	}{
		{"slow headers", "POST /decode HTTP/1.1\r\nHost: x\r\n", ""},
		{"slow body", "POST /decode HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: 1000\r\n\r\n{\"payloads\":[", "HTTP/1.1 408"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tc.send); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(bufio.NewReader(conn))
			if d := time.Since(start); d > 3*time.Second || err != nil {
				t.Fatalf("connection still open after %v (%v)", d, err)
			}
			if !strings.HasPrefix(string(got), tc.want) {
				t.Errorf("server answered %q, want prefix %q", got, tc.want)
			}
		})
	}
}

// blockingKeys holds each decode until released.
type blockingKeys struct {
	key     *codec.Key
	entered chan struct{}
	release chan struct{}
}

func (b *blockingKeys) EncryptionKey(context.Context) (*codec.Key, error) { return b.key, nil }
func (b *blockingKeys) DecryptionKey(ctx context.Context, ref codec.KeyRef) (*codec.Key, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.key, nil
}

// TestConcurrencyLimit: requests beyond the slots and the queue get 429
// with Retry-After; queued requests are served when a slot frees.
func TestConcurrencyLimit(t *testing.T) {
	k := newKey(t, "k1")
	enc := body(t, encode(t, newCodec(t, []*codec.Key{k}), "default", jsonPayload(t, "x"))...)
	keys := &blockingKeys{key: k, entered: make(chan struct{}, 16), release: make(chan struct{})}
	c, err := codec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	_, url := newServer(t, c, codecserver.WithConcurrency(2, 1, 3*time.Second))

	var wg sync.WaitGroup
	results := make(chan int, 3)
	for range 2 {
		wg.Go(func() { results <- post(t, url+"/decode", enc).status })
	}
	<-keys.entered
	<-keys.entered
	// Both slots are busy. The third request queues; the fourth finds the
	// queue full.
	wg.Go(func() { results <- post(t, url+"/decode", enc).status })
	time.Sleep(100 * time.Millisecond)
	r := post(t, url+"/decode", enc)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("request beyond slots and queue = %d (Retry-After %q), want 429", r.status, r.header.Get("Retry-After"))
	}
	errorBody(t, r)
	close(keys.release)
	wg.Wait()
	close(results)
	for s := range results {
		if s != http.StatusOK {
			t.Errorf("admitted or queued request = %d, want 200", s)
		}
	}

	// With no queue, the wait ends at once.
	keys2 := &blockingKeys{key: k, entered: make(chan struct{}, 1), release: make(chan struct{})}
	c2, _ := codec.New(keys2)
	_, url2 := newServer(t, c2, codecserver.WithConcurrency(1, 0, time.Second))
	done := make(chan int)
	go func() { done <- post(t, url2+"/decode", enc).status }()
	<-keys2.entered
	if r := post(t, url2+"/decode", enc); r.status != http.StatusTooManyRequests {
		t.Errorf("no queue: %d, want 429", r.status)
	}
	close(keys2.release)
	if s := <-done; s != http.StatusOK {
		t.Errorf("first request = %d", s)
	}
}
