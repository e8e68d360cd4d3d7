package codecserver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

const markerTaskQueue = "codecserver-test"

// markerWorkflow answers the "state" query and returns once signalled
// "finish", so that every payload kind the CLI shows carries its input.
func markerWorkflow(ctx workflow.Context, in string) (string, error) {
	if err := workflow.SetQueryHandler(ctx, "state", func() (string, error) {
		return "state:" + in, nil
	}); err != nil {
		return "", err
	}
	workflow.GetSignalChannel(ctx, "finish").Receive(ctx, nil)
	return "result:" + in, nil
}

// requestLog counts the codec server's requests by path, and whether they
// carried credentials and an Origin.
type requestLog struct {
	mu   sync.Mutex
	hits map[string]int
	h    http.Handler
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	key := r.Method + " " + r.URL.Path
	if r.Header.Get("Authorization") != "" {
		key += " auth"
	}
	if o := r.Header.Get("Origin"); o != "" {
		key += " origin=" + o
	}
	l.hits[key]++
	l.mu.Unlock()
	l.h.ServeHTTP(w, r)
}

func (l *requestLog) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, v := range l.hits {
		if strings.Contains(k, substr) {
			n += v
		}
	}
	return n
}

// startWorker dials dev with the encrypting converters for c and runs a
// worker for markerWorkflow.
func startWorker(t *testing.T, hostPort, namespace string, c *codec.Codec) client.Client {
	t.Helper()
	dc := codec.NewDataConverter(c)
	cl, err := client.Dial(client.Options{
		HostPort:         hostPort,
		Namespace:        namespace,
		DataConverter:    dc,
		FailureConverter: codec.NewFailureConverter(dc),
		Logger:           cli.Logger(os.Stderr),
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(cl.Close)
	w := worker.New(cl, markerTaskQueue, worker.Options{})
	w.RegisterWorkflow(markerWorkflow)
	if err := w.Start(); err != nil {
		t.Fatalf("worker: %v", err)
	}
	t.Cleanup(w.Stop)
	return cl
}

// TestTemporalCLI is case C08, and C14 through the CLI: the pinned Temporal
// CLI shows decoded payloads through the codec server, authenticating with
// --codec-auth or --codec-header, and encodes input given to
// "workflow start".
func TestTemporalCLI(t *testing.T) {
	dev := devserver.StartForTest(t, devserver.Options{})
	temporal, err := devserver.CLIPath()
	if err != nil {
		t.Fatal(err)
	}

	c := newCodec(t, []*codec.Key{newKey(t, "cli-key")})
	tokens, err := codecserver.NewTokenAuthenticator([]codecserver.Token{{
		Name: "cli", Token: "cli-token-0123456789abcdef", Namespaces: []string{dev.Namespace()},
		Operations: []string{"decode", "encode"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	h, err := codecserver.NewHandler(c, codecserver.WithAuthenticator(tokens), codecserver.WithLogger(logs.logger()))
	if err != nil {
		t.Fatal(err)
	}
	rl := &requestLog{hits: map[string]int{}, h: h}
	srv := httptest.NewServer(rl)
	t.Cleanup(srv.Close)
	auth := "Bearer cli-token-0123456789abcdef"

	cl := startWorker(t, dev.HostPort(), dev.Namespace(), c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const marker = "CANARY-cli-7f3a"
	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "codecserver-cli-" + random(t),
		TaskQueue: markerTaskQueue,
		Memo:      map[string]any{"note": "memo:" + marker},
	}, markerWorkflow, marker)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	id := run.GetID()

	// temporal runs the CLI against the dev server with extra arguments.
	temporal2 := func(args ...string) (string, error) {
		t.Helper()
		args = append(args, "--address", dev.HostPort(), "--namespace", dev.Namespace(), "--color", "never")
		cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
		defer ccancel()
		cmd := exec.CommandContext(cctx, temporal, args...)
		cmd.Env = append(os.Environ(), "TEMPORAL_CONFIG_FILE="+t.TempDir()+"/none.toml")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	mustRun := func(name string, args ...string) string {
		t.Helper()
		out, err := temporal2(args...)
		if err != nil {
			t.Fatalf("temporal %s: %v\n%s\ncodec server log, last lines:\n%s", strings.Join(args, " "), err, out, lastLines(logs.String(), 5))
		}
		t.Logf("temporal %s:\n%s", name, out)
		return out
	}
	withCodec := []string{"--codec-endpoint", srv.URL, "--codec-auth", auth}

	// A query while the workflow runs.
	waitForTask(t, ctx, cl, id)
	if out := mustRun("query", append([]string{"workflow", "query", "-w", id, "--type", "state"}, withCodec...)...); !strings.Contains(out, "state:"+marker) {
		t.Errorf("workflow query output lacks the decoded state")
	}
	if err := cl.SignalWorkflow(ctx, id, "", "finish", nil); err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}

	// Without the codec server the CLI sees only ciphertext.
	if out := mustRun("show (no codec)", "workflow", "show", "-w", id); strings.Contains(out, marker) {
		t.Fatalf("workflow show without a codec shows the plaintext: history is not encrypted")
	}

	checks := []struct {
		name string
		args []string
		want []string
	}{
		{"show", []string{"workflow", "show", "-w", id}, []string{marker, "result:" + marker}},
		{"show -o json", []string{"workflow", "show", "-w", id, "-o", "json"}, []string{marker, "result:" + marker}},
		{"describe", []string{"workflow", "describe", "-w", id}, []string{"memo:" + marker}},
		{"describe -o json", []string{"workflow", "describe", "-w", id, "-o", "json"}, []string{"memo:" + marker, "result:" + marker}},
		{"result", []string{"workflow", "result", "-w", id}, []string{"result:" + marker}},
		{"result -o json", []string{"workflow", "result", "-w", id, "-o", "json"}, []string{"result:" + marker}},
		{"query after close", []string{"workflow", "query", "-w", id, "--type", "state"}, []string{"state:" + marker}},
	}
	for _, tc := range checks {
		out := mustRun(tc.name, append(tc.args, withCodec...)...)
		for _, w := range tc.want {
			if !shown(out, w) {
				t.Errorf("temporal %s: output lacks %q", tc.name, w)
			}
		}
		if strings.Contains(out, "binary/encrypted") || strings.Contains(out, "YmluYXJ5L2VuY3J5cHRlZA") {
			t.Errorf("temporal %s: output still shows encrypted payloads", tc.name)
		}
	}

	// --codec-header carries the token instead, and the endpoint may name
	// the namespace in its path.
	out := mustRun("result via --codec-header", "workflow", "result", "-w", id,
		"--codec-endpoint", srv.URL+"/{namespace}", "--codec-header", "Authorization="+auth)
	if !strings.Contains(out, "result:"+marker) {
		t.Errorf("--codec-header: output lacks the result")
	}
	if rl.count("POST /"+dev.Namespace()+"/decode auth") == 0 {
		t.Errorf("no decode request under /%s/decode: %v", dev.Namespace(), rl.hits)
	}

	// Without credentials, or with a wrong token, the CLI fails (it retries
	// until its command timeout) rather than showing anything as decoded.
	before := strings.Count(logs.String(), `"status":401`)
	for name, extra := range map[string][]string{
		"no token":  {"--codec-endpoint", srv.URL},
		"bad token": {"--codec-endpoint", srv.URL, "--codec-auth", "Bearer cli-token-0123456789abcdeX"},
	} {
		out, err := temporal2(append([]string{"workflow", "result", "-w", id, "--command-timeout", "2s"}, extra...)...)
		if err == nil || shown(out, marker) {
			t.Errorf("%s: CLI succeeded or showed plaintext: %v\n%s", name, err, out)
		}
	}
	if n := strings.Count(logs.String(), `"status":401`) - before; n < 2 {
		t.Errorf("codec server answered 401 %d times, want at least 2", n)
	}

	// workflow start --input goes through /encode: the server stores it
	// encrypted.
	startID := "codecserver-cli-start-" + random(t)
	const startMarker = "CANARY-cli-start-91c2"
	mustRun("start", append([]string{"workflow", "start", "--type", "markerWorkflow", "--task-queue", markerTaskQueue,
		"-w", startID, "--input", `"` + startMarker + `"`}, withCodec...)...)
	if rl.count("POST /encode auth") == 0 {
		t.Errorf("workflow start made no encode request: %v", rl.hits)
	}
	hist := dev.Client().GetWorkflowHistory(ctx, startID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := hist.Next()
	if err != nil {
		t.Fatal(err)
	}
	in := ev.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(in) != 1 || string(in[0].Metadata["encoding"]) != codec.EncodingEncrypted {
		t.Fatalf("stored input %v, want one encrypted payload", in)
	}
	if bytes.Contains(in[0].Data, []byte(startMarker)) {
		t.Fatalf("stored input holds the plaintext")
	}
	dec, err := c.Decode(in)
	if err != nil || string(dec[0].Data) != `"`+startMarker+`"` {
		t.Fatalf("stored input decodes to %v, %v", dec, err)
	}
	if err := cl.SignalWorkflow(ctx, startID, "", "finish", nil); err != nil {
		t.Fatal(err)
	}

	checkLogClean(t, logs.String(), auth, marker, startMarker)
	if rl.count("decode") == 0 {
		t.Errorf("codec server saw no decode calls")
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// shown reports whether out shows s: in clear, or as the standard base64
// of the JSON string payload holding s, as "-o json" prints a decoded
// payload's data.
func shown(out, s string) bool {
	return strings.Contains(out, s) ||
		strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(`"`+s+`"`)))
}

// waitForTask waits until the workflow's first task has completed, so that
// it can answer queries.
func waitForTask(t *testing.T, ctx context.Context, cl client.Client, id string) {
	t.Helper()
	for {
		it := cl.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.GetEventType() == enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("workflow %s made no progress", id)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func random(t testing.TB) string {
	t.Helper()
	return newKey(t, "x").ID() + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
}
