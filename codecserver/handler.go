package codecserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/temporal-encryption/temporal-encryption/codec"
)

// Handler is the codec server: an [http.Handler] that encodes and decodes
// payloads with a [codec.Codec] for the Temporal Web UI, CLI and SDKs. It is
// safe for concurrent use. See the package doc for what it accepts and
// answers.
type Handler struct {
	codec   *codec.Codec
	cfg     config
	cors    *cors
	slots   chan struct{}
	waiting atomic.Int64
	metrics *metrics

	idPrefix string
	idSeq    atomic.Uint64
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a handler that encodes and decodes with c, which
// supplies the keys and the decode caps (such as
// [codec.WithMaxDecodedSize]). Each request uses c.ForNamespace with the
// request's namespace.
func NewHandler(c *codec.Codec, opts ...Option) (*Handler, error) {
	if c == nil {
		return nil, errors.New("codecserver: nil codec")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.allowAny && cfg.credentials {
		return nil, errors.New(`codecserver: allowed origin "*" with credentials would let any web site ` +
			"make authenticated requests; list the Web UI's origins instead")
	}
	if cfg.allowAny && len(cfg.origins) > 0 {
		return nil, errors.New(`codecserver: allowed origin "*" together with a list of origins; use one or the other`)
	}
	var seed [4]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("codecserver: request ID seed: %w", err)
	}
	return &Handler{
		codec:    c,
		cfg:      cfg,
		cors:     newCORS(&cfg),
		slots:    make(chan struct{}, cfg.maxInFlight),
		metrics:  newMetrics(),
		idPrefix: hex.EncodeToString(seed[:]) + "-",
	}, nil
}

// Outcomes, as logged and counted. Each names one decision.
const (
	outcomeOK           = "ok"
	outcomePreflight    = "preflight"
	outcomeNotFound     = "not_found"
	outcomeMethod       = "method_not_allowed"
	outcomeOrigin       = "origin_denied"
	outcomeBadRequest   = "bad_request"
	outcomeNoAuth       = "unauthenticated"
	outcomeForbidden    = "forbidden"
	outcomeEncodeOff    = "encode_disabled"
	outcomeMediaType    = "unsupported_media_type"
	outcomeTooLarge     = "too_large"
	outcomeTooMany      = "too_many_payloads"
	outcomeBusy         = "busy"
	outcomeTimeout      = "timeout"
	outcomePayloadError = "payload_error"
	outcomeUnavailable  = "unavailable"
	outcomeAuthDown     = "auth_unavailable"
	outcomeInternal     = "internal_error"
)

// record collects what the audit line and metrics say about one request.
type record struct {
	id        string
	method    string
	route     string
	namespace string
	principal string
	origin    string
	remote    string
	payloads  int
	keyIDs    []string
	status    int
	outcome   string
	detail    string
	bytesIn   int
	bytesOut  int
	start     time.Time
}

// maxLoggedKeyIDs bounds the distinct key IDs an audit line lists.
const maxLoggedKeyIDs = 8

func (rec *record) addKeyID(id string) {
	if id == "" || len(rec.keyIDs) >= maxLoggedKeyIDs {
		return
	}
	id = truncate(id, 64)
	for _, k := range rec.keyIDs {
		if k == id {
			return
		}
	}
	rec.keyIDs = append(rec.keyIDs, id)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// ServeHTTP implements [http.Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &record{
		id:     h.idPrefix + strconv.FormatUint(h.idSeq.Add(1), 10),
		method: r.Method,
		origin: truncate(r.Header.Get("Origin"), 200),
		remote: r.RemoteAddr,
		start:  time.Now(),
	}
	w.Header().Set("X-Request-Id", rec.id)
	defer h.finish(r.Context(), rec)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			// A bug, not a bad request. The value may hold request
			// data, so it is not logged; the response says nothing.
			h.fail(w, rec, http.StatusInternalServerError, outcomeInternal, "internal error", nil)
		}
	}()

	originOK := h.cors.headers(w, r.Header.Get("Origin"))
	rt, ok := parseRoute(r.URL.EscapedPath(), h.cfg.prefix)
	rec.route = rt.name()

	switch {
	case r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "":
		rec.route, rec.outcome = "preflight", outcomePreflight
		if !ok {
			h.fail(w, rec, http.StatusNotFound, outcomeNotFound, "not found", nil)
			return
		}
		rec.status = h.cors.preflight(w, r)
		if rec.status != http.StatusNoContent {
			rec.outcome = outcomeOrigin
		}
		w.WriteHeader(rec.status)
		return
	case !ok:
		h.fail(w, rec, http.StatusNotFound, outcomeNotFound,
			"not found: POST to /decode, /encode, /{namespace}/decode or /{namespace}/encode", nil)
		return
	case rt.health:
		h.health(w, r, rec)
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", "POST, OPTIONS")
		if r.Method == http.MethodOptions {
			rec.status, rec.outcome = http.StatusNoContent, outcomeOK
			w.WriteHeader(rec.status)
			return
		}
		h.fail(w, rec, http.StatusMethodNotAllowed, outcomeMethod, "method not allowed: use POST", nil)
		return
	case !originOK:
		h.fail(w, rec, http.StatusForbidden, outcomeOrigin, "origin not allowed", nil)
		return
	}
	h.serveCodec(w, r, rt, rec)
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request, rec *record) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.fail(w, rec, http.StatusMethodNotAllowed, outcomeMethod, "method not allowed: use GET", nil)
		return
	}
	rec.status, rec.outcome = http.StatusOK, outcomeOK
	h.write(w, rec, http.StatusOK, []byte(`{"status":"ok"}`))
}

