package coverage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
	"github.com/temporal-encryption/temporal-encryption/encryption"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

// Search attributes the workflows upsert. The dev server registers them at
// start-up.
var (
	saKeyword = temporal.NewSearchAttributeKeyKeyword("CoverageKeyword")
	saInt     = temporal.NewSearchAttributeKeyInt64("CoverageInt")
	saTime    = temporal.NewSearchAttributeKeyTime("CoverageTime")
	saTags    = temporal.NewSearchAttributeKeyKeywordList("CoverageTags")
)

const (
	taskQueue = "coverage"
	keyID     = "coverage-key"
	namespace = "default"
)

// The one dev server of this package, started by TestMain.
var (
	srv       *devserver.Server
	srvErr    error
	serverLog lockedBuffer
)

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		srv, srvErr = devserver.Start(ctx, devserver.Options{
			SearchAttributes: temporal.NewSearchAttributes(
				saKeyword.ValueSet(""), saInt.ValueSet(0), saTime.ValueSet(time.Time{}), saTags.ValueSet(nil)),
			Output: &serverLog,
			Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(&serverLog,
				&slog.HandlerOptions{Level: slog.LevelWarn}))),
		})
		cancel()
	}

	code := m.Run()

	shared.stop()
	if srv != nil {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if code != 0 && serverLog.Len() > 0 {
		fmt.Fprintf(os.Stderr, "dev server log:\n%s\n", serverLog.Tail(8<<10))
	}
	os.Exit(code)
}

// fixture is what the tests share: the server, a client that encrypts
// (with its plugin, codec and a worker running every workflow), a client
// with no codec, and a codec server.
type fixture struct {
	srv    *devserver.Server
	raw    client.Client // no codec: sees what the server stores
	enc    client.Client
	plugin *encryption.Plugin
	codec  *codec.Codec
	key    string // hex, for clients that share it

	failures *failureLog   // decode failures the plugin reported
	sdkLog   *lockedBuffer // the encrypting client's and worker's SDK log

	codecServer *httptest.Server

	once    sync.Once
	err     error
	cleanup []func()
}

var shared fixture

// setup returns the shared fixture, building it on first use. It skips the
// test under -short and fails it when the dev server did not start.
func setup(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs a Temporal dev server; skipped under -short")
	}
	if errors.Is(srvErr, devserver.ErrNoCLI) {
		t.Fatalf("%v\nhint: %s", srvErr, devserver.Hint)
	}
	if srvErr != nil {
		t.Fatalf("dev server: %v", srvErr)
	}
	shared.once.Do(func() { shared.err = shared.start() })
	if shared.err != nil {
		t.Fatalf("fixture: %v", shared.err)
	}
	return &shared
}

func (f *fixture) start() error {
	f.srv = srv
	f.raw = srv.Client()
	f.failures = &failureLog{}
	f.sdkLog = &lockedBuffer{}

	key, err := envkey.Generate()
	if err != nil {
		return err
	}
	f.key = key
	logger := bufferLogger(f.sdkLog)

	// The wiring a user writes: configuration from the environment, the
	// plugin from LoadClientOptions (Dial does both in one call).
	opts, err := encryption.LoadClientOptions(
		encryption.WithEnviron(f.environ(key, keyID)),
		encryption.WithDecodeFailureHook(func(d encryption.DecodeFailure) {
			f.failures.add(d)
			encryption.LogDecodeFailures(logger)(d)
		}),
		encryption.WithClientOptions(func(o *client.Options) {
			o.Logger = logger
			o.ContextPropagators = []workflow.ContextPropagator{encryption.EncryptHeaders(tenantPropagator{})}
		}),
	)
	if err != nil {
		return err
	}
	f.plugin = opts.Plugins[0].(*encryption.Plugin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if f.enc, err = client.DialContext(ctx, opts); err != nil {
		return err
	}
	f.cleanup = append(f.cleanup, f.enc.Close)

	w := worker.New(f.enc, taskQueue, worker.Options{})
	register(w)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	f.cleanup = append(f.cleanup, w.Stop)

	// The codec server the Web UI and CLI would use, on loopback.
	if f.codec, err = newCodec(key, keyID); err != nil {
		return err
	}
	h, err := codecserver.NewHandler(f.codec)
	if err != nil {
		return err
	}
	f.codecServer = httptest.NewServer(h)
	f.cleanup = append(f.cleanup, f.codecServer.Close)
	return nil
}

// environ is the configuration a deployment would give a process through
// its environment. The config file is pointed at nothing, so that a
// developer's own ~/.config/temporalio/temporal.toml cannot interfere.
func (f *fixture) environ(key, id string) []string {
	return []string{
		"TEMPORAL_CONFIG_FILE=" + filepath.Join(os.TempDir(), "coverage-no-such-file.toml"),
		"TEMPORAL_ADDRESS=" + f.srv.HostPort(),
		"TEMPORAL_NAMESPACE=" + namespace,
		envkey.VarKey + "=" + key,
		envkey.VarKeyID + "=" + id,
	}
}

// stop runs the cleanups in reverse order.
func (f *fixture) stop() {
	for i := len(f.cleanup) - 1; i >= 0; i-- {
		f.cleanup[i]()
	}
	f.cleanup = nil
}

// dialWithKey returns an encrypting client, closed when t ends, that
// holds one key; key "" makes a fresh one.
func (f *fixture) dialWithKey(
	t *testing.T, key, id string, opts ...encryption.Option,
) (client.Client, *encryption.Plugin) {
	t.Helper()
	if key == "" {
		var err error
		if key, err = envkey.Generate(); err != nil {
			t.Fatal(err)
		}
	}
	all := append([]encryption.Option{
		encryption.WithEnviron(f.environ(key, id)),
		encryption.WithClientOptions(func(o *client.Options) { o.Logger = bufferLogger(f.sdkLog) }),
	}, opts...)
	o, err := encryption.LoadClientOptions(all...)
	if err != nil {
		t.Fatalf("LoadClientOptions: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, o)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c, o.Plugins[0].(*encryption.Plugin)
}

func newCodec(key, id string) (*codec.Codec, error) {
	ring, err := envkey.LoadFrom(func(name string) string {
		switch name {
		case envkey.VarKey:
			return key
		case envkey.VarKeyID:
			return id
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	return codec.New(ring)
}

// marker returns a unique plaintext marker naming where it is put.
func marker(t testing.TB, where string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "CANARY-" + hex.EncodeToString(b) + "-" + where
}

// failureLog keeps the decode failures the plugin reports.
type failureLog struct {
	mu  sync.Mutex
	all []encryption.DecodeFailure
}

func (l *failureLog) add(d encryption.DecodeFailure) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, d)
}

// forWorkflow returns the failures reported for workflow id.
func (l *failureLog) forWorkflow(id string) []encryption.DecodeFailure {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []encryption.DecodeFailure
	for _, d := range l.all {
		if d.WorkflowID == id {
			out = append(out, d)
		}
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail returns at most the last n bytes written.
func (b *lockedBuffer) Tail(n int) string {
	s := b.String()
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

// Lines returns the lines written that contain sub.
func (b *lockedBuffer) Lines(sub string) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

// bufferLogger is an SDK logger writing warnings and errors to w.
func bufferLogger(w *lockedBuffer) sdklog.Logger {
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})
	return sdklog.NewStructuredLogger(slog.New(h))
}
