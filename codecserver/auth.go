package codecserver

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// Operation is what a request asks the codec to do. Operations combine as
// a bit set in [Grants].
type Operation uint8

// The operations.
const (
	Decode Operation = 1 << iota
	Encode
)

func (op Operation) String() string {
	switch op {
	case Decode:
		return "decode"
	case Encode:
		return "encode"
	case Decode | Encode:
		return "decode,encode"
	}
	return "none"
}

// AllNamespaces, as a key of [Grants], grants its operations in every
// namespace.
const AllNamespaces = "*"

// Grants maps a namespace, or [AllNamespaces], to the operations allowed
// there.
type Grants map[string]Operation

// Allows reports whether g allows op in namespace ns.
func (g Grants) Allows(ns string, op Operation) bool {
	return (g[ns]|g[AllNamespaces])&op == op && op != 0
}

// Principal is an authenticated caller.
type Principal struct {
	// Name identifies the caller in audit logs: a token's name or a JWT's
	// subject. It must not be secret.
	Name   string
	Grants Grants
}

// Authenticator decides who sent a request. It must be safe for concurrent
// use, must not keep the request, and must not put credentials in its
// errors: the handler logs them.
//
// Authenticate returns the caller, or an error wrapping
// [ErrNoCredentials] (no credentials of its kind: answered 401),
// [ErrInvalidCredentials] (credentials that do not verify: 401), or
// anything else for a failure of its own, such as an identity provider
// that cannot be reached (503).
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// Authentication errors.
var (
	ErrNoCredentials      = errors.New("codecserver: no credentials")
	ErrInvalidCredentials = errors.New("codecserver: invalid credentials")
)

// bearer returns the token of an "Authorization: Bearer …" header. The
// scheme is case-insensitive; a missing header, another scheme or an empty
// token is ErrNoCredentials; two Authorization headers are invalid.
func bearer(r *http.Request) (string, error) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return "", ErrNoCredentials
	}
	if len(vals) > 1 {
		return "", fmt.Errorf("%w: more than one Authorization header", ErrInvalidCredentials)
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: not a bearer token", ErrNoCredentials)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", ErrNoCredentials
	}
	return tok, nil
}

// FirstOf returns an authenticator that asks each of auths in turn and
// takes the first caller one accepts. A request that none accepts fails
// with ErrInvalidCredentials if any authenticator found credentials it
// rejected, with the first other error if any, else with ErrNoCredentials.
func FirstOf(auths ...Authenticator) Authenticator {
	return firstOf(append([]Authenticator(nil), auths...))
}

type firstOf []Authenticator

func (f firstOf) Authenticate(r *http.Request) (*Principal, error) {
	var invalid, other error
	for _, a := range f {
		p, err := a.Authenticate(r)
		switch {
		case err == nil:
			return p, nil
		case errors.Is(err, ErrNoCredentials):
		case errors.Is(err, ErrInvalidCredentials):
			if invalid == nil {
				invalid = err
			}
		default:
			if other == nil {
				other = err
			}
		}
	}
	if invalid != nil {
		return nil, invalid
	}
	if other != nil {
		return nil, other
	}
	return nil, ErrNoCredentials
}

// Token is one static bearer token and what it may do.
type Token struct {
	// Name identifies the token in audit logs. Required and unique.
	Name string `json:"name"`
	// Token is the secret itself, at least 16 bytes. Give either Token
	// or SHA256.
	Token string `json:"token,omitempty"`
	// SHA256 is the hex SHA-256 of the secret, so that the file need not
	// hold it.
	SHA256 string `json:"sha256,omitempty"`
	// Namespaces the token may use; "*" for all. Required.
	Namespaces []string `json:"namespaces"`
	// Operations the token may perform there: "decode", "encode".
	// Default: decode only.
	Operations []string `json:"operations,omitempty"`
}

// MinTokenLength is the shortest static token accepted: 16 bytes.
const MinTokenLength = 16

// TokenAuthenticator accepts static bearer tokens. It keeps only their
// SHA-256 digests and compares a presented token's digest with every
// configured one in constant time, so neither the token's length nor its
// content shows in the timing.
type TokenAuthenticator struct {
	digests [][sha256.Size]byte
	who     []Principal
}

