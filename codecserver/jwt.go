package codecserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// JWTConfig configures a [JWTAuthenticator]. [NewJWTAuthenticator] checks
// every field.
type JWTConfig struct {
	// JWKSURL is where the identity provider publishes its signing keys
	// (the jwks_uri of its OpenID configuration). It must be https, or
	// http to a loopback address. Required.
	JWKSURL string

	// Issuer, if set, must equal the token's iss claim. Set it.
	Issuer string

	// Audience, if set, must be one of the token's aud values. Set it to
	// the client ID the Web UI logs in with.
	Audience string

	// Algorithms are the signature algorithms accepted. Default RS256,
	// PS256, ES256, ES384 and EdDSA. HMAC algorithms and "none" are
	// refused: a public key set cannot verify them safely.
	Algorithms []string

	// PermissionsClaim names the claim that grants access, default
	// "permissions": an array of strings (or one space-separated string)
	// of the form "namespace:action", namespace "*" meaning all. Actions
	// "decode" and "read" grant decode; "encode" grants encode; "write",
	// "worker" and "admin" grant both. These follow the role names of
	// Temporal's own claim mapper, so one token can serve both. Other
	// entries are ignored.
	PermissionsClaim string

	// CacheTTL is how long a fetched key set is used before it is fetched
	// again, 1 minute to 24 hours; default 10 minutes. A token naming a
	// key ID not in the set triggers a refetch at most every
	// MinRefreshInterval. If a refetch fails, the cached set stays in use.
	CacheTTL time.Duration

	// MinRefreshInterval, default 30 seconds, 1 second to CacheTTL.
	MinRefreshInterval time.Duration

	// Leeway for exp, nbf and iat, 0 to 5 minutes; default 1 minute.
	// Leeway is applied only when set above zero or left at the default;
	// set NoLeeway for none.
	Leeway   time.Duration
	NoLeeway bool

	// HTTPClient fetches the key set. Default: a client with a 10-second
	// timeout. Key sets above 1 MiB are refused.
	HTTPClient *http.Client

	// Now is the clock, default time.Now; for tests.
	Now func() time.Time
}

// JWTAuthenticator accepts JWTs signed by a key of an OpenID Connect
// provider's published key set (JWKS), which it fetches over HTTP and
// caches. A token must carry exp; iss and aud are checked when configured.
// The caller's name in logs is the token's sub claim.
type JWTAuthenticator struct {
	cfg   JWTConfig
	algs  []jose.SignatureAlgorithm
	fetch sync.Mutex // serializes fetches

	mu        sync.Mutex
	keys      *jose.JSONWebKeySet
	fetchedAt time.Time
	triedAt   time.Time
}

// maxJWKSSize caps a fetched key set.
const maxJWKSSize = 1 << 20

// Errors from the JWKS fetch (answered 503).
var errJWKS = errors.New("codecserver: JWKS")

