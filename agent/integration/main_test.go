package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

// server is the package's dev server; nil under -short.
var server *devserver.Server

func TestMain(m *testing.M) {
	if os.Getenv(envWorkerProcess) != "" {
		os.Exit(workerProcess()) // a child started by TestCrashResume
	}
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	srv, err := devserver.Start(ctx, devserver.Options{Logger: quietLogger()})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		if errors.Is(err, devserver.ErrNoCLI) {
			fmt.Fprintf(os.Stderr, "integration: hint: %s\n", devserver.Hint)
		}
		os.Exit(1)
	}
	server = srv
	code := m.Run()
	if err := srv.Stop(); err != nil && code == 0 {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

// needServer skips t under -short and returns the dev server otherwise.
func needServer(t *testing.T) *devserver.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs a Temporal dev server; skipped under -short")
	}
	return server
}

func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func random(t *testing.T) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// keys is one encryption key, as the environment variable holds it, and
// the codec and converters made from it.
type keys struct {
	env   string
	codec *codec.Codec
	conv  cli.Conv
}

func newKeys(t *testing.T) keys {
	t.Helper()
	k, err := envkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := envkey.LoadFrom(func(name string) string {
		if name == envkey.VarKey {
			return k
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(ring)
	if err != nil {
		t.Fatal(err)
	}
	dc := codec.NewDataConverter(c)
	return keys{env: k, codec: c, conv: cli.Conv{Data: dc, Failure: codec.NewFailureConverter(dc)}}
}

func dial(t *testing.T, k keys) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:         server.HostPort(),
		Namespace:        server.Namespace(),
		DataConverter:    k.conv.Data,
		FailureConverter: k.conv.Failure,
		Logger:           quietLogger(),
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// startWorker runs the agent's activities on taskQueue until the test
// ends.
func startWorker(t *testing.T, c client.Client, taskQueue string, model agent.Model, broker *agent.PaperBroker) {
	t.Helper()
	acts, err := agent.NewActivities(model, agent.NewMarket(agent.DefaultMarketSeed), broker)
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	agent.Register(w, acts)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
}

func newBroker(t *testing.T, opts agent.PaperBrokerOptions) *agent.PaperBroker {
	t.Helper()
	b, err := agent.NewPaperBroker(agent.NewMarket(agent.DefaultMarketSeed), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// request is the demo's request with markers that must never reach the
// server in clear.
func request(t *testing.T) agent.Request {
	r := strings.ToUpper(random(t))
	return agent.Request{
		Prompt: "Rebalance my portfolio and consider adding NVDA. Be conservative.",
		Account: agent.Account{
			ID:    "ACCT-IT-" + r,
			Owner: "Owner " + r,
			Cash:  50_000,
			Positions: []agent.Position{
				{Symbol: "AAPL", Quantity: 40, AvgCost: 175},
				{Symbol: "MSFT", Quantity: 15, AvgCost: 380},
			},
		},
	}
}

func start(t *testing.T, c client.Client, taskQueue, id string, req agent.Request) client.WorkflowRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wr, err := agent.Start(ctx, c, agent.StartOptions{ID: id, TaskQueue: taskQueue}, req)
	if err != nil {
		t.Fatalf("agent.Start: %v", err)
	}
	return wr
}

func result(t *testing.T, wr client.WorkflowRun, timeout time.Duration) (agent.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var res agent.Result
	err := wr.Get(ctx, &res)
	return res, err
}

// reference runs req under the SDK's test environment with the given
// workflow ID, a fresh broker and the planner: what an uninterrupted run
// on a healthy worker returns.
func reference(t *testing.T, id string, req agent.Request) agent.Result {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quietLogger())
	env := s.NewTestWorkflowEnvironment()
	market := agent.NewMarket(agent.DefaultMarketSeed)
	broker, err := agent.NewPaperBroker(market, agent.PaperBrokerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acts, err := agent.NewActivities(agent.RulePlanner{}, market, broker)
	if err != nil {
		t.Fatal(err)
	}
	env.RegisterWorkflow(agent.TradingWorkflow)
	env.RegisterActivity(acts)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
	env.ExecuteWorkflow(agent.TradingWorkflow, req)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("reference run: %v", err)
	}
	var res agent.Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// plaintext returns every payload of a run, history and description,
// decrypted with k: the bytes of its data and metadata, one entry per
// payload.
func plaintext(t *testing.T, k keys, id, runID string) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw := server.Client() // no codec: what the server holds
	var msgs []proto.Message
	it := raw.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history: %v", err)
		}
		msgs = append(msgs, e)
	}
	d, err := raw.DescribeWorkflow(ctx, id, runID)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	msgs = append(msgs, d.RawResponse)

	c := k.codec.ForNamespace(server.Namespace())
	var out [][]byte
	for _, m := range msgs {
		forEachPayload(m.ProtoReflect(), func(p *commonpb.Payload) {
			dec, err := c.Decode([]*commonpb.Payload{p})
			if err != nil {
				t.Fatalf("decode a payload of %s: %v", id, err)
			}
			var b []byte
			for key, v := range dec[0].GetMetadata() {
				b = append(append(append(b, key...), '='), v...)
			}
			out = append(out, append(b, dec[0].GetData()...))
		})
	}
	if len(out) == 0 {
		t.Fatalf("no payloads in %s", id)
	}
	return out
}

var payloadName = (&commonpb.Payload{}).ProtoReflect().Descriptor().FullName()

// forEachPayload calls fn with every Payload message inside m.
func forEachPayload(m protoreflect.Message, fn func(*commonpb.Payload)) {
	if m.Descriptor().FullName() == payloadName {
		fn(m.Interface().(*commonpb.Payload))
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					forEachPayload(mv.Message(), fn)
					return true
				})
			}
		case fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind:
		case fd.IsList():
			for i := range v.List().Len() {
				forEachPayload(v.List().Get(i).Message(), fn)
			}
		default:
			forEachPayload(v.Message(), fn)
		}
		return true
	})
}

// syncBuffer is an io.Writer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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
