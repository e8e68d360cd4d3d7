package codecserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

// Environment of the Web UI test.
const (
	// envChromium overrides the browser binary.
	envChromium = "CHROMIUM"
	// envArtifacts overrides where the screenshot is kept.
	envArtifacts = "CODECSERVER_ARTIFACTS"
	// envInNetns marks the re-executed test inside its network namespace.
	envInNetns = "CODECSERVER_WEBUI_NETNS"

	defaultChromium = "/usr/bin/chromium-headless-shell"
	chromiumHint    = "run scripts/install-chromium.sh (Debian packages chromium-headless-shell and fonts-dejavu-core), or set " + envChromium
)

// TestWebUI shows the Temporal Web UI decoding a workflow's input and
// result through the codec server, in headless Chromium.
//
// Chromium probes the network on its own, so it must run in a network
// namespace that has only a loopback interface (unshare -n, then ip link
// set lo up). A process inside that namespace cannot reach a server outside
// it, even on 127.0.0.1, so the test re-executes its own binary inside the
// namespace, and that child starts everything: the dev server with its UI,
// the codec server, a worker and the browser. Needs root (or
// CAP_SYS_ADMIN), unshare and ip.
func TestWebUI(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs a Temporal dev server and Chromium; skipped under -short")
	}
	if os.Getenv(envInNetns) == "1" {
		webUIInNetns(t)
		return
	}

	chromium := chromiumPath(t)
	if _, err := devserver.CLIPath(); err != nil {
		t.Fatalf("%v\nhint: %s", err, devserver.Hint)
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the Web UI test runs Chromium in a network namespace (util-linux, iproute2)", tool)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := devserver.CLIPath()
	if err != nil {
		t.Fatal(err)
	}
	artifacts := artifactDir(t)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "-n", "--", self,
		"-test.run=^TestWebUI$", "-test.v", "-test.count=1", "-test.timeout=3m")
	cmd.Env = append(os.Environ(), envInNetns+"=1", envChromium+"="+chromium,
		envArtifacts+"="+artifacts, devserver.EnvCLI+"="+cli)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("test inside the network namespace:\n%s", out.String())
	if err != nil {
		t.Fatalf("Web UI test inside unshare -n: %v", err)
	}
	if !strings.Contains(out.String(), "--- PASS: TestWebUI") {
		t.Fatalf("Web UI test inside unshare -n did not pass")
	}
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv(envChromium)
	if p == "" {
		p = defaultChromium
	}
	if _, err := exec.LookPath(p); err != nil {
		t.Fatalf("Chromium not found at %s: %v\nhint: %s", p, err, chromiumHint)
	}
	return p
}

// artifactDir returns where the screenshot goes: $CODECSERVER_ARTIFACTS,
// or results/codecserver at the module root (git-ignored).
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(envArtifacts)
	if dir == "" {
		dir = filepath.Join("..", "results", "codecserver")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}

// webUIInNetns is the test proper, run inside the network namespace.
func webUIInNetns(t *testing.T) {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	chromium := chromiumPath(t)
	cliPath, err := devserver.CLIPath()
	if err != nil {
		t.Fatalf("%v\nhint: %s", err, devserver.Hint)
	}
	t.Setenv("TEMPORAL_VERSION_CHECK_DISABLED", "1")

	// The UI's origin must be known to the codec server before the dev
	// server, which needs the codec server's URL, starts.
	uiPort := freePort(t)
	uiOrigin := "http://127.0.0.1:" + strconv.Itoa(uiPort)
	c := newCodec(t, []*codec.Key{newKey(t, "ui-key")})
	logs := &logBuffer{}
	h, err := codecserver.NewHandler(c, codecserver.WithLogger(logs.logger()),
		codecserver.WithAllowedOrigins(uiOrigin, "http://localhost:"+strconv.Itoa(uiPort)))
	if err != nil {
		t.Fatal(err)
	}
	rl := &requestLog{hits: map[string]int{}, h: h}
	codecSrv := httptest.NewServer(rl)
	t.Cleanup(codecSrv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  cliPath,
		ClientOptions: &client.Options{Namespace: "default"},
		EnableUI:      true,
		UIPort:        strconv.Itoa(uiPort),
		LogLevel:      "error",
		ExtraArgs:     []string{"--ui-codec-endpoint", codecSrv.URL},
		Stdout:        &testLogWriter{t: t},
		Stderr:        &testLogWriter{t: t},
	})
	if err != nil {
		t.Fatalf("dev server with UI: %v", err)
	}
	t.Cleanup(func() {
		dev.Client().Close()
		if err := dev.Stop(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Logf("dev server stop: %v", err)
		}
	})

	cl := startWorker(t, dev.FrontendHostPort(), "default", c)
	const marker = "CANARY-webui-5d1e"
	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "codecserver-webui-" + random(t), TaskQueue: markerTaskQueue,
	}, markerWorkflow, marker)
	if err != nil {
		t.Fatal(err)
	}
	waitForTask(t, ctx, cl, run.GetID())
	if err := cl.SignalWorkflow(ctx, run.GetID(), "", "finish", nil); err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// What the UI server itself hands the browser is ciphertext.
	ev, err := dev.Client().GetWorkflowHistory(ctx, run.GetID(), "", false, 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	if in := ev.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads(); len(in) != 1 ||
		string(in[0].Metadata["encoding"]) != codec.EncodingEncrypted {
		t.Fatalf("stored input %v, want one encrypted payload", in)
	}

	b := startBrowser(t, chromium)
	p, err := b.newPage(ctx, 1400, 1100)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", uiOrigin, run.GetID(), run.GetRunID())
	if err := p.navigate(ctx, url); err != nil {
		t.Fatal(err)
	}

	want := []string{`"` + marker + `"`, `"result:` + marker + `"`}
	var text string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if text, err = p.text(ctx); err != nil {
			t.Fatal(err)
		}
		if containsAll(text, want) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Give the page a moment to settle before the picture.
	time.Sleep(500 * time.Millisecond)
	dir := artifactDir(t)
	if png, err := p.screenshot(ctx); err != nil {
		t.Errorf("screenshot: %v", err)
	} else {
		path := filepath.Join(dir, "webui-workflow.png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Errorf("save screenshot: %v", err)
		}
		t.Logf("screenshot of the workflow page: %s", path)
	}
	_ = os.WriteFile(filepath.Join(dir, "webui-workflow.txt"), []byte(text), 0o644)

	if !containsAll(text, want) {
		t.Fatalf("the workflow page does not show the decoded input and result %q; page text:\n%s\ncodec server: %v",
			want, text, rl.hits)
	}
	if strings.Contains(text, "binary/encrypted") {
		t.Errorf("the workflow page still shows encrypted payloads")
	}
	if n := rl.count("POST /decode origin=" + uiOrigin); n == 0 {
		t.Errorf("the codec server received no decode calls from the UI's origin: %v", rl.hits)
	}
	if n := rl.count("OPTIONS /decode origin=" + uiOrigin); n == 0 {
		t.Errorf("the browser sent no CORS preflight: %v", rl.hits)
	}
	t.Logf("codec server requests: %v", rl.hits)
	checkLogClean(t, logs.String(), marker)
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// testLogWriter forwards a child's output to the test log.
type testLogWriter struct{ t *testing.T }

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Logf("temporal server: %s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}
