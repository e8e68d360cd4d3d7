package codecserver

import (
	"errors"
	"net/http"
	"strings"
)

// route is what a request's path asks for.
type route struct {
	op        Operation // Decode or Encode; 0 for health
	health    bool
	namespace string // from the path; "" when it names none
}

// Route names used in logs and metrics. Unknown paths are logged as
// "unknown" so that a scan of random paths cannot grow the label set.
const (
	routeDecode    = "decode"
	routeEncode    = "encode"
	routeHealth    = "healthz"
	routeUnknown   = "unknown"
	maxNamespaceSz = 255
)

func (r route) name() string {
	switch {
	case r.health:
		return routeHealth
	case r.op == Decode:
		return routeDecode
	case r.op == Encode:
		return routeEncode
	}
	return routeUnknown
}

// parseRoute splits path into its operation and namespace. Without a
// prefix the last segment is the operation and the one before it, if any,
// the namespace; earlier segments are ignored. With a prefix the path must
// be prefix/op or prefix/ns/op. One trailing slash is allowed. ok is false
// for every other path, which is answered 404.
func parseRoute(path, prefix string) (r route, ok bool) {
	if prefix != "" {
		rest, found := strings.CutPrefix(path, prefix)
		if !found || rest != "" && rest[0] != '/' {
			return route{}, false
		}
		path = rest
	}
	if path == "/healthz" || path == "/healthz/" {
		return route{health: true}, true
	}
	path = strings.TrimSuffix(path, "/")
	if !strings.HasPrefix(path, "/") {
		return route{}, false
	}
	segs := strings.Split(path[1:], "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return route{}, false
		}
	}
	switch segs[len(segs)-1] {
	case "decode":
		r.op = Decode
	case "encode":
		r.op = Encode
	default:
		return route{}, false
	}
	if prefix != "" && len(segs) > 2 {
		return route{}, false
	}
	if len(segs) >= 2 {
		r.namespace = segs[len(segs)-2]
	}
	return r, true
}

// Errors resolving a request's namespace; each is answered 400 with its
// text, which holds no request data.
var (
	errNamespaceConflict = errors.New("namespace in path and X-Namespace header disagree")
	errNamespaceInvalid  = errors.New("invalid namespace name")
	errNamespaceTwice    = errors.New("more than one X-Namespace header")
)

// resolveNamespace picks the request's namespace: the path's, which an
// X-Namespace header must then repeat exactly if present; else the header's;
// else def.
func resolveNamespace(fromPath string, h http.Header, def string) (string, error) {
	vals := h.Values("X-Namespace")
	if len(vals) > 1 {
		return "", errNamespaceTwice
	}
	header := ""
	if len(vals) == 1 {
		header = strings.TrimSpace(vals[0])
	}
	if header != "" && !validNamespace(header) {
		return "", errNamespaceInvalid
	}
	switch {
	case fromPath != "":
		if !validNamespace(fromPath) {
			return "", errNamespaceInvalid
		}
		if header != "" && header != fromPath {
			return "", errNamespaceConflict
		}
		return fromPath, nil
	case header != "":
		return header, nil
	}
	return def, nil
}

// validNamespace accepts 1 to 255 bytes of ASCII letters, digits, '.', '-'
// and '_', not "." or "..": every name Temporal accepts, and nothing that
// could break a log line or a KMS encryption context.
func validNamespace(ns string) bool {
	if ns == "" || len(ns) > maxNamespaceSz || ns == "." || ns == ".." {
		return false
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
