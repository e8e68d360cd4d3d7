package codecserver_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
)

// TestWireFormat is case C09: protobuf JSON in and out, and every malformed
// body answered 400 with a short message.
func TestWireFormat(t *testing.T) {
	k := newKey(t, "k1")
	c := newCodec(t, []*codec.Key{k})
	_, url := newServer(t, c)

	// Bytes whose standard base64 holds '+' and '/', which URL-safe base64
	// would spell '-' and '_'.
	odd := []byte{0xfb, 0xff, 0xbf, 0x00}
	foreign := &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("binary/plain"), "x": odd},
		Data:     odd,
		ExternalPayloads: []*commonpb.Payload_ExternalPayloadDetails{
			{SizeBytes: 1 << 20},
		},
	}
	plain := jsonPayload(t, "CANARY-wire")

	t.Run("round trip", func(t *testing.T) {
		enc := encode(t, c, "default", plain)
		r := post(t, url+"/decode", body(t, enc[0], foreign))
		got := payloads(t, r)
		if len(got) != 2 || !proto.Equal(got[0], plain) || !proto.Equal(got[1], foreign) {
			t.Fatalf("decode = %v, want [%v %v]", got, plain, foreign)
		}
		for _, want := range []string{`"payloads":[`, `"externalPayloads":`, `"sizeBytes":`,
			base64.StdEncoding.EncodeToString(odd)} {
			if !strings.Contains(r.body, want) {
				t.Errorf("answer %s lacks %s", r.body, want)
			}
		}
		if strings.Contains(r.body, "external_payloads") || strings.Contains(r.body, "-_-") {
			t.Errorf("answer %s uses proto names or URL-safe base64", r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
	})

	t.Run("proto names and URL-safe base64 accepted", func(t *testing.T) {
		in := `{"payloads":[{"metadata":{"encoding":"YmluYXJ5L3BsYWlu"},"data":"-_-_AA",` +
			`"external_payloads":[{"size_bytes":"7"}]}]}`
		got := payloads(t, post(t, url+"/decode", in))
		if len(got) != 1 || !bytesEqual(got[0].Data, []byte{0xfb, 0xff, 0xbf, 0}) ||
			got[0].ExternalPayloads[0].SizeBytes != 7 {
			t.Fatalf("decode = %v", got)
		}
	})

	t.Run("empty batch", func(t *testing.T) {
		r := post(t, url+"/decode", `{}`)
		if got := payloads(t, r); len(got) != 0 || !strings.Contains(r.body, `"payloads":[]`) {
			t.Fatalf("decode {} = %s, want {\"payloads\":[]}", r.body)
		}
	})

	bad := []struct {
		name, body string
	}{
		{"malformed JSON", `{"payloads":[`},
		{"not JSON", `payloads`},
		{"empty body", ``},
		{"bad base64", `{"payloads":[{"data":"!!!!"}]}`},
		{"bad base64 in metadata", `{"payloads":[{"metadata":{"encoding":"a"}}]}`},
		{"unknown future field in payload", `{"payloads":[{"data":"AA==","futureField":{"a":1}}]}`},
		{"unknown top-level field", `{"payloads":[],"next":1}`},
		{"null element", `{"payloads":[null]}`},
		{"wrong type", `{"payloads":{"data":"AA=="}}`},
		{"duplicate field", `{"payloads":[],"payloads":[]}`},
		{"deep nesting", strings.Repeat("[", 100000)},
		{"canary in bad body", `{"payloads":[{"data":"CANARY-wire-bad!"}]}`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, url+"/decode", tc.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("POST %.40q = %d, want 400; body %s", tc.body, r.status, r.body)
			}
			e := errorBody(t, r)
			if len(r.body) > 300 || strings.Contains(r.body, "CANARY") ||
				strings.Contains(r.body, "proto:") || strings.Contains(r.body, "goroutine") {
				t.Errorf("error answer %q is long or leaks input or internals", r.body)
			}
			_ = e
		})
	}

	t.Run("content type", func(t *testing.T) {
		for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json;;"} {
			r := do(t, http.MethodPost, url+"/decode", strings.NewReader("{}"), "Content-Type: "+ct)
			if r.status != http.StatusUnsupportedMediaType {
				t.Errorf("Content-Type %q: status %d, want 415", ct, r.status)
			}
		}
		r := post(t, url+"/decode", "{}", "Content-Type: application/json; charset=utf-8")
		payloads(t, r)
	})
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// TestRouting is case C10.
func TestRouting(t *testing.T) {
	k1, k2, kd := newKey(t, "k-ns1"), newKey(t, "k-ns2"), newKey(t, "k-default")
	keys := nsKeys{"ns1": k1, "ns2": k2, "default": kd}
	c, err := codec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	_, url := newServer(t, c)

	p := jsonPayload(t, "CANARY-route")
	enc1 := encode(t, c, "ns1", p, p, p)
	encDefault := encode(t, c, "default", p)

	tests := []struct {
		name, method, path string
		headers            []string
		body               string
		want               int
	}{
		{"plain with header", "POST", "/decode", []string{"X-Namespace: ns1"}, body(t, enc1...), 200},
		{"namespace in path", "POST", "/ns1/decode", []string{"X-Namespace: ns1"}, body(t, enc1...), 200},
		{"prefix", "POST", "/prefix/ns1/decode", []string{"X-Namespace: ns1"}, body(t, enc1...), 200},
		{"prefix trailing slash", "POST", "/prefix/ns1/decode/", []string{"X-Namespace: ns1"}, body(t, enc1...), 200},
		{"deep prefix", "POST", "/a/b/c/ns1/decode", nil, body(t, enc1...), 200},
		{"path only", "POST", "/ns1/decode", nil, body(t, enc1...), 200},
		{"no namespace: default", "POST", "/decode", nil, body(t, encDefault...), 200},
		{"path and header disagree", "POST", "/ns1/decode", []string{"X-Namespace: ns2"}, body(t, enc1...), 400},
		{"header disagrees under a prefix", "POST", "/p/ns2/decode", []string{"X-Namespace: ns1"}, body(t, enc1...), 400},
		{"two headers", "POST", "/decode", []string{"X-Namespace: ns1", "X-Namespace: ns1"}, body(t, enc1...), 400},
		{"header selects other keys", "POST", "/decode", []string{"X-Namespace: ns2"}, body(t, enc1...), 422},
		{"path selects other keys", "POST", "/ns2/decode", nil, body(t, enc1...), 422},
		{"invalid namespace", "POST", "/ns%201/decode", nil, body(t, enc1...), 400},
		{"invalid header namespace", "POST", "/decode", []string{"X-Namespace: a/b"}, body(t, enc1...), 400},
		{"GET", "GET", "/ns1/decode", nil, "", 405},
		{"PUT", "PUT", "/ns1/encode", nil, body(t, p), 405},
		{"unknown suffix", "POST", "/ns1/other", nil, body(t, enc1...), 404},
		{"root", "POST", "/", nil, "{}", 404},
		{"empty segment", "POST", "//decode", nil, "{}", 404},
		{"two trailing slashes", "POST", "/ns1/decode//", nil, "{}", 404},
		{"dot dot", "POST", "/ns1/../decode", nil, "{}", 404},
		{"escaped op", "POST", "/ns1/decod%65", nil, "{}", 404},
		{"encode", "POST", "/ns1/encode/", nil, body(t, p, p), 200},
		{"healthz", "GET", "/healthz", nil, "", 200},
		{"healthz POST", "POST", "/healthz", nil, "", 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := append([]string{"Content-Type: application/json"}, tc.headers...)
			r := do(t, tc.method, url+tc.path, strings.NewReader(tc.body), hs...)
			if r.status != tc.want {
				t.Fatalf("%s %s %v = %d, want %d; body %s", tc.method, tc.path, tc.headers, r.status, tc.want, r.body)
			}
			switch {
			case r.status == 200 && tc.path != "/healthz":
				in := strings.Count(tc.body, `"metadata"`)
				if got := payloads(t, r); len(got) != in {
					t.Fatalf("%d payloads out, %d in", len(got), in)
				}
				if strings.HasSuffix(strings.TrimSuffix(tc.path, "/"), "decode") &&
					!strings.Contains(r.body, base64.StdEncoding.EncodeToString(p.Data)) {
					t.Errorf("decode answer lacks the plaintext")
				}
			case r.status == 405:
				if r.header.Get("Allow") == "" {
					t.Errorf("405 without Allow")
				}
				errorBody(t, r)
			case r.status != 200:
				e := errorBody(t, r)
				if strings.Contains(r.body, "CANARY") {
					t.Errorf("error answer leaks plaintext: %s", r.body)
				}
				if tc.want == 422 && (len(e.PayloadErrors) != 3 || e.PayloadErrors[0].KeyID != "k-ns1") {
					t.Errorf("payload errors %+v, want 3 naming k-ns1", e.PayloadErrors)
				}
			}
		})
	}
}

