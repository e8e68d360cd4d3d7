package codecserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
)

const (
	uiToken = "ui-secret-token-0123456789"
	ciToken = "ci-secret-token-0123456789"
)

// TestStaticTokens is case C14 with static tokens from a file.
func TestStaticTokens(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	auth, err := codecserver.LoadTokenFile("testdata/tokens.json")
	if err != nil {
		t.Fatalf("LoadTokenFile: %v", err)
	}
	logs := &logBuffer{}
	_, url := newServer(t, c, codecserver.WithAuthenticator(auth), codecserver.WithLogger(logs.logger()),
		codecserver.WithAllowedOrigins(uiOrigin))
	secret := jsonPayload(t, "CANARY-auth")
	enc := body(t, encode(t, c, "ns-a", secret)...)
	plain := body(t, secret)

	tests := []struct {
		name    string
		path    string
		headers []string
		reqBody string
		want    int
	}{
		{"no token", "/ns-a/decode", nil, enc, 401},
		{"bad token", "/ns-a/decode", []string{"Authorization: Bearer ui-secret-token-0123456780"}, enc, 401},
		{"short token", "/ns-a/decode", []string{"Authorization: Bearer u"}, enc, 401},
		{"long token", "/ns-a/decode", []string{"Authorization: Bearer " + uiToken + strings.Repeat("0", 4000)}, enc, 401},
		{"token prefix", "/ns-a/decode", []string{"Authorization: Bearer " + uiToken[:len(uiToken)-1]}, enc, 401},
		{"basic scheme", "/ns-a/decode", []string{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+uiToken))}, enc, 401},
		{"token without scheme", "/ns-a/decode", []string{"Authorization: " + uiToken}, enc, 401},
		{"two headers", "/ns-a/decode", []string{"Authorization: Bearer " + uiToken, "Authorization: Bearer " + uiToken}, enc, 401},
		{"token for its namespace", "/ns-a/decode", []string{"Authorization: Bearer " + uiToken}, enc, 200},
		{"lower-case scheme", "/ns-a/decode", []string{"Authorization: bearer " + uiToken}, enc, 200},
		{"token for A on B", "/ns-b/decode", []string{"Authorization: Bearer " + uiToken}, enc, 403},
		{"token for A, header names B", "/decode", []string{"X-Namespace: ns-b", "Authorization: Bearer " + uiToken}, enc, 403},
		{"token for A, header names A", "/decode", []string{"X-Namespace: ns-a", "Authorization: Bearer " + uiToken}, enc, 200},
		{"token for A, default namespace", "/decode", []string{"Authorization: Bearer " + uiToken}, enc, 403},
		{"decode-only token encodes", "/ns-a/encode", []string{"Authorization: Bearer " + uiToken}, plain, 403},
		{"hashed token encodes", "/ns-a/encode", []string{"Authorization: Bearer " + ciToken}, plain, 200},
		{"hashed token anywhere", "/ns-z/encode", []string{"Authorization: Bearer " + ciToken}, plain, 200},
		{"no token encodes", "/ns-a/encode", nil, plain, 401},
		{"CORS headers on 401", "/ns-a/decode", []string{"Origin: " + uiOrigin}, enc, 401},
		{"CORS headers on 403", "/ns-b/decode", []string{"Origin: " + uiOrigin, "Authorization: Bearer " + uiToken}, enc, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, url+tc.path, tc.reqBody, tc.headers...)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.want, r.body)
			}
			if r.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if strings.Contains(strings.Join(tc.headers, ""), "Origin") &&
				r.header.Get("Access-Control-Allow-Origin") != uiOrigin {
				t.Errorf("error answer lacks CORS headers: %v", r.header)
			}
			if r.status != 200 {
				errorBody(t, r)
				if strings.Contains(r.body, "CANARY") || strings.Contains(r.body, "secret") {
					t.Errorf("answer leaks: %s", r.body)
				}
			}
		})
	}

	lines := logs.lines(t)
	if len(lines) != len(tests) {
		t.Errorf("%d audit lines for %d requests", len(lines), len(tests))
	}
	for _, l := range lines {
		if l["outcome"] == "" || l["request_id"] == "" || l["namespace"] == "" {
			t.Errorf("audit line lacks fields: %v", l)
		}
	}
	checkLogClean(t, logs.String(), uiToken, ciToken, "CANARY", "dWk6")
	if !strings.Contains(logs.String(), `"principal":"web-ui"`) || !strings.Contains(logs.String(), `"outcome":"forbidden"`) ||
		!strings.Contains(logs.String(), `"outcome":"unauthenticated"`) {
		t.Errorf("audit log lacks principal or decisions:\n%s", logs.String())
	}
}