// NewTokenAuthenticator checks tokens and returns an authenticator that
// accepts them.
func NewTokenAuthenticator(tokens []Token) (*TokenAuthenticator, error) {
	if len(tokens) == 0 {
		return nil, errors.New("codecserver: no tokens")
	}
	a := &TokenAuthenticator{}
	names := make(map[string]bool, len(tokens))
	for i, t := range tokens {
		if t.Name == "" || names[t.Name] {
			return nil, fmt.Errorf("codecserver: token %d: name missing or repeated", i)
		}
		names[t.Name] = true
		var d [sha256.Size]byte
		switch {
		case t.Token != "" && t.SHA256 != "":
			return nil, fmt.Errorf("codecserver: token %q: give token or sha256, not both", t.Name)
		case t.Token != "":
			if len(t.Token) < MinTokenLength {
				return nil, fmt.Errorf("codecserver: token %q: shorter than %d bytes", t.Name, MinTokenLength)
			}
			d = sha256.Sum256([]byte(t.Token))
		case t.SHA256 != "":
			b, err := hex.DecodeString(t.SHA256)
			if err != nil || len(b) != sha256.Size {
				return nil, fmt.Errorf("codecserver: token %q: sha256 is not 64 hex digits", t.Name)
			}
			copy(d[:], b)
		default:
			return nil, fmt.Errorf("codecserver: token %q: no token or sha256", t.Name)
		}
		for _, prev := range a.digests {
			if prev == d {
				return nil, fmt.Errorf("codecserver: token %q: same secret as another token", t.Name)
			}
		}
		g, err := tokenGrants(t)
		if err != nil {
			return nil, err
		}
		a.digests = append(a.digests, d)
		a.who = append(a.who, Principal{Name: t.Name, Grants: g})
	}
	return a, nil
}

func tokenGrants(t Token) (Grants, error) {
	ops := Decode
	if len(t.Operations) > 0 {
		ops = 0
		for _, o := range t.Operations {
			switch o {
			case "decode":
				ops |= Decode
			case "encode":
				ops |= Encode
			default:
				return nil, fmt.Errorf("codecserver: token %q: unknown operation %q", t.Name, o)
			}
		}
	}
	if len(t.Namespaces) == 0 {
		return nil, fmt.Errorf("codecserver: token %q: no namespaces", t.Name)
	}
	g := make(Grants, len(t.Namespaces))
	for _, ns := range t.Namespaces {
		if ns != AllNamespaces && !validNamespace(ns) {
			return nil, fmt.Errorf("codecserver: token %q: invalid namespace %q", t.Name, ns)
		}
		g[ns] = ops
	}
	return g, nil
}

// LoadTokenFile reads tokens from a JSON file of the form
//
//	{"tokens": [{"name": "web-ui", "sha256": "…", "namespaces": ["default"]},
//	            {"name": "ci", "token": "…", "namespaces": ["*"],
//	             "operations": ["decode", "encode"]}]}
//
// Unknown fields are errors. Errors name the file and token, never a
// secret.
func LoadTokenFile(path string) (*TokenAuthenticator, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("codecserver: tokens file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("codecserver: tokens file: %w", err)
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("codecserver: tokens file %s: larger than 1 MiB", path)
	}
	var doc struct {
		Tokens []Token `json:"tokens"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		// A syntax error quotes the offending character, which could
		// belong to a secret: report only where it is.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("codecserver: tokens file %s: invalid JSON at byte %d", path, se.Offset)
		}
		return nil, fmt.Errorf("codecserver: tokens file %s: %w", path, err)
	}
	clear(b)
	a, err := NewTokenAuthenticator(doc.Tokens)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return a, nil
}

// Authenticate implements [Authenticator].
func (a *TokenAuthenticator) Authenticate(r *http.Request) (*Principal, error) {
	tok, err := bearer(r)
	if err != nil {
		return nil, err
	}
	d := sha256.Sum256([]byte(tok))
	match := -1
	for i := range a.digests {
		eq := subtle.ConstantTimeCompare(d[:], a.digests[i][:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return nil, fmt.Errorf("%w: unknown token", ErrInvalidCredentials)
	}
	p := a.who[match]
	return &p, nil
}