// TestPathPrefix pins the stricter routing under WithPathPrefix.
func TestPathPrefix(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	_, url := newServer(t, c, codecserver.WithPathPrefix("/codec/"))
	for path, want := range map[string]int{
		"/codec/decode":           200,
		"/codec/default/decode":   200,
		"/codec/a/default/decode": 404,
		"/decode":                 404,
		"/codecx/decode":          404,
		"/codec/healthz":          200,
	} {
		method := "POST"
		if strings.HasSuffix(path, "healthz") {
			method = "GET"
		}
		r := do(t, method, url+path, strings.NewReader("{}"), "Content-Type: application/json")
		if r.status != want {
			t.Errorf("%s %s = %d, want %d", method, path, r.status, want)
		}
	}
}

// TestBadPayloadInBatch is case C12.
func TestBadPayloadInBatch(t *testing.T) {
	current, removed := newKey(t, "k-current"), newKey(t, "k-removed")
	writer := newCodec(t, []*codec.Key{current, removed})
	old := newCodec(t, []*codec.Key{removed})
	server := newCodec(t, []*codec.Key{current})
	logs := &logBuffer{}
	_, url := newServer(t, server, codecserver.WithLogger(logs.logger()))

	secrets := []string{"CANARY-first", "CANARY-second", "CANARY-third"}
	var enc []*commonpb.Payload
	for _, s := range secrets {
		enc = append(enc, encode(t, writer, "default", jsonPayload(t, s))[0])
	}
	tampered := proto.Clone(enc[1]).(*commonpb.Payload)
	tampered.Data[len(tampered.Data)/2] ^= 1
	fromRemoved := encode(t, old, "default", jsonPayload(t, "CANARY-removed"))[0]
	futureVersion := proto.Clone(enc[2]).(*commonpb.Payload)
	futureVersion.Metadata[codec.MetadataFormat] = []byte("99")
	legacy := &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("binary/encrypted"), codec.MetadataKeyID: []byte("k-current")},
		Data:     enc[0].Data,
	}
	truncated := proto.Clone(enc[0]).(*commonpb.Payload)
	truncated.Data = truncated.Data[:5]

	tests := []struct {
		name  string
		batch []*commonpb.Payload
		want  []codecserver.PayloadError
	}{
		{"tampered middle", []*commonpb.Payload{enc[0], tampered, enc[2]},
			[]codecserver.PayloadError{{Index: 1, KeyID: "k-current", Reason: "authentication failed (wrong key, or tampered or truncated payload)"}}},
		{"removed key", []*commonpb.Payload{enc[0], fromRemoved},
			[]codecserver.PayloadError{{Index: 1, KeyID: "k-removed", Reason: "unknown key ID"}}},
		{"several", []*commonpb.Payload{truncated, enc[1], futureVersion, legacy},
			[]codecserver.PayloadError{
				{Index: 0, KeyID: "k-current", Reason: "authentication failed (wrong key, or tampered or truncated payload)"},
				{Index: 2, KeyID: "k-current", Reason: "unsupported format version"},
				{Index: 3, KeyID: "k-current", Reason: "legacy sample format and legacy decoding is off"},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, url+"/default/decode", body(t, tc.batch...))
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422; body %s", r.status, r.body)
			}
			e := errorBody(t, r)
			if fmt.Sprint(e.PayloadErrors) != fmt.Sprint(tc.want) {
				t.Errorf("payload errors\n got %+v\nwant %+v", e.PayloadErrors, tc.want)
			}
			for _, bad := range []string{"CANARY", `"payloads"`, "codec:", "message authentication"} {
				if strings.Contains(r.body, bad) {
					t.Errorf("error answer %s contains %q", r.body, bad)
				}
			}
			// No ciphertext is handed back either.
			for _, p := range tc.batch {
				if strings.Contains(r.body, base64.StdEncoding.EncodeToString(p.Data)) {
					t.Errorf("error answer echoes a payload's data")
				}
			}
		})
	}
	if l := logs.String(); strings.Contains(l, "CANARY") {
		t.Errorf("log holds plaintext:\n%s", l)
	}
}

