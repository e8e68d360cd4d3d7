package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/agent/llmtest"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
)

// TestDemo runs the whole demo, as make demo does, so it cannot rot.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a Temporal dev server; skipped under -short")
	}
	key, err := envkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envkey.VarKey, key)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var out bytes.Buffer
	if err := run(ctx, []string{"-account", "ACCT-DEMO-TEST"}, &out); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"SELL 20 AAPL",
		"all encrypted (key " + envkey.DefaultKeyID + "), no plaintext found",
		"a client without the key cannot read the result",
		"demo: OK: the server holds only ciphertext",
		"demo: dev server stopped",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDemoRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad flag", []string{"-nope"}, "flag provided but not defined"},
		{"bad positions", []string{"-positions", "AAPL:many"}, "not a whole number"},
		{"bad cash", []string{"-cash", "-5"}, "cash out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestDemoOpenAICompatible runs the demo as make demo does with an
// OpenAI-compatible endpoint in the environment, here a fake one on
// 127.0.0.1, and trades that need approval.
func TestDemoOpenAICompatible(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a Temporal dev server; skipped under -short")
	}
	key, err := envkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envkey.VarKey, key)
	const apiKey = "sk-demo-test-7f3a1c"
	fake := llmtest.NewOpenAI(agent.RulePlanner{}, apiKey)
	defer fake.Close()
	t.Setenv("AGENT_MODEL", "openai")
	t.Setenv("OPENAI_BASE_URL", fake.URL)
	t.Setenv("OPENAI_MODEL", "fake-gpt")
	t.Setenv("OPENAI_API_KEY", apiKey)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var out bytes.Buffer
	if err := run(ctx, []string{"-approval-above", "1000"}, &out); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"model: openai model fake-gpt at " + fake.URL + " (key from $OPENAI_API_KEY)",
		"waiting for approval: SELL 20 AAPL",
		": filled by demo",
		"SELL 20 AAPL",
		"$OPENAI_API_KEY",
		"demo: OK: the server holds only ciphertext",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), apiKey) {
		t.Errorf("demo printed the API key:\n%s", out.String())
	}
	if fake.Answered() < 5 {
		t.Errorf("the fake model answered %d calls, want the whole run (5)", fake.Answered())
	}
}
