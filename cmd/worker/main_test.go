package main

import (
	"strings"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
)

// A bad key must stop the worker before it dials anything.
func TestBadKeyStopsWorker(t *testing.T) {
	for _, key := range []string{"", "not-a-key", strings.Repeat("ab", 31)} {
		t.Setenv(envkey.VarKey, key)
		err := run([]string{"-address", "127.0.0.1:1"})
		if err == nil || !strings.Contains(err.Error(), envkey.VarKey) || strings.Contains(err.Error(), "\n") {
			t.Errorf("run with key %q = %v, want a one-line error naming %s", key, err, envkey.VarKey)
		}
	}
}

// A model that cannot work as configured stops the worker before it dials.
func TestBadModelStopsWorker(t *testing.T) {
	key, err := envkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envkey.VarKey, key)
	t.Setenv("OPENAI_API_KEY", "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-model", "gpt"}, "unknown model provider"},
		{[]string{"-model", "openai"}, "OPENAI_MODEL"},
		{[]string{"-model", "openai", "-model-name", "m"}, "OPENAI_API_KEY is not set"},
		{[]string{"-ledger", t.TempDir()}, "ledger"},
	}
	for _, tt := range tests {
		err := run(append([]string{"-address", "127.0.0.1:1"}, tt.args...))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}
