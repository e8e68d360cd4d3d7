// Command codec-server serves the codec server of package codecserver for
// the Temporal Web UI and CLI. Keys come from a keyring file (-keyring,
// package codec/keyring, reloaded every minute so that rotations take
// effect without a restart) or else from the environment, as for the
// worker (TEMPORAL_ENCRYPTION_KEY and friends; see package envkey).
//
//	export TEMPORAL_ENCRYPTION_KEY=...
//	codec-server -listen 127.0.0.1:8081 -origins http://localhost:8233
//	temporal workflow show -w ID --codec-endpoint http://127.0.0.1:8081
//
// Without -tokens-file or -jwks-url it serves anyone who can connect, and
// so refuses to listen on anything but a loopback address unless given
// -allow-unauthenticated. It writes one JSON log line per request to
// stderr. See docs/codec-server.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/codec/keyring"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

const prog = "codec-server"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli.Exit(prog, run(ctx, os.Args[1:], os.Stderr, nil))
}

// flags are the command line, mapped onto codec and codecserver options.
type flags struct {
	listen, metricsListen   string
	origins, allowHeaders   string
	credentials             bool
	tokensFile              string
	jwksURL, issuer, aud    string
	jwtClaim, jwtAlgs       string
	allowUnauthenticated    bool
	encode                  bool
	defaultNS, prefix       string
	maxBody                 int64
	maxPayloads             int
	inFlight, queue         int
	queueWait               time.Duration
	readHeader, read, write time.Duration
	idle                    time.Duration
	tlsCert, tlsKey         string
	legacy, strict, bindNS  bool
	maxDecoded              int
	logFormat, logLevel     string
	keyring                 string
	keyringReload           time.Duration
}

func parse(args []string) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8081", "address to serve on")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "address to serve Prometheus metrics on at /metrics (default: off)")
	fs.StringVar(&f.origins, "origins", "", "comma-separated browser origins allowed to call, e.g. the Web UI's https://temporal.example.com")
	fs.BoolVar(&f.credentials, "credentials", false, "answer allowed origins with Access-Control-Allow-Credentials (refused with origin *)")
	fs.StringVar(&f.allowHeaders, "allow-headers", "", "comma-separated extra request headers browsers may send")
	fs.StringVar(&f.tokensFile, "tokens-file", "", "JSON file of static bearer tokens and their grants")
	fs.StringVar(&f.jwksURL, "jwks-url", "", "JWKS URL of an OpenID Connect provider whose JWTs are accepted")
	fs.StringVar(&f.issuer, "jwt-issuer", "", "required iss of JWTs")
	fs.StringVar(&f.aud, "jwt-audience", "", "required aud of JWTs")
	fs.StringVar(&f.jwtClaim, "jwt-permissions-claim", "permissions", "JWT claim holding namespace:action grants")
	fs.StringVar(&f.jwtAlgs, "jwt-algorithms", "", "comma-separated JWT signature algorithms (default RS256,PS256,ES256,ES384,EdDSA)")
	fs.BoolVar(&f.allowUnauthenticated, "allow-unauthenticated", false, "serve without authentication on a non-loopback address")
	fs.BoolVar(&f.encode, "encode", true, "serve the encode endpoint")
	fs.StringVar(&f.defaultNS, "default-namespace", codecserver.DefaultNamespace, "namespace of requests that name none")
	fs.StringVar(&f.prefix, "path-prefix", "", "serve only under this path prefix, e.g. /codec")
	fs.Int64Var(&f.maxBody, "max-body", codecserver.DefaultMaxBodySize, "largest request body in bytes")
	fs.IntVar(&f.maxPayloads, "max-payloads", codecserver.DefaultMaxPayloads, "most payloads per request")
	fs.IntVar(&f.inFlight, "max-in-flight", codecserver.DefaultMaxInFlight, "requests processed at once")
	fs.IntVar(&f.queue, "max-queue", codecserver.DefaultMaxQueue, "requests that may wait for a slot")
	fs.DurationVar(&f.queueWait, "queue-wait", codecserver.DefaultQueueWait, "how long a request waits for a slot before 429")
	fs.DurationVar(&f.readHeader, "read-header-timeout", codecserver.DefaultReadHeaderTimeout, "time to read request headers")
	fs.DurationVar(&f.read, "read-timeout", codecserver.DefaultReadTimeout, "time to read a whole request")
	fs.DurationVar(&f.write, "write-timeout", codecserver.DefaultWriteTimeout, "time to write a response")
	fs.DurationVar(&f.idle, "idle-timeout", codecserver.DefaultIdleTimeout, "how long an idle connection stays open")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate chain file; serve HTTPS (with -tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key file")
	fs.BoolVar(&f.legacy, "legacy", false, "also decode payloads in the format of Temporal's encryption samples")
	fs.BoolVar(&f.strict, "strict", false, "refuse to pass through payloads that are not encrypted")
	fs.BoolVar(&f.bindNS, "bind-namespace", false, "encode payloads bound to their namespace (match the workers' setting)")
	fs.IntVar(&f.maxDecoded, "max-decoded-size", codec.DefaultMaxDecodedSize, "largest size a compressed payload may decode to")
	fs.StringVar(&f.keyring, "keyring", "", "keyring file to take keys from (default: the environment)")
	fs.DurationVar(&f.keyringReload, "keyring-reload", time.Minute, "how often to reload the keyring file")
	fs.StringVar(&f.logFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if f.keyringReload < time.Second {
		return nil, cli.WithHint(fmt.Errorf("-keyring-reload %v is under a second", f.keyringReload), "use e.g. 1m")
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, cli.WithHint(errors.New("-tls-cert and -tls-key go together"), "give both or neither")
	}
	return f, nil
}

// run serves until ctx ends. ready, if not nil, is called with the address
// once the server listens.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	f, err := parse(args)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return err
	}

	keys, err := keySource(ctx, f, logger)
	if err != nil {
		return err
	}
	c, err := codec.New(keys, codec.WithLegacyFormat(f.legacy), codec.WithStrict(f.strict),
		codec.WithNamespaceBinding(f.bindNS), codec.WithMaxDecodedSize(f.maxDecoded))
	if err != nil {
		return err
	}

	auth, authKind, err := authenticator(ctx, f)
	if err != nil {
		return err
	}
	opts := []codecserver.Option{
		codecserver.WithLogger(logger),
		codecserver.WithAllowedOrigins(split(f.origins)...),
		codecserver.WithCredentials(f.credentials),
		codecserver.WithAllowedHeaders(split(f.allowHeaders)...),
		codecserver.WithEncode(f.encode),
		codecserver.WithDefaultNamespace(f.defaultNS),
		codecserver.WithPathPrefix(f.prefix),
		codecserver.WithMaxBodySize(f.maxBody),
		codecserver.WithMaxPayloads(f.maxPayloads),
		codecserver.WithConcurrency(f.inFlight, f.queue, f.queueWait),
		codecserver.WithTimeouts(f.readHeader, f.read, f.write, f.idle),
	}
	if auth != nil {
		opts = append(opts, codecserver.WithAuthenticator(auth))
	}
	if f.tlsCert != "" {
		opts = append(opts, codecserver.WithTLSFiles(f.tlsCert, f.tlsKey))
	}
	h, err := codecserver.NewHandler(c, opts...)
	if err != nil {
		return err
	}

	if auth == nil && !f.allowUnauthenticated && !loopback(f.listen) {
		return cli.WithHint(fmt.Errorf("refusing to serve %s without authentication", f.listen),
			"give -tokens-file or -jwks-url, listen on 127.0.0.1, or pass -allow-unauthenticated")
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	metricsAddr := ""
	if f.metricsListen != "" {
		mln, err := net.Listen("tcp", f.metricsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics: %w", err)
		}
		metricsAddr = mln.Addr().String()
		go serveMetrics(ctx, mln, h.MetricsHandler())
	}

	scheme := "http"
	if h.TLS() {
		scheme = "https"
	}
	logger.Info("codec-server listening",
		slog.String("url", scheme+"://"+ln.Addr().String()),
		slog.String("auth", authKind),
		slog.Any("origins", split(f.origins)),
		slog.Bool("credentials", f.credentials),
		slog.Bool("encode", f.encode),
		slog.String("metrics", metricsAddr))
	if ready != nil {
		ready(ln.Addr().String())
	}
	if err := h.Serve(ctx, ln); err != nil {
		return err
	}
	logger.Info("codec-server stopped")
	return nil
}