// serveCodec answers an encode or decode request: resolve the namespace,
// authenticate and authorize, check the body, then transform.
func (h *Handler) serveCodec(w http.ResponseWriter, r *http.Request, rt route, rec *record) {
	ns, err := resolveNamespace(rt.namespace, r.Header, h.cfg.defaultNamespace)
	if err != nil {
		h.fail(w, rec, http.StatusBadRequest, outcomeBadRequest, err.Error(), nil)
		return
	}
	rec.namespace = ns

	if rt.op == Encode && !h.cfg.encode {
		h.fail(w, rec, http.StatusForbidden, outcomeEncodeOff, "encode is disabled on this server", nil)
		return
	}
	if !h.authorize(w, r, rt.op, rec) {
		return
	}

	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		h.fail(w, rec, http.StatusUnsupportedMediaType, outcomeMediaType,
			"Content-Type must be application/json", nil)
		return
	}

	if !h.acquire(r.Context()) {
		w.Header().Set("Retry-After", "1")
		h.fail(w, rec, http.StatusTooManyRequests, outcomeBusy, "too many requests; retry shortly", nil)
		return
	}
	h.metrics.inFlight.Inc()
	defer func() {
		h.metrics.inFlight.Dec()
		<-h.slots
	}()

	body, status, err := h.readBody(w, r)
	rec.bytesIn = len(body)
	if err != nil {
		outcome := outcomeBadRequest
		switch status {
		case http.StatusRequestEntityTooLarge:
			outcome = outcomeTooLarge
		case http.StatusRequestTimeout:
			outcome = outcomeTimeout
		}
		h.fail(w, rec, status, outcome, err.Error(), nil)
		return
	}

	var in commonpb.Payloads
	err = protojson.UnmarshalOptions{}.Unmarshal(body, &in)
	clear(body) // it may hold plaintext to encode
	if err != nil {
		h.fail(w, rec, http.StatusBadRequest, outcomeBadRequest, msgMalformed, nil)
		return
	}
	rec.payloads = len(in.Payloads)
	if len(in.Payloads) > h.cfg.maxPayloads {
		h.fail(w, rec, http.StatusRequestEntityTooLarge, outcomeTooMany,
			"too many payloads: at most "+strconv.Itoa(h.cfg.maxPayloads)+" per request", nil)
		return
	}
	for _, p := range in.Payloads {
		if p == nil {
			// protojson never yields nil elements; this guards against
			// a future change.
			h.fail(w, rec, http.StatusBadRequest, outcomeBadRequest, msgMalformed, nil)
			return
		}
	}

	c := h.codec.ForNamespace(ns)
	var out []*commonpb.Payload
	var perr []PayloadError
	if rt.op == Decode {
		out, perr = decodeEach(c, in.Payloads, rec)
	} else {
		out, perr = encodeEach(c, in.Payloads, rec)
	}
	if perr != nil {
		status, outcome := http.StatusUnprocessableEntity, outcomePayloadError
		if retryable(perr) {
			status, outcome = http.StatusServiceUnavailable, outcomeUnavailable
			w.Header().Set("Retry-After", "1")
		}
		h.countPayloads(rt, len(in.Payloads)-len(perr), len(perr))
		h.fail(w, rec, status, outcome, "some payloads could not be "+rt.name()+"d", perr)
		return
	}
	h.countPayloads(rt, len(out), 0)
	h.writePayloads(w, rec, out)
}

// msgMalformed answers every body that does not parse. The parser's own
// message may quote the body, so it is never sent or logged.
const msgMalformed = "malformed request: the body must be protobuf JSON of " +
	"temporal.api.common.v1.Payloads, with standard base64 bytes and no unknown fields"

func (h *Handler) countPayloads(rt route, ok, failed int) {
	if ok > 0 {
		h.metrics.payloads.WithLabelValues(rt.name(), "ok").Add(float64(ok))
	}
	if failed > 0 {
		h.metrics.payloads.WithLabelValues(rt.name(), "failed").Add(float64(failed))
	}
}

