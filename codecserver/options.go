package codecserver

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Option configures a [Handler]. [NewHandler] checks every option and
// returns an error for a value out of range or a combination that is
// unsafe.
type Option func(*config) error

type config struct {
	origins          []string
	allowAny         bool
	credentials      bool
	extraHeaders     []string
	auth             Authenticator
	encode           bool
	defaultNamespace string
	prefix           string

	maxBody     int64
	maxPayloads int
	maxInFlight int
	maxQueue    int
	queueWait   time.Duration
	readHeader  time.Duration
	read        time.Duration
	write       time.Duration
	idle        time.Duration
	maxHeader   int
	tlsCert     *tls.Certificate
	logger      *slog.Logger
}

// Defaults for the limit options.
const (
	// DefaultMaxBodySize is the largest request body accepted: 8 MiB,
	// room for a few payloads at Temporal's default limit of 2 MiB each,
	// in base64.
	DefaultMaxBodySize = 8 << 20
	// DefaultMaxPayloads is the most payloads one request may carry.
	DefaultMaxPayloads = 1000
	// DefaultMaxInFlight is how many requests are processed at once.
	DefaultMaxInFlight = 32
	// DefaultMaxQueue is how many more may wait for a slot.
	DefaultMaxQueue = 128
	// DefaultQueueWait is how long a request waits for a slot before it
	// is answered 429.
	DefaultQueueWait = 2 * time.Second

	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	// DefaultMaxHeaderBytes leaves room for a large JWT.
	DefaultMaxHeaderBytes = 64 << 10

	// DefaultNamespace is the namespace of a request that names none.
	DefaultNamespace = "default"
)

func defaultConfig() config {
	return config{
		encode:           true,
		defaultNamespace: DefaultNamespace,
		maxBody:          DefaultMaxBodySize,
		maxPayloads:      DefaultMaxPayloads,
		maxInFlight:      DefaultMaxInFlight,
		maxQueue:         DefaultMaxQueue,
		queueWait:        DefaultQueueWait,
		readHeader:       DefaultReadHeaderTimeout,
		read:             DefaultReadTimeout,
		write:            DefaultWriteTimeout,
		idle:             DefaultIdleTimeout,
		maxHeader:        DefaultMaxHeaderBytes,
		logger:           slog.New(slog.DiscardHandler),
	}
}

// WithAllowedOrigins sets the browser origins, such as the Temporal Web
// UI's "https://temporal.example.com", that may call the server. Each is
// compared exactly with the request's Origin header: scheme, host and port,
// no path, no trailing slash, no wildcards inside a name. "*" allows every
// origin and cannot be combined with [WithCredentials]. The default allows
// no browser origin; requests without an Origin header (the CLI, SDKs,
// curl) are unaffected.
func WithAllowedOrigins(origins ...string) Option {
	return func(c *config) error {
		for _, o := range origins {
			if o == "*" {
				c.allowAny = true
				continue
			}
			norm, err := checkOrigin(o)
			if err != nil {
				return err
			}
			c.origins = append(c.origins, norm)
		}
		return nil
	}
}

func checkOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
		strings.ContainsAny(u.Host, "*") {
		return "", fmt.Errorf("codecserver: allowed origin %q is not scheme://host[:port]", o)
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), nil
}

// WithCredentials answers allowed origins with
// Access-Control-Allow-Credentials: true, so that the Web UI may send
// cookies or HTTP authentication with its requests (its "include
// credentials" setting). It requires an explicit origin list: combined with
// "*" it is refused by [NewHandler]. Off by default. The server never
// authenticates by cookie; see the package doc.
func WithCredentials(on bool) Option {
	return func(c *config) error {
		c.credentials = on
		return nil
	}
}

// WithAllowedHeaders adds request headers that browsers may send, beyond
// Content-Type, X-Namespace and Authorization, which are always allowed.
func WithAllowedHeaders(headers ...string) Option {
	return func(c *config) error {
		for _, h := range headers {
			if h == "" || strings.ContainsAny(h, " \t\r\n,:") {
				return fmt.Errorf("codecserver: allowed header %q is not a header name", h)
			}
			c.extraHeaders = append(c.extraHeaders, h)
		}
		return nil
	}
}

// WithAuthenticator makes every encode and decode request authenticate
// with a, and checks the caller's grants against the request's namespace
// and operation. Without it, the server serves anyone who can reach it:
// keep such a server on a loopback address.
func WithAuthenticator(a Authenticator) Option {
	return func(c *config) error {
		if a == nil {
			return fmt.Errorf("codecserver: WithAuthenticator: nil authenticator")
		}
		c.auth = a
		return nil
	}
}

// WithEncode turns the encode endpoint on or off for everyone. On by
// default; even then, an authenticated caller needs the encode grant. With
// encode off, POST …/encode is answered 403 and nothing is encrypted.
func WithEncode(on bool) Option {
	return func(c *config) error {
		c.encode = on
		return nil
	}
}

