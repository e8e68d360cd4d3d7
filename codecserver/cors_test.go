package codecserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
)

const uiOrigin = "https://temporal.example.com"

// TestCORS is case C11.
func TestCORS(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	tokens, err := codecserver.NewTokenAuthenticator([]codecserver.Token{
		{Name: "ui", Token: "ui-token-0123456789", Namespaces: []string{"*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, withCreds := newServer(t, c, codecserver.WithAllowedOrigins(uiOrigin, "http://localhost:8233"),
		codecserver.WithCredentials(true), codecserver.WithAuthenticator(tokens))
	_, noCreds := newServer(t, c, codecserver.WithAllowedOrigins(uiOrigin))
	_, anyOrigin := newServer(t, c, codecserver.WithAllowedOrigins("*"))
	_, noOrigins := newServer(t, c)
	auth := "Authorization: Bearer ui-token-0123456789"

	tests := []struct {
		name      string
		url       string
		method    string
		headers   []string
		want      int
		wantACAO  string
		wantCreds bool
	}{
		{"credentials on", withCreds, "POST",
			[]string{"Origin: " + uiOrigin, "Cookie: session=abc", auth}, 200, uiOrigin, true},
		{"second origin", withCreds, "POST",
			[]string{"Origin: http://localhost:8233", auth}, 200, "http://localhost:8233", true},
		{"credentials off", noCreds, "POST",
			[]string{"Origin: " + uiOrigin, "Cookie: session=abc"}, 200, uiOrigin, false},
		{"any origin, no credentials", anyOrigin, "POST",
			[]string{"Origin: https://elsewhere.example", "Cookie: session=abc"}, 200, "*", false},
		{"no Origin header (CLI)", withCreds, "POST", []string{auth}, 200, "", false},
		{"origin not listed", withCreds, "POST",
			[]string{"Origin: https://evil.example", auth}, 403, "", false},
		{"origin differs by port", noCreds, "POST",
			[]string{"Origin: " + uiOrigin + ":8443"}, 403, "", false},
		{"origin differs by scheme", noCreds, "POST",
			[]string{"Origin: http://temporal.example.com"}, 403, "", false},
		{"suffix attack", noCreds, "POST",
			[]string{"Origin: " + uiOrigin + ".evil.example"}, 403, "", false},
		{"null origin", noCreds, "POST", []string{"Origin: null"}, 403, "", false},
		{"no origins configured", noOrigins, "POST", []string{"Origin: " + uiOrigin}, 403, "", false},
		{"cookie is not a credential", withCreds, "POST",
			[]string{"Origin: " + uiOrigin, "Cookie: Authorization=Bearer ui-token-0123456789"}, 401, uiOrigin, true},
		{"401 keeps CORS headers", withCreds, "POST",
			[]string{"Origin: " + uiOrigin, "Authorization: Bearer wrong"}, 401, uiOrigin, true},
		{"preflight needs no auth", withCreds, "OPTIONS",
			[]string{"Origin: " + uiOrigin, "Access-Control-Request-Method: POST",
				"Access-Control-Request-Headers: content-type,x-namespace,authorization"}, 204, uiOrigin, true},
		{"preflight, origin not listed", withCreds, "OPTIONS",
			[]string{"Origin: https://evil.example", "Access-Control-Request-Method: POST"}, 403, "", false},
		{"preflight for GET", noCreds, "OPTIONS",
			[]string{"Origin: " + uiOrigin, "Access-Control-Request-Method: GET"}, 405, uiOrigin, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := append([]string{"Content-Type: application/json"}, tc.headers...)
			r := do(t, tc.method, tc.url+"/default/decode", strings.NewReader("{}"), hs...)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.want, r.body)
			}
			h := r.header
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.wantACAO {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tc.wantACAO)
			}
			if got := h.Get("Access-Control-Allow-Credentials"); (got == "true") != tc.wantCreds {
				t.Errorf("Access-Control-Allow-Credentials = %q, want set: %v", got, tc.wantCreds)
			}
			if h.Get("Access-Control-Allow-Origin") == "*" && h.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("* combined with credentials")
			}
			if !contains(h.Values("Vary"), "Origin") {
				t.Errorf("Vary = %q, want Origin", h.Values("Vary"))
			}
			if tc.want == 204 {
				allow := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
				for _, need := range []string{"content-type", "x-namespace", "authorization"} {
					if !strings.Contains(allow, need) {
						t.Errorf("Access-Control-Allow-Headers = %q lacks %s", allow, need)
					}
				}
				if h.Get("Access-Control-Allow-Methods") != "POST" {
					t.Errorf("Access-Control-Allow-Methods = %q", h.Get("Access-Control-Allow-Methods"))
				}
			}
		})
	}

	t.Run("private network preflight", func(t *testing.T) {
		r := do(t, "OPTIONS", noCreds+"/decode", nil, "Origin: "+uiOrigin,
			"Access-Control-Request-Method: POST", "Access-Control-Request-Private-Network: true")
		if r.status != 204 || r.header.Get("Access-Control-Allow-Private-Network") != "true" {
			t.Errorf("private network preflight = %d %v", r.status, r.header)
		}
	})
}

// TestCORSRefusedAtStartUp: "*" with credentials is a configuration error.
func TestCORSRefusedAtStartUp(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	for _, opts := range [][]codecserver.Option{
		{codecserver.WithAllowedOrigins("*"), codecserver.WithCredentials(true)},
		{codecserver.WithCredentials(true), codecserver.WithAllowedOrigins(uiOrigin, "*")},
		{codecserver.WithAllowedOrigins("*", uiOrigin)},
	} {
		if _, err := codecserver.NewHandler(c, opts...); err == nil {
			t.Errorf("NewHandler accepted %d options combining * with credentials or a list", len(opts))
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		for _, part := range strings.Split(v, ",") {
			if http.CanonicalHeaderKey(strings.TrimSpace(part)) == s {
				return true
			}
		}
	}
	return false
}
