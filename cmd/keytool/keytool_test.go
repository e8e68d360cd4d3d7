package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/keyring"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

// keytool runs the command and returns its output and the error report
// as the command would print it.
func keytool(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cli.Report(&errOut, "keytool", run(args, &out))
	return out.String(), errOut.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut := keytool(t, args...)
	if errOut != "" {
		t.Fatalf("keytool %s: %s", strings.Join(args, " "), errOut)
	}
	return out
}

func TestGenerate(t *testing.T) {
	out := strings.TrimSpace(mustRun(t, "generate"))
	if b, err := hex.DecodeString(out); err != nil || len(b) != 32 {
		t.Errorf("generate printed %d characters, want 64 hex digits", len(out))
	}
	out = strings.TrimSpace(mustRun(t, "generate", "-algorithm", "aes-128-gcm", "-encoding", "base64"))
	if len(out) != 24 {
		t.Errorf("generate -algorithm aes-128-gcm -encoding base64 printed %q, want 24 characters", out)
	}
	if _, errOut := keytool(t, "generate", "-algorithm", "des"); !strings.HasPrefix(errOut, "keytool: error: ") {
		t.Errorf("unknown algorithm reported as %q", errOut)
	}
}

func TestRotationCommands(t *testing.T) {
	now = func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	defer func() { now = time.Now }()
	path := filepath.Join(t.TempDir(), "keys.json")

	mustRun(t, "init", "-keyring", path, "-id", "k-old")
	if _, errOut := keytool(t, "init", "-keyring", path); !strings.Contains(errOut, "already exists") {
		t.Errorf("init over an existing file: %q", errOut)
	}
	if out := mustRun(t, "add", "-keyring", path, "-id", "k-new"); !strings.Contains(out, "keytool promote -id k-new") {
		t.Errorf("add does not say what to do next: %q", out)
	}
	mustRun(t, "promote", "-keyring", path, "-id", "k-new")
	if _, errOut := keytool(t, "retire", "-keyring", path, "-id", "k-new"); !strings.Contains(errOut, "is primary") {
		t.Errorf("retiring the primary: %q", errOut)
	}
	mustRun(t, "retire", "-keyring", path, "-id", "k-old")

	f, err := keyring.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Wipe()
	if f.Primary().ID != "k-new" || f.Find("k-old").State != keyring.StateDisabled {
		t.Fatalf("after the commands: primary %q, k-old %s", f.Primary().ID, f.Find("k-old").State)
	}

	out := mustRun(t, "show", "-keyring", path)
	for _, want := range []string{"k-new", "primary", "k-old", "disabled", "2026-03-01T09:00:00Z", "FINGERPRINT"} {
		if !strings.Contains(out, want) {
			t.Errorf("show output lacks %q:\n%s", want, out)
		}
	}
	for _, e := range f.Keys {
		for _, enc := range []string{hex.EncodeToString(e.Material), string(e.Material)} {
			if strings.Contains(out, enc[:12]) {
				t.Errorf("show prints key material:\n%s", out)
			}
		}
	}

	mustRun(t, "remove", "-keyring", path, "-id", "k-old")
	if out := mustRun(t, "show", "-keyring", path); strings.Contains(out, "k-old") {
		t.Errorf("removed key still shown:\n%s", out)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.json")
	mustRun(t, "init", "-keyring", loose)
	os.Chmod(loose, 0o644)
	t.Setenv(EnvKeyring, "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "keytool: error: no command"},
		{"unknown command", []string{"rotate"}, `keytool: error: unknown command "rotate"`},
		{"no keyring", []string{"show"}, "keytool: hint: pass -keyring FILE or set " + EnvKeyring},
		{"missing file", []string{"show", "-keyring", filepath.Join(dir, "nope.json")}, "no such file"},
		{"loose permissions", []string{"show", "-keyring", loose}, "chmod 600"},
		{"no ID", []string{"promote", "-keyring", loose}, "no key ID"},
		{"bad flag", []string{"show", "-bogus"}, "keytool: hint: run keytool show -h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut := keytool(t, tt.args...)
			if !strings.HasPrefix(errOut, "keytool: error: ") || !strings.Contains(errOut, tt.want) {
				t.Errorf("keytool %v reported %q, want %q", tt.args, errOut, tt.want)
			}
		})
	}
}

// TestScan starts workflows with an encrypting client on a dev server, one
// under each of two keys, and scans their histories with no codec.
func TestScan(t *testing.T) {
	srv := devserver.StartForTest(t, devserver.Options{})
	path := filepath.Join(t.TempDir(), "keys.json")
	mustRun(t, "init", "-keyring", path, "-id", "k-old")
	mustRun(t, "add", "-keyring", path, "-id", "k-new")

	start := func(id string) {
		t.Helper()
		src, err := keyring.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		cd, _ := codec.New(src)
		c, err := client.Dial(client.Options{
			HostPort: srv.HostPort(), Namespace: srv.Namespace(),
			DataConverter: codec.NewDataConverter(cd), Logger: cli.Logger(os.Stderr),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// No worker runs: the start event alone holds the encrypted input.
		if _, err := c.ExecuteWorkflow(context.Background(),
			client.StartWorkflowOptions{ID: id, TaskQueue: "keytool-scan"}, "Nothing", "CANARY-scan"); err != nil {
			t.Fatal(err)
		}
	}
	start("wf-1")
	start("wf-2")
	mustRun(t, "promote", "-keyring", path, "-id", "k-new")
	start("wf-3")

	// Visibility is eventually consistent.
	var out string
	deadline := time.Now().Add(10 * time.Second)
	for {
		out = mustRun(t, "scan", "-address", srv.HostPort(), "-namespace", srv.Namespace(), "-keyring", path)
		if strings.Contains(out, "scanned 3 ") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, want := range []string{"scanned 3 workflow executions", "0 not encrypted"} {
		if !strings.Contains(out, want) {
			t.Fatalf("scan output lacks %q:\n%s", want, out)
		}
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = strings.Join(f, " ")
		}
	}
	if got := lines["k-old"]; got != "k-old 2 2 decrypt-only" {
		t.Errorf("k-old line = %q, want 2 payloads in 2 executions", got)
	}
	if got := lines["k-new"]; got != "k-new 1 1 primary" {
		t.Errorf("k-new line = %q, want 1 payload in 1 execution", got)
	}

	_, errOut := keytool(t, "scan", "-address", srv.HostPort(), "-namespace", srv.Namespace(), "-unused", "k-old")
	if !strings.Contains(errOut, "keytool: error: still in use: k-old (2 executions") {
		t.Errorf("scan -unused k-old reported %q", errOut)
	}
	if _, errOut := keytool(t, "scan", "-address", srv.HostPort(), "-namespace", srv.Namespace(),
		"-unused", "k-gone"); errOut != "" {
		t.Errorf("scan -unused of an unused key: %q", errOut)
	}
}
