package codecserver_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
)

// TestLoad is the rest of case C13: hundreds of concurrent clients on
// loopback, oversized and slow bodies, oversized batches and a compression
// bomb, all at once. Every answer must be one the design calls for, and
// goroutines and heap must return to their baseline. It is bounded in
// count and runs for a few seconds.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	k := newKey(t, "k1")
	// The server caps a compressed payload at 1 MiB decoded; the client
	// that built the bomb allowed 64 MiB.
	server := newCodec(t, []*codec.Key{k}, codec.WithMaxDecodedSize(1<<20))
	client := newCodec(t, []*codec.Key{k}, codec.WithCompression(0), codec.WithMaxDecodedSize(64<<20))
	bombPayload := encode(t, client, "default", &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("binary/plain")},
		Data:     make([]byte, 32<<20),
	})[0]
	if n := len(bombPayload.Data); n > 64<<10 {
		t.Fatalf("bomb is %d bytes; want a tiny payload", n)
	}
	if string(bombPayload.Metadata[codec.MetadataCompression]) != "zstd" {
		t.Fatalf("bomb is not compressed: %v", bombPayload.Metadata)
	}

	// The read timeouts leave room for a starved scheduler: 500 clients
	// share two cores with the server.
	clients, readTimeout := 500, 3*time.Second
	if raceEnabled {
		clients, readTimeout = 150, 6*time.Second
	}
	const maxBody = 1 << 20
	_, url := newServer(t, server,
		codecserver.WithMaxBodySize(maxBody),
		codecserver.WithConcurrency(16, 64, 300*time.Millisecond),
		codecserver.WithTimeouts(readTimeout, readTimeout, 10*time.Second, 10*time.Second))
	addr := strings.TrimPrefix(url, "http://")

	valid := body(t, encode(t, server, "default", jsonPayload(t, "CANARY-load"), jsonPayload(t, 42))...)
	bomb := body(t, bombPayload)
	tooMany := body(t, make([]*commonpb.Payload, 2000)...)
	huge := strings.Repeat("0", maxBody+1)

	tr := &http.Transport{MaxIdleConnsPerHost: 600, DisableCompression: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 20 * time.Second}

	postKind := func(kind string) (int, string, error) {
		var reqBody string
		switch kind {
		case "valid":
			reqBody = valid
		case "bomb":
			reqBody = bomb
		case "too many":
			reqBody = tooMany
		case "large":
			reqBody = huge
		}
		resp, err := cl.Post(url+"/default/decode", "application/json", strings.NewReader(reqBody))
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	// slow sends half a body, then stalls past the read timeout.
	slow := func() (int, string, error) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return 0, "", err
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /default/decode HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\n\r\n%s", addr, len(valid), valid[:len(valid)/2])
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(conn)
		if len(b) == 0 {
			return 0, "", err // closed without an answer: allowed
		}
		var status int
		fmt.Sscanf(string(b), "HTTP/1.1 %d", &status)
		return status, string(b), nil
	}

	// Warm up pools, codec and connection state, then take the baseline.
	for _, kind := range []string{"valid", "bomb"} {
		if _, _, err := postKind(kind); err != nil {
			t.Fatal(err)
		}
	}
	tr.CloseIdleConnections()
	baseG, baseHeap := settle()

	// allowed lists the answers each kind may get: the designed ones, and
	// 429 whenever the server is saturated.
	allowed := map[string]map[int]bool{
		"valid":    {200: true, 429: true},
		"bomb":     {422: true, 429: true},
		"too many": {413: true, 429: true},
		"large":    {413: true, 429: true, -1: true},
		"slow":     {0: true, 408: true, 429: true},
	}
	type result struct {
		kind   string
		status int
		body   string
		err    error
	}
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	record := func(kind string, status int, b string, err error) {
		mu.Lock()
		results = append(results, result{kind, status, b, err})
		mu.Unlock()
	}
	start := time.Now()
	// 500 clients sending valid requests, 4 each, alongside 49 hostile
	// ones. A slow client holds a processing slot until the read timeout
	// (see the package doc), so there are fewer of those than slots.
	for range clients {
		wg.Go(func() {
			for range 4 {
				s, b, err := postKind("valid")
				record("valid", s, b, err)
			}
		})
	}
	for i := range 49 {
		kind := []string{"bomb", "too many", "large"}[i%3]
		if i >= 45 {
			kind = "slow"
		}
		wg.Go(func() {
			if kind == "slow" {
				s, b, err := slow()
				record(kind, s, b, err)
				return
			}
			s, b, err := postKind(kind)
			record(kind, s, b, err)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	counts := map[string]map[int]int{}
	for _, r := range results {
		if r.err != nil && r.kind == "large" {
			// The server answers 413 and closes the connection without
			// reading the rest; a client still writing may see only the
			// close.
			r.status = -1
		} else if r.err != nil && r.kind != "slow" {
			t.Errorf("%s request failed: %v", r.kind, r.err)
			continue
		}
		if counts[r.kind] == nil {
			counts[r.kind] = map[int]int{}
		}
		counts[r.kind][r.status]++
		if !allowed[r.kind][r.status] {
			t.Errorf("%s request answered %d: %.200s", r.kind, r.status, r.body)
		}
		if r.kind == "bomb" && r.status == 422 && !strings.Contains(r.body, "over the size limit") {
			t.Errorf("bomb refused for another reason: %s", r.body)
		}
		if r.kind != "valid" && strings.Contains(r.body, "CANARY") {
			t.Errorf("%s answer leaks plaintext", r.kind)
		}
	}
	t.Logf("%d requests in %v: %v", len(results), elapsed, counts)
	if counts["valid"][200] < clients {
		t.Errorf("only %d of %d valid requests served", counts["valid"][200], 4*clients)
	}
	if counts["bomb"][422] == 0 {
		t.Errorf("no bomb reached the codec cap")
	}

	tr.CloseIdleConnections()
	var g int
	var heap uint64
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, heap = settle()
		if g <= baseG+2 && heap <= baseHeap+32<<20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("goroutines %d -> %d, heap %d KiB -> %d KiB", baseG, g, baseHeap>>10, heap>>10)
	if g > baseG+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after the load, %d before\n%s", g, baseG, buf[:runtime.Stack(buf, true)])
	}
	if heap > baseHeap+32<<20 {
		t.Errorf("heap: %d KiB after the load, %d KiB before", heap>>10, baseHeap>>10)
	}
}

// settle collects garbage and returns the goroutine count and live heap.
func settle() (int, uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}