// authorize runs the authenticator, if any, and checks the caller's grants
// against the namespace and operation. It answers the request and returns
// false when the caller may not proceed.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, op Operation, rec *record) bool {
	if h.cfg.auth == nil {
		rec.principal = "-"
		return true
	}
	p, err := h.cfg.auth.Authenticate(r)
	if err == nil && p == nil {
		err = errors.New("codecserver: authenticator returned no principal")
	}
	if err != nil {
		rec.detail = truncate(err.Error(), 200)
		if errors.Is(err, ErrNoCredentials) || errors.Is(err, ErrInvalidCredentials) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="codec-server"`)
			h.fail(w, rec, http.StatusUnauthorized, outcomeNoAuth, "missing or invalid credentials", nil)
		} else {
			w.Header().Set("Retry-After", "5")
			h.fail(w, rec, http.StatusServiceUnavailable, outcomeAuthDown,
				"authentication is unavailable; retry later", nil)
		}
		return false
	}
	rec.principal = truncate(p.Name, 200)
	if !p.Grants.Allows(rec.namespace, op) {
		h.fail(w, rec, http.StatusForbidden, outcomeForbidden,
			"not allowed to "+op.String()+" in this namespace", nil)
		return false
	}
	return true
}

// acquire waits for a processing slot, or reports false when the queue is
// full, the wait runs out, or the client goes away.
func (h *Handler) acquire(ctx context.Context) bool {
	select {
	case h.slots <- struct{}{}:
		return true
	default:
	}
	if h.cfg.queueWait == 0 {
		return false
	}
	if h.waiting.Add(1) > int64(h.cfg.maxQueue) {
		h.waiting.Add(-1)
		return false
	}
	h.metrics.queued.Inc()
	defer func() {
		h.waiting.Add(-1)
		h.metrics.queued.Dec()
	}()
	t := time.NewTimer(h.cfg.queueWait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// readBody reads the whole body, at most maxBody bytes. Its errors are
// short and safe to send.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	tooLarge := fmt.Errorf("request body too large: at most %d bytes", h.cfg.maxBody)
	if r.ContentLength > h.cfg.maxBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	size := int64(512)
	if r.ContentLength > 0 {
		size = r.ContentLength + 1 // +1 so that ReadFrom sees EOF without growing
	}
	var buf bytes.Buffer
	buf.Grow(int(size))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.cfg.maxBody))
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case err == nil:
		return buf.Bytes(), 0, nil
	case errors.As(err, &mbe):
		clear(buf.Bytes())
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		clear(buf.Bytes())
		return nil, http.StatusRequestTimeout, errors.New("request body not received in time")
	}
	clear(buf.Bytes())
	return nil, http.StatusBadRequest, errors.New("request body could not be read")
}

// writePayloads answers 200 with {"payloads":[…]}, the field always
// present, each payload in protobuf JSON (camelCase, standard base64).
func (h *Handler) writePayloads(w http.ResponseWriter, rec *record, out []*commonpb.Payload) {
	size := 16
	for _, p := range out {
		size += 4*len(p.GetData())/3 + 64
		for k, v := range p.GetMetadata() {
			size += len(k) + 4*len(v)/3 + 8
		}
	}
	buf := make([]byte, 0, size)
	buf = append(buf, `{"payloads":[`...)
	for i, p := range out {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		buf, err = protojson.MarshalOptions{}.MarshalAppend(buf, p)
		if err != nil {
			clear(buf)
			h.fail(w, rec, http.StatusInternalServerError, outcomeInternal, "internal error", nil)
			return
		}
	}
	buf = append(buf, "]}"...)
	rec.status, rec.outcome = http.StatusOK, outcomeOK
	h.write(w, rec, http.StatusOK, buf)
	clear(buf) // decoded plaintext
}

func (h *Handler) write(w http.ResponseWriter, rec *record, status int, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	n, _ := w.Write(body)
	rec.bytesOut = n
}

// finish writes the audit line and updates the metrics.
func (h *Handler) finish(ctx context.Context, rec *record) {
	d := time.Since(rec.start)
	if rec.status == 0 {
		// The handler returned without answering: the client went away
		// (or a panic was re-raised); net/http closes the connection.
		rec.status, rec.outcome = 499, "aborted"
	}
	h.metrics.observe(rec.route, rec.status, rec.outcome, d)

	level := slog.LevelInfo
	switch {
	case rec.route == routeHealth || rec.outcome == outcomePreflight:
		level = slog.LevelDebug
	case rec.status >= 400:
		level = slog.LevelWarn
	}
	if !h.cfg.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", rec.id),
		slog.String("method", truncate(rec.method, 16)),
		slog.String("route", rec.route),
		slog.String("namespace", rec.namespace),
		slog.String("principal", rec.principal),
		slog.Int("payloads", rec.payloads),
		slog.Any("key_ids", append([]string{}, rec.keyIDs...)),
		slog.Int("status", rec.status),
		slog.String("outcome", rec.outcome),
		slog.Int("bytes_in", rec.bytesIn),
		slog.Int("bytes_out", rec.bytesOut),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("remote", rec.remote),
	}
	if rec.origin != "" {
		attrs = append(attrs, slog.String("origin", rec.origin))
	}
	if rec.detail != "" {
		attrs = append(attrs, slog.String("detail", rec.detail))
	}
	h.cfg.logger.LogAttrs(ctx, level, "codec request", attrs...)
}