// keySource opens the keyring file and reloads it until ctx ends, or
// loads the key from the environment.
func keySource(ctx context.Context, f *flags, logger *slog.Logger) (codec.KeySource, error) {
	if f.keyring == "" {
		keys, err := envkey.Load()
		if err != nil {
			return nil, cli.WithHint(err, cli.KeyHint+"; or give -keyring")
		}
		return keys, nil
	}
	src, err := keyring.Open(f.keyring)
	if err != nil {
		return nil, cli.WithHint(err, "cmd/keytool writes keyring files")
	}
	go src.Poll(ctx, f.keyringReload, func(err error) {
		// keyring errors name keys by ID, never their material.
		logger.Warn("keyring reload failed; keeping the keys loaded before", slog.String("error", err.Error()))
	})
	return src, nil
}

func authenticator(ctx context.Context, f *flags) (codecserver.Authenticator, string, error) {
	var auths []codecserver.Authenticator
	var kinds []string
	if f.tokensFile != "" {
		a, err := codecserver.LoadTokenFile(f.tokensFile)
		if err != nil {
			return nil, "", err
		}
		auths, kinds = append(auths, a), append(kinds, "tokens")
	}
	if f.jwksURL != "" {
		a, err := codecserver.NewJWTAuthenticator(codecserver.JWTConfig{
			JWKSURL:          f.jwksURL,
			Issuer:           f.issuer,
			Audience:         f.aud,
			PermissionsClaim: f.jwtClaim,
			Algorithms:       split(f.jwtAlgs),
		})
		if err != nil {
			return nil, "", err
		}
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := a.Refresh(rctx); err != nil {
			return nil, "", cli.WithHint(err, "check -jwks-url; the key set must be reachable at start-up")
		}
		auths, kinds = append(auths, a), append(kinds, "jwt")
	}
	switch len(auths) {
	case 0:
		return nil, "none", nil
	case 1:
		return auths[0], kinds[0], nil
	}
	return codecserver.FirstOf(auths...), strings.Join(kinds, "+"), nil
}

func serveMetrics(ctx context.Context, ln net.Listener, h http.Handler) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	s := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	_ = s.Serve(ln)
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, cli.WithHint(fmt.Errorf("unknown log level %q", level), "use debug, info, warn or error")
	}
	o := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	}
	return nil, cli.WithHint(fmt.Errorf("unknown log format %q", format), "use json or text")
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loopback reports whether addr (host:port) can only be reached from this
// machine: a loopback IP or "localhost". An empty host means every
// interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
