package devserver_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

func TestCLIPathFromEnv(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "temporal")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(devserver.EnvCLI, exe)
	if p, err := devserver.CLIPath(); err != nil || p != exe {
		t.Errorf("CLIPath() = %q, %v; want %q", p, err, exe)
	}

	plain := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "missing"), plain, dir} {
		t.Setenv(devserver.EnvCLI, p)
		if _, err := devserver.CLIPath(); !errors.Is(err, devserver.ErrNoCLI) {
			t.Errorf("CLIPath() with %s=%s: %v, want ErrNoCLI", devserver.EnvCLI, p, err)
		}
	}
}

func TestStartWithoutCLI(t *testing.T) {
	_, err := devserver.Start(context.Background(), devserver.Options{CLI: filepath.Join(t.TempDir(), "nope")})
	if !errors.Is(err, devserver.ErrNoCLI) {
		t.Errorf("Start with a missing CLI = %v, want ErrNoCLI", err)
	}
}

func TestStartServesOnLoopback(t *testing.T) {
	s := devserver.StartForTest(t, devserver.Options{})
	host, _, err := net.SplitHostPort(s.HostPort())
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("HostPort() = %q, want 127.0.0.1:port", s.HostPort())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client().CheckHealth(ctx, nil); err != nil {
		t.Errorf("CheckHealth: %v", err)
	}
	if v := os.Getenv("TEMPORAL_VERSION_CHECK_DISABLED"); v != "1" {
		t.Errorf("TEMPORAL_VERSION_CHECK_DISABLED = %q in the server's environment, want 1", v)
	}
}
