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