// NewJWTAuthenticator checks cfg and returns an authenticator. It does not
// fetch the key set; call [JWTAuthenticator.Refresh] to fail early when it
// cannot be reached.
func NewJWTAuthenticator(cfg JWTConfig) (*JWTAuthenticator, error) {
	u, err := url.Parse(cfg.JWKSURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("codecserver: JWKS URL %q is not an absolute URL", cfg.JWKSURL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("codecserver: JWKS URL must be https (or http to a loopback address), got %q", u.Scheme)
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{"RS256", "PS256", "ES256", "ES384", "EdDSA"}
	}
	var algs []jose.SignatureAlgorithm
	for _, a := range cfg.Algorithms {
		switch jose.SignatureAlgorithm(a) {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
			jose.ES256, jose.ES384, jose.ES512, jose.EdDSA:
			algs = append(algs, jose.SignatureAlgorithm(a))
		default:
			return nil, fmt.Errorf("codecserver: JWT algorithm %q is not an accepted asymmetric algorithm", a)
		}
	}
	if cfg.PermissionsClaim == "" {
		cfg.PermissionsClaim = "permissions"
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 10 * time.Minute
	}
	if cfg.CacheTTL < time.Minute || cfg.CacheTTL > 24*time.Hour {
		return nil, fmt.Errorf("codecserver: JWKS cache TTL %v is outside 1m to 24h", cfg.CacheTTL)
	}
	if cfg.MinRefreshInterval == 0 {
		cfg.MinRefreshInterval = 30 * time.Second
	}
	if cfg.MinRefreshInterval < time.Second || cfg.MinRefreshInterval > cfg.CacheTTL {
		return nil, fmt.Errorf("codecserver: JWKS refresh interval %v is outside 1s to the cache TTL", cfg.MinRefreshInterval)
	}
	switch {
	case cfg.NoLeeway:
		cfg.Leeway = 0
	case cfg.Leeway == 0:
		cfg.Leeway = jwt.DefaultLeeway
	case cfg.Leeway < 0 || cfg.Leeway > 5*time.Minute:
		return nil, fmt.Errorf("codecserver: JWT leeway %v is outside 0 to 5m", cfg.Leeway)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &JWTAuthenticator{cfg: cfg, algs: algs}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Refresh fetches the key set now.
func (a *JWTAuthenticator) Refresh(ctx context.Context) error {
	a.fetch.Lock()
	defer a.fetch.Unlock()
	return a.refreshLocked(ctx)
}

func (a *JWTAuthenticator) refreshLocked(ctx context.Context) error {
	now := a.cfg.Now()
	a.mu.Lock()
	a.triedAt = now
	a.mu.Unlock()

	ks, err := a.download(ctx)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.keys, a.fetchedAt = ks, now
	a.mu.Unlock()
	return nil
}

func (a *JWTAuthenticator) download(ctx context.Context) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.JWKSURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errJWKS, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		// The transport's error names the URL, which is configuration,
		// and why the connection failed.
		return nil, fmt.Errorf("%w: %v", errJWKS, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: fetch answered %d", errJWKS, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read failed", errJWKS)
	}
	if len(b) > maxJWKSSize {
		return nil, fmt.Errorf("%w: key set larger than 1 MiB", errJWKS)
	}
	var ks jose.JSONWebKeySet
	if err := json.Unmarshal(b, &ks); err != nil {
		return nil, fmt.Errorf("%w: key set does not parse", errJWKS)
	}
	// Keep only public signing keys: a private or symmetric key in a
	// published set is a provider mistake that must not widen what
	// verifies.
	kept := ks.Keys[:0]
	for _, k := range ks.Keys {
		if k.Valid() && k.IsPublic() && (k.Use == "" || k.Use == "sig") {
			kept = append(kept, k)
		}
	}
	ks.Keys = kept
	return &ks, nil
}

// key returns the key for a token's kid. It fetches the key set when there
// is none, when it is stale, or when the kid is unknown, but at most once
// per MinRefreshInterval, so that tokens naming random key IDs cannot make
// the server hammer the identity provider.
func (a *JWTAuthenticator) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	var fetchErr error
	for attempt := 0; ; attempt++ {
		now := a.cfg.Now()
		a.mu.Lock()
		ks, fetched, tried := a.keys, a.fetchedAt, a.triedAt
		a.mu.Unlock()

		k, found := pickKey(ks, kid)
		stale := ks == nil || now.Sub(fetched) >= a.cfg.CacheTTL
		canRetry := now.Sub(tried) >= a.cfg.MinRefreshInterval
		if found && (!stale || !canRetry || attempt > 0) {
			return k, nil // a stale set is used while refetching fails
		}
		if !found && (attempt > 0 || !canRetry) {
			if ks == nil {
				if fetchErr == nil {
					fetchErr = fmt.Errorf("%w: no key set yet", errJWKS)
				}
				return nil, fetchErr
			}
			return nil, fmt.Errorf("%w: token names a key not in the key set", ErrInvalidCredentials)
		}

		if found {
			// Stale: one request refreshes, the others go on with the
			// cached key.
			if !a.fetch.TryLock() {
				return k, nil
			}
		} else {
			a.fetch.Lock()
		}
		a.mu.Lock()
		again := a.triedAt.Equal(tried) // nobody fetched while we waited
		a.mu.Unlock()
		if again {
			fetchErr = a.refreshLocked(ctx)
		}
		a.fetch.Unlock()
	}
}