// checkLogClean fails if the log holds any of the secrets, or any token
// fragment of 12 bytes or more.
func checkLogClean(t *testing.T, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for i := 0; i+12 <= len(s) || i == 0; i++ {
			frag := s[i:min(len(s), i+12)]
			if strings.Contains(log, frag) {
				t.Fatalf("log holds %q (from a secret):\n%s", frag, log)
			}
			if len(s) <= 12 {
				break
			}
		}
	}
}

func TestTokenConfig(t *testing.T) {
	long := "0123456789abcdef"
	bad := []struct {
		name   string
		tokens []codecserver.Token
	}{
		{"none", nil},
		{"no name", []codecserver.Token{{Token: long, Namespaces: []string{"*"}}}},
		{"duplicate name", []codecserver.Token{{Name: "a", Token: long, Namespaces: []string{"*"}}, {Name: "a", Token: long + "x", Namespaces: []string{"*"}}}},
		{"duplicate secret", []codecserver.Token{{Name: "a", Token: long, Namespaces: []string{"*"}}, {Name: "b", Token: long, Namespaces: []string{"*"}}}},
		{"short", []codecserver.Token{{Name: "a", Token: "short", Namespaces: []string{"*"}}}},
		{"both forms", []codecserver.Token{{Name: "a", Token: long, SHA256: strings.Repeat("0", 64), Namespaces: []string{"*"}}}},
		{"neither form", []codecserver.Token{{Name: "a", Namespaces: []string{"*"}}}},
		{"bad digest", []codecserver.Token{{Name: "a", SHA256: "abc", Namespaces: []string{"*"}}}},
		{"no namespaces", []codecserver.Token{{Name: "a", Token: long}}},
		{"bad namespace", []codecserver.Token{{Name: "a", Token: long, Namespaces: []string{"a/b"}}}},
		{"bad operation", []codecserver.Token{{Name: "a", Token: long, Namespaces: []string{"*"}, Operations: []string{"admin"}}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codecserver.NewTokenAuthenticator(tc.tokens)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), long) {
				t.Errorf("error %q holds the secret", err)
			}
		})
	}

	dir := t.TempDir()
	for name, content := range map[string]string{
		"unknown field": `{"tokens":[{"name":"a","token":"0123456789abcdef","namespaces":["*"],"role":"x"}]}`,
		"syntax":        `{"tokens":[{"name":"a","token":"0123456789abcdef",}]}`,
		"bad secret":    `{"tokens":[{"name":"a","token":"SECRETSECRETSECRET` + "\x01" + `","namespaces":["*"]}]}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := codecserver.LoadTokenFile(p)
		if err == nil || strings.Contains(err.Error(), "0123456789abcdef") || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("LoadTokenFile(%s) = %v, want an error without the secret", name, err)
		}
	}
}

// idp is an OpenID provider stand-in: a JWKS on loopback and signers.
type idp struct {
	t       *testing.T
	url     string
	fetches atomic.Int32
	down    atomic.Bool

	mu   sync.Mutex
	keys []jose.JSONWebKey // public
	sign map[string]jose.Signer
}

func newIDP(t *testing.T) *idp {
	p := &idp{t: t, sign: map[string]jose.Signer{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		if p.down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: p.keys})
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL + "/.well-known/jwks.json"
	return p
}

// addKey adds a signing key, published unless hidden.
func (p *idp) addKey(kid string, alg jose.SignatureAlgorithm, hidden bool) {
	var priv, pub any
	switch alg {
	case jose.RS256:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			p.t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
	default:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			p.t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sign[kid] = s
	if !hidden {
		p.keys = append(p.keys, jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: string(alg), Use: "sig"})
	}
}

const (
	testIssuer   = "https://idp.example.com/"
	testAudience = "temporal-ui"
)

type claims struct {
	jwt.Claims
	Permissions any `json:"permissions,omitempty"`
}

func (p *idp) token(kid string, c claims) string {
	p.mu.Lock()
	s := p.sign[kid]
	p.mu.Unlock()
	raw, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return raw
}

func validClaims(now time.Time, perms any) claims {
	return claims{
		Claims: jwt.Claims{
			Issuer: testIssuer, Subject: "alice@example.com", Audience: jwt.Audience{testAudience},
			Expiry: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now),
		},
		Permissions: perms,
	}
}

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestJWT is case C14 with JWTs verified against a JWKS.
func TestJWT(t *testing.T) {
	p := newIDP(t)
	p.addKey("ec-1", jose.ES256, false)
	p.addKey("rsa-1", jose.RS256, false)
	p.addKey("hidden", jose.ES256, true)
	clk := &clock{}
	clk.ns.Store(time.Now().UnixNano())

	auth, err := codecserver.NewJWTAuthenticator(codecserver.JWTConfig{
		JWKSURL: p.url, Issuer: testIssuer, Audience: testAudience, Now: clk.now,
	})
	if err != nil {
		t.Fatalf("NewJWTAuthenticator: %v", err)
	}
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	logs := &logBuffer{}
	_, url := newServer(t, c, codecserver.WithAuthenticator(auth), codecserver.WithLogger(logs.logger()))
	secret := jsonPayload(t, "CANARY-jwt")
	enc := body(t, encode(t, c, "ns-a", secret)...)
	plain := body(t, secret)

	now := clk.now()
	readA := []string{"ns-a:read"}
	okTok := p.token("ec-1", validClaims(now, readA))
	expired := validClaims(now.Add(-3*time.Hour), readA)
	notYet := validClaims(now, readA)
	notYet.NotBefore = jwt.NewNumericDate(now.Add(time.Hour))
	wrongIss := validClaims(now, readA)
	wrongIss.Issuer = "https://other.example.com/"
	wrongAud := validClaims(now, readA)
	wrongAud.Audience = jwt.Audience{"another-client"}
	noExp := validClaims(now, readA)
	noExp.Expiry = nil
	tampered := okTok[:len(okTok)-4] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, okTok[len(okTok)-4:])
	hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")},
		(&jose.SignerOptions{}).WithHeader("kid", "ec-1"))
	if err != nil {
		t.Fatal(err)
	}
	hsTok, err := jwt.Signed(hs).Claims(validClaims(now, readA)).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	claimsJSON, _ := json.Marshal(validClaims(now, readA))
	noneTok := b64([]byte(`{"alg":"none","kid":"ec-1"}`)) + "." + b64(claimsJSON) + "."

	tests := []struct {
		name, path, token, body string
		want                    int
	}{
		{"valid ES256", "/ns-a/decode", okTok, enc, 200},
		{"valid RS256", "/ns-a/decode", p.token("rsa-1", validClaims(now, readA)), enc, 200},
		{"other namespace", "/ns-b/decode", okTok, enc, 403},
		{"read cannot encode", "/ns-a/encode", okTok, plain, 403},
		{"write can encode", "/ns-a/encode", p.token("ec-1", validClaims(now, []string{"ns-a:write"})), plain, 200},
		{"encode grant", "/ns-a/encode", p.token("ec-1", validClaims(now, []string{"ns-a:encode"})), plain, 200},
		{"wildcard", "/ns-q/decode", p.token("ec-1", validClaims(now, []string{"*:decode"})), body(t, secret), 200},
		{"space-separated string", "/ns-a/decode", p.token("ec-1", validClaims(now, "ns-b:read ns-a:read")), enc, 200},
		{"no permissions", "/ns-a/decode", p.token("ec-1", validClaims(now, nil)), enc, 403},
		{"malformed permissions", "/ns-a/decode", p.token("ec-1", validClaims(now, map[string]int{"ns-a": 1})), enc, 403},
		{"expired", "/ns-a/decode", p.token("ec-1", expired), enc, 401},
		{"not yet valid", "/ns-a/decode", p.token("ec-1", notYet), enc, 401},
		{"wrong issuer", "/ns-a/decode", p.token("ec-1", wrongIss), enc, 401},
		{"wrong audience", "/ns-a/decode", p.token("ec-1", wrongAud), enc, 401},
		{"no exp", "/ns-a/decode", p.token("ec-1", noExp), enc, 401},
		{"tampered signature", "/ns-a/decode", tampered, enc, 401},
		{"unpublished key", "/ns-a/decode", p.token("hidden", validClaims(now, readA)), enc, 401},
		{"HS256 confusion", "/ns-a/decode", hsTok, enc, 401},
		{"alg none", "/ns-a/decode", noneTok, enc, 401},
		{"garbage", "/ns-a/decode", "a.b.c", enc, 401},
		{"not a JWT", "/ns-a/decode", "opaque-token", enc, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, url+tc.path, tc.body, "Authorization: Bearer "+tc.token)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.want, r.body)
			}
		})
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1 (cached)", n)
	}

	t.Run("unknown key IDs do not hammer the provider", func(t *testing.T) {
		before := p.fetches.Load()
		for i := range 20 {
			p.addKey("random-"+string(rune('a'+i)), jose.ES256, true)
			post(t, url+"/ns-a/decode", enc, "Authorization: Bearer "+p.token("random-"+string(rune('a'+i)), validClaims(now, readA)))
		}
		if n := p.fetches.Load() - before; n > 1 {
			t.Errorf("20 unknown key IDs caused %d fetches, want at most 1", n)
		}
	})

	t.Run("rotation", func(t *testing.T) {
		p.addKey("ec-2", jose.ES256, false)
		tok := p.token("ec-2", validClaims(clk.now(), readA))
		clk.advance(31 * time.Second)
		if r := post(t, url+"/ns-a/decode", enc, "Authorization: Bearer "+tok); r.status != 200 {
			t.Fatalf("token under a newly published key = %d, want 200", r.status)
		}
	})

	t.Run("provider down keeps the cached set", func(t *testing.T) {
		p.down.Store(true)
		defer p.down.Store(false)
		clk.advance(11 * time.Minute) // past the cache TTL
		tok := p.token("ec-1", validClaims(clk.now(), readA))
		if r := post(t, url+"/ns-a/decode", enc, "Authorization: Bearer "+tok); r.status != 200 {
			t.Fatalf("with the provider down and a stale set: %d, want 200", r.status)
		}
	})

	checkLogClean(t, logs.String(), okTok, hsTok, "CANARY")
	if !strings.Contains(logs.String(), `"principal":"alice@example.com"`) {
		t.Errorf("audit log lacks the JWT subject")
	}
}

func TestJWTProviderUnreachable(t *testing.T) {
	p := newIDP(t)
	p.addKey("ec-1", jose.ES256, false)
	p.down.Store(true)
	auth, err := codecserver.NewJWTAuthenticator(codecserver.JWTConfig{JWKSURL: p.url})
	if err != nil {
		t.Fatal(err)
	}
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	_, url := newServer(t, c, codecserver.WithAuthenticator(auth))
	tok := p.token("ec-1", validClaims(time.Now(), []string{"*:read"}))
	for range 5 {
		r := post(t, url+"/decode", "{}", "Authorization: Bearer "+tok)
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503; body %s", r.status, r.body)
		}
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("provider asked %d times in a row, want 1 within the refresh interval", n)
	}
	if err := auth.Refresh(t.Context()); err == nil {
		t.Error("Refresh succeeded with the provider down")
	}
}

func TestJWTConfig(t *testing.T) {
	for name, cfg := range map[string]codecserver.JWTConfig{
		"plain http to a remote host": {JWKSURL: "http://idp.example.com/jwks"},
		"relative URL":                {JWKSURL: "/jwks"},
		"HMAC algorithm":              {JWKSURL: "https://idp.example.com/jwks", Algorithms: []string{"HS256"}},
		"none algorithm":              {JWKSURL: "https://idp.example.com/jwks", Algorithms: []string{"none"}},
		"tiny TTL":                    {JWKSURL: "https://idp.example.com/jwks", CacheTTL: time.Second},
		"huge leeway":                 {JWKSURL: "https://idp.example.com/jwks", Leeway: time.Hour},
	} {
		if _, err := codecserver.NewJWTAuthenticator(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := codecserver.NewJWTAuthenticator(codecserver.JWTConfig{JWKSURL: "http://127.0.0.1:1/jwks"}); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
}

// TestFirstOf pairs static tokens with JWTs, as cmd/codec-server does.
func TestFirstOf(t *testing.T) {
	p := newIDP(t)
	p.addKey("ec-1", jose.ES256, false)
	jwtAuth, err := codecserver.NewJWTAuthenticator(codecserver.JWTConfig{JWKSURL: p.url})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := codecserver.LoadTokenFile("testdata/tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	_, url := newServer(t, c, codecserver.WithAuthenticator(codecserver.FirstOf(tokens, jwtAuth)))
	for name, tc := range map[string]struct {
		token string
		want  int
	}{
		"static":    {uiToken, 200},
		"jwt":       {p.token("ec-1", validClaims(time.Now(), []string{"ns-a:read"})), 200},
		"bad jwt":   {p.token("ec-1", validClaims(time.Now().Add(-2*time.Hour), []string{"ns-a:read"})), 401},
		"bad token": {"nope-nope-nope-nope", 401},
	} {
		r := post(t, url+"/ns-a/decode", "{}", "Authorization: Bearer "+tc.token)
		if r.status != tc.want {
			t.Errorf("%s: status %d, want %d", name, r.status, tc.want)
		}
	}
}
