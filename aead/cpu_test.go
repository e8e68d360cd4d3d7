package aead_test

import (
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// TestDetectMatchesStandardLibrary checks Detect against the conditions
// under which the standard library (Go 1.26) runs AES-GCM in assembly, as
// read from golang.org/x/sys/cpu. When the standard library changes them,
// this test and Detect change together.
func TestDetectMatchesStandardLibrary(t *testing.T) {
	h := aead.Detect()

	var want bool
	switch runtime.GOARCH {
	case "amd64":
		want = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41 && cpu.X86.HasSSSE3
	case "arm64":
		want = cpu.ARM64.HasAES && cpu.ARM64.HasPMULL
	case "s390x":
		want = cpu.S390X.HasAES && cpu.S390X.HasAESCTR && cpu.S390X.HasGHASH
	case "ppc64", "ppc64le":
		want = true
	}
	if h.AESGCM != want {
		t.Errorf("Detect().AESGCM = %v on %s with features %v, want %v",
			h.AESGCM, runtime.GOARCH, h.Features, want)
	}

	if h.Arch != runtime.GOARCH {
		t.Errorf("Detect().Arch = %q, want %q", h.Arch, runtime.GOARCH)
	}
	if runtime.GOARCH == "amd64" && slices.Contains(h.Features, "aes") != cpu.X86.HasAES {
		t.Errorf("Detect().Features = %v, but x/sys/cpu says HasAES = %v",
			h.Features, cpu.X86.HasAES)
	}
	wantDefault := aead.ChaCha20Poly1305
	if want {
		wantDefault = aead.AES256GCM
	}
	if h.Default != wantDefault || aead.Default() != wantDefault {
		t.Errorf("Detect().Default = %s, Default() = %s; want %s",
			h.Default, aead.Default(), wantDefault)
	}
	if h.Reason == "" {
		t.Errorf("Detect().Reason is empty")
	}
	t.Logf("%s: features %v, AES-GCM accelerated: %v, default %s",
		h.Arch, h.Features, h.AESGCM, h.Default)
}