func pickKey(ks *jose.JSONWebKeySet, kid string) (*jose.JSONWebKey, bool) {
	if ks == nil {
		return nil, false
	}
	if kid == "" {
		// Without a kid, only an unambiguous set will do.
		if len(ks.Keys) == 1 {
			return &ks.Keys[0], true
		}
		return nil, false
	}
	for i := range ks.Keys {
		if ks.Keys[i].KeyID == kid {
			return &ks.Keys[i], true
		}
	}
	return nil, false
}

// Authenticate implements [Authenticator]. A bearer token that is not a
// JWT (not three dot-separated parts) counts as no credentials, so that
// [FirstOf] can pair this with a [TokenAuthenticator].
func (a *JWTAuthenticator) Authenticate(r *http.Request) (*Principal, error) {
	raw, err := bearer(r)
	if err != nil {
		return nil, err
	}
	if strings.Count(raw, ".") != 2 {
		return nil, fmt.Errorf("%w: not a JWT", ErrNoCredentials)
	}
	tok, err := jwt.ParseSigned(raw, a.algs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, fmt.Errorf("%w: malformed JWT or algorithm not accepted", ErrInvalidCredentials)
	}
	h := tok.Headers[0]
	k, err := a.key(r.Context(), h.KeyID)
	if err != nil {
		return nil, err
	}
	if k.Algorithm != "" && k.Algorithm != h.Algorithm {
		return nil, fmt.Errorf("%w: token algorithm differs from its key's", ErrInvalidCredentials)
	}

	var std jwt.Claims
	var extra map[string]json.RawMessage
	if err := tok.Claims(k.Key, &std, &extra); err != nil {
		return nil, fmt.Errorf("%w: signature does not verify", ErrInvalidCredentials)
	}
	if std.Expiry == nil {
		return nil, fmt.Errorf("%w: token has no exp", ErrInvalidCredentials)
	}
	exp := jwt.Expected{Issuer: a.cfg.Issuer, Time: a.cfg.Now()}
	if a.cfg.Audience != "" {
		exp.AnyAudience = jwt.Audience{a.cfg.Audience}
	}
	if err := std.ValidateWithLeeway(exp, a.cfg.Leeway); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidCredentials, claimProblem(err))
	}

	name := std.Subject
	if name == "" {
		name = "jwt"
	}
	return &Principal{Name: name, Grants: parsePermissions(extra[a.cfg.PermissionsClaim])}, nil
}

// claimProblem names which claim failed, in words of our own.
func claimProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrInvalidAudience):
		return "wrong audience"
	}
	return "claims do not validate"
}

// parsePermissions reads "namespace:action" entries from an array of
// strings or a space-separated string. Anything else grants nothing.
func parsePermissions(raw json.RawMessage) Grants {
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Grants{}
		}
		list = strings.Fields(s)
	}
	g := Grants{}
	for _, p := range list {
		i := strings.LastIndexByte(p, ':')
		if i <= 0 {
			continue
		}
		ns, action := p[:i], strings.ToLower(p[i+1:])
		if ns != AllNamespaces && !validNamespace(ns) {
			continue
		}
		switch action {
		case "decode", "read":
			g[ns] |= Decode
		case "encode":
			g[ns] |= Encode
		case "write", "worker", "admin":
			g[ns] |= Decode | Encode
		}
	}
	return g
}
