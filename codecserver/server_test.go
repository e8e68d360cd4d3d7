package codecserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key,
// and returns their paths and a pool that trusts the certificate.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "codec-server test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS serves over TLS with Serve, then shuts down gracefully.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	k := newKey(t, "k1")
	c := newCodec(t, []*codec.Key{k})
	h, err := codecserver.NewHandler(c, codecserver.WithTLSFiles(certFile, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !h.TLS() {
		t.Fatal("TLS() = false")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.Serve(ctx, ln) }()

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "https://" + ln.Addr().String()
	resp, err := cl.Post(url+"/default/encode", "application/json",
		strings.NewReader(body(t, jsonPayload(t, "CANARY-tls"))))
	if err != nil {
		t.Fatalf("POST over TLS: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("POST over TLS = %d (TLS %v): %s", resp.StatusCode, resp.TLS, b)
	}

	// Plain HTTP to the TLS port gets nothing useful.
	if resp, err := http.Post("http://"+ln.Addr().String()+"/decode", "application/json", strings.NewReader("{}")); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP to the TLS port answered 200")
		}
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after shutdown = %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("listener still accepts after shutdown")
	}
}

func TestNewServerSettings(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	h, err := codecserver.NewHandler(c, codecserver.WithTimeouts(time.Second, 2*time.Second, 3*time.Second, 4*time.Second),
		codecserver.WithMaxHeaderBytes(8<<10))
	if err != nil {
		t.Fatal(err)
	}
	s := h.NewServer("127.0.0.1:0")
	if s.ReadHeaderTimeout != time.Second || s.ReadTimeout != 2*time.Second || s.WriteTimeout != 3*time.Second ||
		s.IdleTimeout != 4*time.Second || s.MaxHeaderBytes != 8<<10 || s.Handler != h || s.TLSConfig != nil {
		t.Errorf("NewServer = %+v", s)
	}
	d, _ := codecserver.NewHandler(c)
	ds := d.NewServer("")
	if ds.ReadHeaderTimeout != codecserver.DefaultReadHeaderTimeout || ds.ReadTimeout != codecserver.DefaultReadTimeout {
		t.Errorf("default timeouts %v %v", ds.ReadHeaderTimeout, ds.ReadTimeout)
	}
}

func TestMetrics(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	h, url := newServer(t, c)
	payloads(t, post(t, url+"/default/encode", body(t, jsonPayload(t, "CANARY-metrics"), jsonPayload(t, 2))))
	post(t, url+"/nope", "{}")
	post(t, url+"/tenant-secret-name/decode", "{bad")

	ms := httptest.NewServer(h.MetricsHandler())
	defer ms.Close()
	r := do(t, "GET", ms.URL, nil)
	for _, want := range []string{
		`codec_server_requests_total{code="200",outcome="ok",route="encode"} 1`,
		`codec_server_requests_total{code="404",outcome="not_found",route="unknown"} 1`,
		`codec_server_requests_total{code="400",outcome="bad_request",route="decode"} 1`,
		`codec_server_payloads_total{result="ok",route="encode"} 2`,
		`codec_server_request_duration_seconds_bucket`,
		`codec_server_in_flight_requests 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(r.body, "tenant-secret-name") || strings.Contains(r.body, "CANARY") {
		t.Errorf("metrics carry request data")
	}
}

func TestHealthz(t *testing.T) {
	c := newCodec(t, []*codec.Key{newKey(t, "k1")})
	tokens, err := codecserver.LoadTokenFile("testdata/tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	_, url := newServer(t, c, codecserver.WithAuthenticator(tokens))
	if r := do(t, "GET", url+"/healthz", nil); r.status != 200 || r.body != `{"status":"ok"}` {
		t.Errorf("GET /healthz = %d %s", r.status, r.body)
	}
	if r := do(t, "HEAD", url+"/healthz", nil); r.status != 200 {
		t.Errorf("HEAD /healthz = %d", r.status)
	}
}
