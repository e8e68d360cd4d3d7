// Package codecserver is a codec server: an HTTP handler that decodes
// payloads for the Temporal Web UI and CLI, and encodes input they send, with
// a [codec.Codec].
//
//	keys, err := envkey.Load()
//	...
//	c, err := codec.New(keys)
//	h, err := codecserver.NewHandler(c,
//		codecserver.WithAllowedOrigins("https://temporal.example.com"),
//		codecserver.WithAuthenticator(tokens),
//		codecserver.WithLogger(slog.Default()))
//	...
//	err = h.Serve(ctx, listener)
//
// Then point the CLI at it with --codec-endpoint and the Web UI with its
// codec endpoint setting (the dev server's --ui-codec-endpoint). The command
// cmd/codec-server wraps this package; docs/codec-server.md covers
// deployment.
//
// # Security properties
//
// Whoever can call the decode endpoint can read every payload the server's
// keys open, so the server authenticates callers ([WithAuthenticator]) and
// checks each one's grants against the request's namespace and operation.
// Without an authenticator it serves anyone who can reach it; keep such a
// server on a loopback address.
//
// Decode never returns a payload it could not authenticate: a batch in
// which any payload fails is answered with an error and no payloads, and an
// encrypted payload is never passed back as if it had been decoded. Encode
// never answers 200 with a payload in clear: if the key source fails, the
// request fails. Encoding lets a caller mint payloads that workers will
// accept as authentic, so it needs its own grant and can be switched off
// ([WithEncode]).
//
// Error answers say what failed in a few fixed phrases (which payload, the
// key ID it names, why), and never include payload content, a parser's
// message or a key source's error text. Nothing a request sends is logged
// except its namespace, the key IDs it names and, shortened, its Origin.
//
// # Endpoints
//
//	POST {any prefix}/decode, {any prefix}/{namespace}/decode
//	POST {any prefix}/encode, {any prefix}/{namespace}/encode
//	GET  /healthz
//
// The last path segment picks the operation and the one before it, if any,
// the namespace; segments before that are ignored, so the server can sit
// behind a proxy path (or see [WithPathPrefix]). One trailing slash is
// allowed. Any other path is answered 404, another method 405.
//
// # Namespace
//
// The namespace selects the keys (through [codec.Codec.ForNamespace] and
// [codec.NamespaceFromContext]) and is what the caller must be granted:
//
//   - When the path names a namespace, that is the namespace. An
//     X-Namespace header (which the Web UI and CLI send) must then be
//     absent or equal to it; if it differs the request is answered 400.
//     The header therefore never selects keys on its own.
//   - When the path names none (plain /decode), the X-Namespace header
//     names it, or, without the header, the default namespace
//     ([WithDefaultNamespace], "default").
//
// Names are 1 to 255 ASCII letters, digits, '.', '-' and '_'.
//
// # Wire format
//
// Requests and answers are the protobuf JSON form of
// temporal.api.common.v1.Payloads, {"payloads": [...]}, with Content-Type
// application/json (any other type is answered 415, which also makes every
// cross-origin browser call go through a CORS preflight). Answers use the
// JSON (camelCase) field names and standard, padded base64; requests may
// use either field naming and either base64 alphabet, as protobuf JSON
// allows. A field the pinned Temporal API does not define is refused with
// 400 rather than dropped, because dropping it would hand back a payload
// that differs from the one sent; upgrade the server to accept new fields.
// The answer holds exactly as many payloads as the request, in order.
//
// An error answer is a JSON [ErrorResponse] with a short message, the
// request ID (also in the X-Request-Id header) and, when payloads failed,
// their indexes, key IDs and reasons. Status codes: 400 malformed body or
// namespace, 401 no or bad credentials, 403 not granted or encode off or
// origin not allowed, 404, 405, 408 body too slow, 413 body or batch too
// large, 415, 422 a payload that cannot be decoded or encoded, 429 busy,
// 503 key source or identity provider unavailable. No request input
// produces a 500 or a stack trace.
//
// # Browsers
//
// Cross-origin requests are allowed from exactly the origins listed with
// [WithAllowedOrigins]; the answer echoes the origin, with Vary: Origin,
// on error answers too, so that the Web UI can show why a call failed.
// Preflights are answered without authentication and allow Content-Type,
// X-Namespace and Authorization. [WithCredentials] adds
// Access-Control-Allow-Credentials for the Web UI's "include credentials"
// setting; [NewHandler] refuses it together with the origin "*". The server
// never authenticates by cookie, only by the Authorization header, so a
// cookie a browser attaches grants nothing.
//
// # Limits
//
// A request body above [WithMaxBodySize] or a batch above [WithMaxPayloads]
// is answered 413. At most [WithConcurrency] requests are processed at once
// and a bounded number wait briefly; the rest are answered 429 with
// Retry-After. A slot is taken after authentication and before the body is
// read, so an unauthenticated client cannot hold one, while a slow
// authenticated client holds one until the read timeout ([WithTimeouts])
// cuts it off. The codec's own caps apply to every payload, notably the
// decoded-size cap on compressed payloads ([codec.WithMaxDecodedSize]),
// checked before anything is decompressed.
//
// # Observability
//
// Each request gets one audit line on the [WithLogger] logger (level info
// when answered 2xx, warn for errors, debug for health checks and
// preflights) with request_id, route, namespace, principal, payloads,
// key_ids, status, outcome, sizes, duration, remote address and origin.
// [Handler.MetricsHandler] serves Prometheus metrics.
//
// # Limitations
//
// The handler does not rate-limit per caller, and static tokens and the TLS
// certificate are read once at start-up; restart to rotate them. Decode
// holds each request's payloads in memory three or four times over (body,
// parsed, decoded, answer), so memory in flight is bounded by the body limit
// times the concurrency limit times about four.
package codecserver
