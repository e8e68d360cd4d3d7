package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

// server is the package's dev server; nil under -short.
var server *devserver.Server

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	srv, err := devserver.Start(ctx, devserver.Options{Logger: cli.Logger(&bytes.Buffer{})})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starter test: %v\n", err)
		if errors.Is(err, devserver.ErrNoCLI) {
			fmt.Fprintf(os.Stderr, "starter test: hint: %s\n", devserver.Hint)
		}
		os.Exit(1)
	}
	server = srv
	code := m.Run()
	if err := srv.Stop(); err != nil && code == 0 {
		code = 1
	}
	os.Exit(code)
}

func TestStarterRejectsBadInput(t *testing.T) {
	good, err := envkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  string
		args []string
		want string
	}{
		{"no key", "", nil, envkey.VarKey},
		{"short key", "abcd", nil, envkey.VarKey},
		{"bad positions", good, []string{"-positions", "AAPL"}, "SYMBOL:QTY"},
		{"empty prompt", good, []string{"-prompt", " "}, "prompt is empty"},
		{"empty account", good, []string{"-account", ""}, "account ID is empty"},
		{"bad flag", good, []string{"-nope"}, "flag provided but not defined"},
		{"negative threshold", good, []string{"-approval-above", "-1"}, "approval notional"},
		{"approve without ID", good, []string{"approve"}, "no -workflow-id"},
		{"reject bad flag", good, []string{"reject", "-nope"}, "flag provided but not defined"},
		{"pending without ID", good, []string{"pending"}, "no -workflow-id"},
		{"approve no key", "", []string{"approve", "-workflow-id", "x"}, envkey.VarKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envkey.VarKey, tt.key)
			var out bytes.Buffer
			args := tt.args
			if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
				args = append([]string{args[0], "-address", "127.0.0.1:1"}, args[1:]...)
			} else {
				args = append([]string{"-address", "127.0.0.1:1"}, args...)
			}
			err := run(context.Background(), args, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("run(%q) = %v, want a one-line error containing %q", tt.args, err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("run(%q) printed %q before failing", tt.args, out.String())
			}
		})
	}
}

// TestStarterApproveReject starts a workflow whose two trades need
// approval, approves the first and rejects the second from the command
// line, as a person at a terminal would.
func TestStarterApproveReject(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs a Temporal dev server; skipped under -short")
	}
	key, err := envkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envkey.VarKey, key)
	conv, err := cli.Converters()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: server.HostPort(), Namespace: server.Namespace(),
		DataConverter: conv.Data, FailureConverter: conv.Failure, Logger: cli.Logger(&bytes.Buffer{})})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	market := agent.NewMarket(agent.DefaultMarketSeed)
	broker, err := agent.NewPaperBroker(market, agent.PaperBrokerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acts, err := agent.NewActivities(agent.RulePlanner{}, market, broker)
	if err != nil {
		t.Fatal(err)
	}
	const tq = "starter-test"
	w := worker.New(c, tq, worker.Options{})
	agent.Register(w, acts)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := []string{"-address", server.HostPort(), "-namespace", server.Namespace()}
	id := "starter-approve-" + randomHex(4)
	var startOut syncBuffer
	started := make(chan error, 1)
	go func() {
		started <- run(ctx, append([]string{"-workflow-id", id, "-task-queue", tq, "-approval-above", "1000"},
			conn...), &startOut)
	}()

	prompts := 0
	decide := func(args ...string) string {
		t.Helper()
		if args[0] != "pending" {
			// Decide once the starter has said what waits, as a person would.
			prompts++
			for strings.Count(startOut.String(), "waiting for approval") < prompts {
				if ctx.Err() != nil {
					t.Fatalf("the starter did not show a trade waiting:\n%s", startOut.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		waitPending(t, ctx, c, id)
		var out bytes.Buffer
		if err := run(ctx, append(append(args, "-workflow-id", id), conn...), &out); err != nil {
			t.Fatalf("starter %s: %v\n%s", args[0], err, out.String())
		}
		return out.String()
	}
	if out := decide("pending"); !strings.Contains(out, "SELL 20 AAPL") {
		t.Errorf("starter pending printed %q, want the AAPL sale", out)
	}
	if out := decide("approve", "-approver", "tester"); !strings.Contains(out, "filled by tester") ||
		!strings.Contains(out, "SELL 20 AAPL, $") {
		t.Errorf("starter approve printed %q, want the sale filled", out)
	}
	if out := decide("reject", "-reason", "not today"); !strings.Contains(out, "BUY") ||
		!strings.Contains(out, "rejected") || !strings.Contains(out, "not today") {
		t.Errorf("starter reject printed %q, want the buy rejected", out)
	}

	if err := <-started; err != nil {
		t.Fatalf("starter: %v\n%s", err, startOut.String())
	}
	for _, want := range []string{"waiting for approval", "starter approve -workflow-id " + id,
		"Trades:\n  SELL 20 AAPL", "Approvals:", ": filled by tester", ": rejected by"} {
		if !strings.Contains(startOut.String(), want) {
			t.Errorf("starter output lacks %q:\n%s", want, startOut.String())
		}
	}
	if n := len(broker.Fills()); n != 1 {
		t.Errorf("broker filled %d orders, want 1", n)
	}
}

func waitPending(t *testing.T, ctx context.Context, c client.Client, id string) {
	t.Helper()
	for ctx.Err() == nil {
		if ps, err := agent.Pending(ctx, c, id); err == nil && len(ps) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no trade of %s waited for approval", id)
}

type syncBuffer struct {
	lockedWriter
	b bytes.Buffer
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
