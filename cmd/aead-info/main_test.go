package main

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

func TestRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(nil, &stdout, &stderr); err != nil {
		t.Fatalf("run() = %v", err)
	}
	out := stdout.String()
	for _, want := range []string{runtime.GOARCH, "default algorithm:", string(aead.Default())} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, a := range aead.All() {
		if !strings.Contains(out, string(a.ID())) {
			t.Errorf("output lacks algorithm %s:\n%s", a.ID(), out)
		}
	}
}

func TestRunRejectsArguments(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run([]string{"extra"}, &stdout, &stderr); err == nil {
		t.Errorf("run(extra) = nil, want an error")
	}
}

func TestWriteReport(t *testing.T) {
	h := aead.Hardware{
		Arch:     "amd64",
		Features: []string{"aes", "pclmulqdq", "sse41", "ssse3"},
		AESGCM:   true,
		Default:  aead.AES256GCM,
		Reason:   "the reason",
	}
	var b bytes.Buffer
	if err := writeReport(&b, h, aead.All()); err != nil {
		t.Fatal(err)
	}
	want := `architecture:         amd64
cpu features:         aes pclmulqdq sse41 ssse3
aes-gcm accelerated:  yes: hardware instructions, constant-time
default algorithm:    aes-256-gcm
because:              the reason

ALGORITHM           KEY   NONCE  OVERHEAD  MAX MESSAGES PER KEY
aes-256-gcm         32 B  12 B   16 B      2^32
aes-128-gcm         16 B  12 B   16 B      2^32
chacha20-poly1305   32 B  12 B   16 B      2^32
xchacha20-poly1305  32 B  24 B   16 B      no practical limit (over 2^64)
`
	if b.String() != want {
		t.Errorf("writeReport =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteReportError(t *testing.T) {
	err := writeReport(failWriter{}, aead.Detect(), aead.All())
	if !errors.Is(err, errWrite) {
		t.Errorf("writeReport to a failing writer = %v, want %v", err, errWrite)
	}
}

var errWrite = errors.New("write failed")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }
