package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/codec/keyring"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func setKey(t *testing.T) {
	t.Helper()
	key, err := envkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envkey.VarKey, key)
	t.Setenv(envkey.VarKeyID, "cmd-key")
}

func TestServe(t *testing.T) {
	setKey(t)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0",
			"-origins", "http://localhost:8233", "-max-payloads", "10"}, &logs, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, logs.String())
	}
	url := "http://" + addr

	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(url+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, enc := post("/default/encode", `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"IkNBTkFSWS1jbWQi"}]}`)
	if status != 200 || !strings.Contains(enc, "Y21kLWtleQ==") {
		t.Fatalf("encode = %d %s", status, enc)
	}
	if status, dec := post("/decode", enc); status != 200 || !strings.Contains(dec, "IkNBTkFSWS1jbWQi") {
		t.Fatalf("decode = %d %s", status, dec)
	}
	if status, _ := post("/decode", `{"payloads":[`+strings.Repeat(`{},`, 10)+`{}]}`); status != 413 {
		t.Errorf("11 payloads with -max-payloads 10 = %d, want 413", status)
	}

	// The start-up line names the metrics address.
	var start struct {
		Metrics string `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(logs.String(), "\n", 2)[0]), &start); err != nil || start.Metrics == "" {
		t.Fatalf("start-up line: %v\n%s", err, logs.String())
	}
	resp, err := http.Get("http://" + start.Metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `codec_server_requests_total{code="200",outcome="ok",route="encode"} 1`) {
		t.Errorf("metrics:\n%s", m)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel = %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop")
	}

	out := logs.String()
	if n := strings.Count(out, `"msg":"codec request"`); n != 3 {
		t.Errorf("%d request lines for 3 requests:\n%s", n, out)
	}
	if strings.Contains(out, "CANARY") || strings.Contains(out, "IkNBTkFSWS1jbWQi") {
		t.Errorf("log holds payload content:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
}

// TestKeyring serves keys from a keyring file and picks up a promoted key
// without a restart.
func TestKeyring(t *testing.T) {
	t.Setenv(envkey.VarKey, "") // the environment is not used
	path := filepath.Join(t.TempDir(), "keys.json")
	f := &keyring.File{}
	first, err := keyring.NewEntry("ring-1", aead.AES256GCM, keyring.StatePrimary, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Add(first); err != nil {
		t.Fatal(err)
	}
	if err := keyring.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}

	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-keyring", path, "-keyring-reload", "1s"},
			&logs, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, logs.String())
	}
	encodeKeyID := func() string {
		t.Helper()
		resp, err := http.Post("http://"+addr+"/encode", "application/json", strings.NewReader(`{"payloads":[{"data":"MQ=="}]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Payloads []struct {
				Metadata map[string][]byte `json:"metadata"`
			} `json:"payloads"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Payloads) != 1 {
			t.Fatalf("encode: %d %v", resp.StatusCode, err)
		}
		return string(out.Payloads[0].Metadata["encryption-key-id"])
	}
	if id := encodeKeyID(); id != "ring-1" {
		t.Fatalf("encoded under %q, want ring-1", id)
	}

	second, err := keyring.NewEntry("ring-2", aead.AES256GCM, keyring.StateDecryptOnly, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Add(second); err != nil {
		t.Fatal(err)
	}
	if err := f.Promote("ring-2"); err != nil {
		t.Fatal(err)
	}
	if err := keyring.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for encodeKeyID() != "ring-2" {
		if time.Now().After(deadline) {
			t.Fatalf("the promoted key was not picked up:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		noKey    bool
		args     []string
		want     string
		wantHint bool
	}{
		{"unknown flag", false, []string{"-nope"}, "flag provided but not defined", true},
		{"extra argument", false, []string{"serve"}, "unexpected argument", true},
		{"no key", true, []string{"-listen", "127.0.0.1:0"}, envkey.VarKey, true},
		{"star with credentials", false, []string{"-origins", "*", "-credentials"}, "credentials", false},
		{"bad origin", false, []string{"-origins", "https://ui.example.com/path"}, "allowed origin", false},
		{"TLS half", false, []string{"-tls-cert", "c.pem"}, "-tls-cert and -tls-key", true},
		{"TLS files missing", false, []string{"-tls-cert", "none.pem", "-tls-key", "none.key"}, "TLS certificate", false},
		{"all interfaces without auth", false, []string{"-listen", "0.0.0.0:0"}, "without authentication", true},
		{"no host without auth", false, []string{"-listen", ":0"}, "without authentication", true},
		{"tokens file missing", false, []string{"-tokens-file", "none.json"}, "tokens file", false},
		{"JWKS unreachable", false, []string{"-jwks-url", "http://127.0.0.1:1/jwks"}, "JWKS", true},
		{"JWKS over plain HTTP", false, []string{"-jwks-url", "http://idp.example.com/jwks"}, "https", false},
		{"log level", false, []string{"-log-level", "loud"}, "log level", true},
		{"body limit", false, []string{"-max-body", "1"}, "WithMaxBodySize", false},
		{"concurrency", false, []string{"-max-in-flight", "0"}, "WithConcurrency", false},
		{"decoded cap", false, []string{"-max-decoded-size", "1"}, "WithMaxDecodedSize", false},
		{"keyring missing", false, []string{"-keyring", "none.json"}, "keyring", true},
		{"keyring reload", false, []string{"-keyring-reload", "1ms"}, "keyring-reload", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noKey {
				t.Setenv(envkey.VarKey, "")
			} else {
				setKey(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := run(ctx, tc.args, io.Discard, func(string) { t.Errorf("%v: server started", tc.args) })
			if err == nil {
				t.Fatalf("%v: no error", tc.args)
			}
			var out bytes.Buffer
			if code := cli.Report(&out, prog, err); code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if !strings.HasPrefix(lines[0], "codec-server: error: ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("report %q, want codec-server: error: …%s…", out.String(), tc.want)
			}
			if hasHint := len(lines) > 1 && strings.HasPrefix(lines[1], "codec-server: hint: "); hasHint != tc.wantHint {
				t.Errorf("report %q: hint present %v, want %v", out.String(), hasHint, tc.wantHint)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8081": true, "[::1]:8081": true, "localhost:8081": true, "127.1.2.3:1": true,
		":8081": false, "0.0.0.0:8081": false, "[::]:8081": false, "10.0.0.1:8081": false,
		"codec.internal:8081": false, "garbage": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
