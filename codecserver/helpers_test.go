package codecserver_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
)

// newKey returns a fresh AES-256-GCM key named id.
func newKey(t testing.TB, id string) *codec.Key {
	t.Helper()
	material := make([]byte, 32)
	if _, err := rand.Read(material); err != nil {
		t.Fatal(err)
	}
	k, err := codec.NewKey(id, aead.AES256GCM, material)
	if err != nil {
		t.Fatalf("codec.NewKey: %v", err)
	}
	return k
}

// newCodec returns a codec over a keyring of the given keys, the first
// primary.
func newCodec(t testing.TB, keys []*codec.Key, opts ...codec.Option) *codec.Codec {
	t.Helper()
	ring, err := codec.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		t.Fatalf("codec.NewKeyring: %v", err)
	}
	c, err := codec.New(ring, opts...)
	if err != nil {
		t.Fatalf("codec.New: %v", err)
	}
	return c
}

// newServer serves a handler for c on 127.0.0.1 and returns its URL.
func newServer(t testing.TB, c *codec.Codec, opts ...codecserver.Option) (*codecserver.Handler, string) {
	t.Helper()
	h, err := codecserver.NewHandler(c, opts...)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	srv := httptest.NewUnstartedServer(h)
	cfg := h.NewServer("")
	srv.Config.ReadHeaderTimeout = cfg.ReadHeaderTimeout
	srv.Config.ReadTimeout = cfg.ReadTimeout
	srv.Config.WriteTimeout = cfg.WriteTimeout
	srv.Config.MaxHeaderBytes = cfg.MaxHeaderBytes
	srv.Start()
	t.Cleanup(srv.Close)
	return h, srv.URL
}

// jsonPayload is a json/plain payload holding v.
func jsonPayload(t testing.TB, v any) *commonpb.Payload {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: b}
}

// encode encrypts ps with c for namespace ns.
func encode(t testing.TB, c *codec.Codec, ns string, ps ...*commonpb.Payload) []*commonpb.Payload {
	t.Helper()
	out, err := c.ForNamespace(ns).Encode(ps)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return out
}

// body returns the protobuf JSON request body for ps.
func body(t testing.TB, ps ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type response struct {
	status int
	header http.Header
	body   string
}

// post sends a JSON POST with the given headers ("Name: value").
func post(t testing.TB, url, reqBody string, headers ...string) response {
	t.Helper()
	return do(t, http.MethodPost, url, strings.NewReader(reqBody),
		append([]string{"Content-Type: application/json"}, headers...)...)
}

func do(t testing.TB, method, url string, reqBody io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, reqBody)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(name, strings.TrimSpace(value))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// payloads parses a 200 answer.
func payloads(t testing.TB, r response) []*commonpb.Payload {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.status, r.body)
	}
	var ps commonpb.Payloads
	if err := protojson.Unmarshal([]byte(r.body), &ps); err != nil {
		t.Fatalf("answer is not protobuf JSON Payloads: %v\n%s", err, r.body)
	}
	return ps.Payloads
}

// errorBody parses an error answer.
func errorBody(t testing.TB, r response) codecserver.ErrorResponse {
	t.Helper()
	var e codecserver.ErrorResponse
	dec := json.NewDecoder(strings.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error answer %q is not an ErrorResponse: %v", r.body, err)
	}
	if e.Error == "" || e.RequestID == "" {
		t.Errorf("error answer %q lacks a message or request ID", r.body)
	}
	if e.RequestID != r.header.Get("X-Request-Id") {
		t.Errorf("request ID %q in body, %q in header", e.RequestID, r.header.Get("X-Request-Id"))
	}
	return e
}

// logBuffer collects JSON log lines from a handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines returns the audit lines as maps.
func (l *logBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "codec request" {
			out = append(out, m)
		}
	}
	return out
}

// nsKeys is a key source with one key per namespace, to show which
// namespace a request's keys were chosen for.
type nsKeys map[string]*codec.Key

func (m nsKeys) EncryptionKey(ctx context.Context) (*codec.Key, error) {
	ns, _ := codec.NamespaceFromContext(ctx)
	if k := m[ns]; k != nil {
		return k, nil
	}
	return nil, &codec.UnknownKeyError{ID: "namespace " + ns}
}

func (m nsKeys) DecryptionKey(ctx context.Context, ref codec.KeyRef) (*codec.Key, error) {
	ns, _ := codec.NamespaceFromContext(ctx)
	if k := m[ns]; k != nil && k.ID() == ref.ID {
		return k, nil
	}
	return nil, &codec.UnknownKeyError{ID: ref.ID}
}
