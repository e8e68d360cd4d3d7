package codecserver

import (
	"net/http"
	"strings"
)

// corsMaxAge is how long, in seconds, a browser may cache a preflight
// answer.
const corsMaxAge = "600"

// cors applies the origin policy. It is built once by NewHandler.
type cors struct {
	origins      map[string]bool
	any          bool
	credentials  bool
	allowHeaders string
}

func newCORS(cfg *config) *cors {
	c := &cors{any: cfg.allowAny, credentials: cfg.credentials, origins: map[string]bool{}}
	for _, o := range cfg.origins {
		c.origins[o] = true
	}
	hs := append([]string{"Content-Type", "X-Namespace", "Authorization"}, cfg.extraHeaders...)
	c.allowHeaders = strings.Join(hs, ", ")
	return c
}

// allowed reports whether origin may call the server. An empty origin
// (not a browser's cross-origin request) is always allowed.
func (c *cors) allowed(origin string) bool {
	if origin == "" || c.any {
		return true
	}
	// Browsers send the origin in its serialized form: lower-case scheme
	// and host, no default port, no trailing slash. The comparison is
	// exact after lower-casing, as the allowlist was normalized.
	return c.origins[strings.ToLower(origin)]
}

// headers sets the response headers for origin on every answer, errors
// included, so that a browser can read why a request failed. It reports
// whether the origin is allowed.
func (c *cors) headers(w http.ResponseWriter, origin string) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin == "" {
		return true
	}
	if !c.allowed(origin) {
		return false
	}
	if c.any {
		// NewHandler refuses "*" with credentials, so this never
		// allows credentials.
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		if c.credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
	return true
}

// preflight answers an OPTIONS request that carries
// Access-Control-Request-Method, without authentication: browsers send no
// credentials with a preflight.
func (c *cors) preflight(w http.ResponseWriter, r *http.Request) int {
	h := w.Header()
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	origin := r.Header.Get("Origin")
	if origin == "" || !c.allowed(origin) {
		return http.StatusForbidden
	}
	if m := r.Header.Get("Access-Control-Request-Method"); m != http.MethodPost {
		return http.StatusMethodNotAllowed
	}
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", c.allowHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	if strings.EqualFold(r.Header.Get("Access-Control-Request-Private-Network"), "true") {
		// Chrome asks this before a public site, such as a hosted Web
		// UI, may call a server on a private or loopback address.
		h.Set("Access-Control-Allow-Private-Network", "true")
	}
	return http.StatusNoContent
}
