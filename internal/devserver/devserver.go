// Package devserver starts a local Temporal dev server for tests and the
// demo.
//
// The server is the Temporal CLI's "server start-dev", run through
// [testsuite.StartDevServer] from a binary already on disk: nothing is
// downloaded. It binds 127.0.0.1 on a free port, keeps its state in memory,
// runs without its UI, and has its version check turned off twice over
// (the SDK passes the dynamic config value, and this package sets
// TEMPORAL_VERSION_CHECK_DISABLED=1 in the environment the child inherits),
// so it never reaches outside the machine.
package devserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// EnvCLI names the variable that overrides where the Temporal CLI is.
const EnvCLI = "TEMPORAL_CLI"

// Hint tells a person how to get the CLI when it is missing.
const Hint = "run make bin/temporal, or set TEMPORAL_CLI to a Temporal CLI binary"

const modulePath = "github.com/temporal-encryption/temporal-encryption"

// ErrNoCLI is returned when the Temporal CLI cannot be found.
var ErrNoCLI = errors.New("devserver: Temporal CLI not found")

// CLIPath returns the Temporal CLI to run: $TEMPORAL_CLI if set, else
// bin/temporal at the root of this module, found by walking up from the
// working directory. The error wraps [ErrNoCLI] when there is none.
func CLIPath() (string, error) {
	if p := os.Getenv(EnvCLI); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrNoCLI, EnvCLI, p, err)
		}
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoCLI, err)
	}
	p := filepath.Join(root, "bin", "temporal")
	if err := executable(p); err != nil {
		return "", fmt.Errorf("%w at %s", ErrNoCLI, p)
	}
	return p, nil
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// moduleRoot walks up from the working directory to the go.mod of this
// module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isModuleRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

func isModuleRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == modulePath
		}
	}
	return false
}

// Options configure [Start].
type Options struct {
	// CLI is the Temporal CLI binary. Default: [CLIPath].
	CLI string

	// Namespace is registered at start-up. Default "default".
	Namespace string

	// SearchAttributes are registered at start-up, so workflows may set
	// them.
	SearchAttributes temporal.SearchAttributes

	// Output receives the server's own log. Default: discarded.
	Output io.Writer

	// Logger is the SDK logger of the server's client. Default: warnings
	// and errors to stderr.
	Logger log.Logger
}

// Server is a running dev server.
type Server struct {
	dev       *testsuite.DevServer
	namespace string
}

// Start starts a dev server and waits until it answers, or ctx ends. The
// caller must call [Server.Stop].
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.CLI == "" {
		p, err := CLIPath()
		if err != nil {
			return nil, err
		}
		opts.CLI = p
	} else if err := executable(opts.CLI); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoCLI, err)
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Output == nil {
		opts.Output = io.Discard
	}
	if opts.Logger == nil {
		opts.Logger = log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr,
			&slog.HandlerOptions{Level: slog.LevelWarn})))
	}

	// The child inherits this process's environment; the server reads the
	// variable when it starts.
	if err := os.Setenv("TEMPORAL_VERSION_CHECK_DISABLED", "1"); err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}

	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: opts.CLI,
		// HostPort stays empty: the SDK picks a free port on 127.0.0.1.
		ClientOptions:    &client.Options{Namespace: opts.Namespace, Logger: opts.Logger},
		LogLevel:         "error",
		SearchAttributes: opts.SearchAttributes,
		Stdout:           opts.Output,
		Stderr:           opts.Output,
	})
	if err != nil {
		return nil, fmt.Errorf("devserver: start %s: %w", opts.CLI, err)
	}
	return &Server{dev: dev, namespace: opts.Namespace}, nil
}

// HostPort returns the server's frontend address, 127.0.0.1:port.
func (s *Server) HostPort() string { return s.dev.FrontendHostPort() }

// Namespace returns the namespace registered at start-up.
func (s *Server) Namespace() string { return s.namespace }

// Client returns a client with the SDK's default data converter and no
// codec: it sees what the server stores. The server owns it; do not close
// it.
func (s *Server) Client() client.Client { return s.dev.Client() }

// stopTimeout bounds the wait for the server to exit.
const stopTimeout = 30 * time.Second

// Stop closes the server's client, interrupts the server and waits for it
// to exit, at most 30 seconds. A server that had already exited (after a
// Ctrl-C reached it directly, say) is not an error.
func (s *Server) Stop() error {
	s.dev.Client().Close()
	done := make(chan error, 1)
	go func() { done <- s.dev.Stop() }()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, os.ErrProcessDone) || errors.Is(err, fs.ErrClosed) {
			return nil
		}
		return fmt.Errorf("devserver: stop: %w", err)
	case <-time.After(stopTimeout):
		return fmt.Errorf("devserver: server did not exit within %v", stopTimeout)
	}
}

// StartForTest starts a dev server for t and stops it when t ends. Under
// go test -short it skips t. A missing CLI fails t with a hint: an
// integration test that silently does not run proves nothing. The server's
// log goes to the test log, shown for failed tests and with -v.
func StartForTest(t testing.TB, opts Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs a Temporal dev server; skipped under -short")
	}
	var tw *testWriter
	if opts.Output == nil {
		tw = &testWriter{t: t}
		opts.Output = tw
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if errors.Is(err, ErrNoCLI) {
		t.Fatalf("%v\nhint: %s", err, Hint)
	}
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("%v", err)
		}
		if tw != nil {
			tw.close()
		}
	})
	return s
}

// testWriter forwards the server's log to t until closed.
type testWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Logf("temporal server: %s", bytes.TrimRight(p, "\n"))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
