package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
)

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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envkey.VarKey, tt.key)
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"-address", "127.0.0.1:1"}, tt.args...), &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("run(%q) = %v, want a one-line error containing %q", tt.args, err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("run(%q) printed %q before failing", tt.args, out.String())
			}
		})
	}
}