// failingKeys is a key source that is down.
type failingKeys struct{ err error }

func (f failingKeys) EncryptionKey(context.Context) (*codec.Key, error) { return nil, f.err }
func (f failingKeys) DecryptionKey(context.Context, codec.KeyRef) (*codec.Key, error) {
	return nil, f.err
}

// TestEncodeFailsClosed is case C15.
func TestEncodeFailsClosed(t *testing.T) {
	k := newKey(t, "k1")
	worker := newCodec(t, []*codec.Key{k})
	_, url := newServer(t, worker)
	secret := jsonPayload(t, "CANARY-encode")

	r := post(t, url+"/default/encode", body(t, secret))
	enc := payloads(t, r)
	if len(enc) != 1 || string(enc[0].Metadata["encoding"]) != codec.EncodingEncrypted ||
		string(enc[0].Metadata[codec.MetadataKeyID]) != "k1" {
		t.Fatalf("encode answered %v, want our encoding under k1", enc)
	}
	if strings.Contains(r.body, "CANARY") || strings.Contains(r.body, base64.StdEncoding.EncodeToString(secret.Data)) {
		t.Fatalf("encode answer holds plaintext: %s", r.body)
	}
	dec, err := worker.Decode(enc)
	if err != nil || !proto.Equal(dec[0], secret) {
		t.Fatalf("worker Decode(encode answer) = %v, %v; want the input", dec, err)
	}

	for _, tc := range []struct {
		name string
		err  error
	}{
		{"unavailable", fmt.Errorf("kms timeout: %w", codec.ErrUnavailable)},
		{"other failure", errors.New("kms: access denied for arn:secret")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			down, err := codec.New(failingKeys{tc.err})
			if err != nil {
				t.Fatal(err)
			}
			_, url := newServer(t, down)
			for _, op := range []string{"encode", "decode"} {
				in := body(t, secret, secret)
				if op == "decode" {
					in = body(t, enc...)
				}
				r := post(t, url+"/default/"+op, in)
				if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
					t.Fatalf("%s with key source down = %d, want 503 with Retry-After; body %s", op, r.status, r.body)
				}
				e := errorBody(t, r)
				for _, bad := range []string{"CANARY", `"payloads"`, "kms", "arn:", "binary/encrypted"} {
					if strings.Contains(r.body, bad) {
						t.Errorf("%s answer %s contains %q", op, r.body, bad)
					}
				}
				if len(e.PayloadErrors) != 1 || e.PayloadErrors[0].Index != 0 {
					t.Errorf("%s payload errors %+v, want one for index 0", op, e.PayloadErrors)
				}
			}
		})
	}

	t.Run("too large", func(t *testing.T) {
		small := newCodec(t, []*codec.Key{k}, codec.WithMaxPayloadSize(1024))
		_, url := newServer(t, small)
		big := &commonpb.Payload{Data: make([]byte, 2048)}
		r := post(t, url+"/encode", body(t, secret, big))
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("encode of an oversized payload = %d, want 422", r.status)
		}
		e := errorBody(t, r)
		if len(e.PayloadErrors) != 1 || e.PayloadErrors[0].Index != 1 || e.PayloadErrors[0].Reason != "over the size limit" {
			t.Errorf("payload errors %+v", e.PayloadErrors)
		}
	})

	t.Run("disabled", func(t *testing.T) {
		_, url := newServer(t, worker, codecserver.WithEncode(false))
		r := post(t, url+"/encode", body(t, secret))
		if r.status != http.StatusForbidden || strings.Contains(r.body, "CANARY") {
			t.Fatalf("encode while disabled = %d %s, want 403", r.status, r.body)
		}
		payloads(t, post(t, url+"/decode", body(t, enc...)))
	})
}

