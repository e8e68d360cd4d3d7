package codecserver

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// NewServer returns an [http.Server] for addr that serves h with the
// configured timeouts and header limit, and with TLS 1.2 or later when
// [WithTLSFiles] was given. Its own errors (TLS handshakes, broken
// connections) go to the handler's logger at debug level.
func (h *Handler) NewServer(addr string) *http.Server {
	s := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: h.cfg.readHeader,
		ReadTimeout:       h.cfg.read,
		WriteTimeout:      h.cfg.write,
		IdleTimeout:       h.cfg.idle,
		MaxHeaderBytes:    h.cfg.maxHeader,
		ErrorLog:          slog.NewLogLogger(h.cfg.logger.Handler(), slog.LevelDebug),
	}
	if h.cfg.tlsCert != nil {
		s.TLSConfig = &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{*h.cfg.tlsCert},
		}
	}
	return s
}

// TLS reports whether the handler was configured with a certificate.
func (h *Handler) TLS() bool { return h.cfg.tlsCert != nil }

// shutdownGrace bounds how long Serve waits for requests in flight after
// ctx ends.
const shutdownGrace = 10 * time.Second

// Serve serves h on ln, with TLS if configured, until ctx ends; then it
// stops accepting, waits up to 10 seconds for requests in flight, and
// returns nil. It returns the server's error if serving fails first.
func (h *Handler) Serve(ctx context.Context, ln net.Listener) error {
	s := h.NewServer(ln.Addr().String())
	errc := make(chan error, 1)
	go func() {
		if s.TLSConfig != nil {
			errc <- s.ServeTLS(ln, "", "")
		} else {
			errc <- s.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := s.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