// WithDefaultNamespace sets the namespace of a request whose path names
// none and that carries no X-Namespace header. The default is "default",
// Temporal's own default namespace.
func WithDefaultNamespace(ns string) Option {
	return func(c *config) error {
		if !validNamespace(ns) {
			return fmt.Errorf("codecserver: default namespace %q is not a valid namespace name", ns)
		}
		c.defaultNamespace = ns
		return nil
	}
}

// WithPathPrefix serves the endpoints under prefix only (for example
// "/codec" for a server behind a shared reverse proxy): then exactly
// prefix/decode, prefix/{namespace}/decode and their encode twins route,
// and a segment after the prefix is always the namespace. Without a
// prefix, any depth routes and the namespace is the segment before the
// last; see the package doc.
func WithPathPrefix(prefix string) Option {
	return func(c *config) error {
		p := strings.TrimSuffix(prefix, "/")
		if p == "" {
			c.prefix = ""
			return nil
		}
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
			return fmt.Errorf("codecserver: path prefix %q must start with / and have no empty segments", prefix)
		}
		c.prefix = p
		return nil
	}
}

// WithMaxBodySize sets the largest request body, in bytes, read before a
// request is answered 413. The default is [DefaultMaxBodySize]; the range
// is 1 KiB to 1 GiB. Memory held by requests in flight is about four times
// this size times [WithConcurrency]'s limit at worst.
func WithMaxBodySize(n int64) Option {
	return func(c *config) error {
		if n < 1<<10 || n > 1<<30 {
			return fmt.Errorf("codecserver: WithMaxBodySize: %d is outside 1 KiB to 1 GiB", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithMaxPayloads sets the most payloads one request may carry; more are
// answered 413. The default is [DefaultMaxPayloads]; the range is 1 to
// 1,000,000.
func WithMaxPayloads(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 1_000_000 {
			return fmt.Errorf("codecserver: WithMaxPayloads: %d is outside 1 to 1000000", n)
		}
		c.maxPayloads = n
		return nil
	}
}

// WithConcurrency bounds the encode and decode requests processed at once
// to inFlight (1 to 10,000), lets at most queue more (0 to 100,000) wait up
// to wait (0 to 1 minute) for a slot, and answers the rest 429 with
// Retry-After. Waiting requests hold a connection but have not read their
// body. Defaults: [DefaultMaxInFlight], [DefaultMaxQueue],
// [DefaultQueueWait].
func WithConcurrency(inFlight, queue int, wait time.Duration) Option {
	return func(c *config) error {
		if inFlight < 1 || inFlight > 10_000 || queue < 0 || queue > 100_000 ||
			wait < 0 || wait > time.Minute {
			return fmt.Errorf("codecserver: WithConcurrency: %d in flight, %d queued, wait %v: out of range",
				inFlight, queue, wait)
		}
		c.maxInFlight, c.maxQueue, c.queueWait = inFlight, queue, wait
		return nil
	}
}

// WithTimeouts sets the timeouts of the server [Handler.NewServer] builds:
// reading the request headers, reading the whole request, writing the
// response, and keeping an idle connection open. Each must be positive and
// at most 10 minutes, and readHeader at most read. Defaults:
// [DefaultReadHeaderTimeout], [DefaultReadTimeout], [DefaultWriteTimeout],
// [DefaultIdleTimeout]. A request whose body is still arriving when read
// runs out is cut off.
func WithTimeouts(readHeader, read, write, idle time.Duration) Option {
	return func(c *config) error {
		for _, d := range []time.Duration{readHeader, read, write, idle} {
			if d <= 0 || d > 10*time.Minute {
				return fmt.Errorf("codecserver: WithTimeouts: %v is outside (0, 10m]", d)
			}
		}
		if readHeader > read {
			return fmt.Errorf("codecserver: WithTimeouts: header timeout %v exceeds read timeout %v", readHeader, read)
		}
		c.readHeader, c.read, c.write, c.idle = readHeader, read, write, idle
		return nil
	}
}

// WithMaxHeaderBytes sets the largest request header block, 4 KiB to
// 1 MiB; the default is [DefaultMaxHeaderBytes].
func WithMaxHeaderBytes(n int) Option {
	return func(c *config) error {
		if n < 4<<10 || n > 1<<20 {
			return fmt.Errorf("codecserver: WithMaxHeaderBytes: %d is outside 4 KiB to 1 MiB", n)
		}
		c.maxHeader = n
		return nil
	}
}

// WithTLSFiles makes [Handler.NewServer] and [Handler.Serve] speak TLS 1.2
// or later with the PEM certificate chain and key in the given files,
// loaded once by [NewHandler]; an unreadable or mismatched pair is a
// construction error. Restart the server to pick up a renewed certificate.
func WithTLSFiles(certFile, keyFile string) Option {
	return func(c *config) error {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("codecserver: TLS certificate: %w", err)
		}
		c.tlsCert = &cert
		return nil
	}
}

// WithLogger sets where the handler writes its one audit line per request.
// The default discards them. Lines carry the request ID, route, namespace,
// caller name, payload count, key IDs, status and outcome; never a token,
// a payload's bytes or an internal error's text.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("codecserver: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}