// TestOptionsValidate checks that bad configuration fails in NewHandler.
func TestOptionsValidate(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	bad := []struct {
		name string
		opt  codecserver.Option
	}{
		{"origin with path", codecserver.WithAllowedOrigins("https://ui.example.com/")},
		{"origin without scheme", codecserver.WithAllowedOrigins("ui.example.com")},
		{"origin wildcard host", codecserver.WithAllowedOrigins("https://*.example.com")},
		{"origin ftp", codecserver.WithAllowedOrigins("ftp://example.com")},
		{"header with colon", codecserver.WithAllowedHeaders("X-A:")},
		{"nil authenticator", codecserver.WithAuthenticator(nil)},
		{"bad default namespace", codecserver.WithDefaultNamespace("a b")},
		{"relative prefix", codecserver.WithPathPrefix("codec")},
		{"tiny body", codecserver.WithMaxBodySize(10)},
		{"zero payloads", codecserver.WithMaxPayloads(0)},
		{"zero in flight", codecserver.WithConcurrency(0, 1, 0)},
		{"negative wait", codecserver.WithConcurrency(1, 1, -1)},
		{"zero timeout", codecserver.WithTimeouts(0, 1, 1, 1)},
		{"header timeout above read", codecserver.WithTimeouts(2, 1, 1, 1)},
		{"tiny header", codecserver.WithMaxHeaderBytes(100)},
		{"missing TLS files", codecserver.WithTLSFiles("testdata/none.pem", "testdata/none.key")},
		{"nil logger", codecserver.WithLogger(nil)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := codecserver.NewHandler(c, tc.opt); err == nil || !strings.HasPrefix(err.Error(), "codecserver: ") {
				t.Fatalf("NewHandler(%s) = %v, want a codecserver error", tc.name, err)
			}
		})
	}
	if _, err := codecserver.NewHandler(nil); err == nil {
		t.Error("NewHandler(nil) succeeded")
	}
}
