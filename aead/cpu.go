package aead

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

// Hardware reports the CPU features that decide which AEAD is fastest here.
type Hardware struct {
	// Arch is runtime.GOARCH.
	Arch string
	// Features lists, in a fixed order, the features found that the
	// standard library's AES-GCM or x/crypto's ChaCha20-Poly1305 use on
	// this architecture, such as "aes", "pclmulqdq" and "avx2".
	Features []string
	// AESGCM is true when the standard library runs AES-GCM in assembly on
	// hardware instructions, which is fast and constant-time. Otherwise it
	// runs generic Go code, which is much slower and, without AES
	// instructions, looks up tables indexed by key-dependent data.
	AESGCM bool
	// Default is the algorithm [Default] picks.
	Default ID
	// Reason explains the choice in one sentence.
	Reason string
}

type feature struct {
	name string
	has  bool
}

// Detect inspects the CPU. Its test of AESGCM mirrors the one the standard
// library makes before it uses its AES-GCM assembly (Go 1.26), so the two
// agree unless the binary was built with the purego tag.
func Detect() Hardware {
	h := Hardware{Arch: runtime.GOARCH}
	switch runtime.GOARCH {
	case "amd64", "386":
		x := &cpu.X86
		h.Features = present(
			feature{"aes", x.HasAES}, feature{"pclmulqdq", x.HasPCLMULQDQ},
			feature{"sse41", x.HasSSE41}, feature{"ssse3", x.HasSSSE3},
			feature{"avx2", x.HasAVX2}, feature{"bmi2", x.HasBMI2},
		)
		// There is no AES-GCM assembly for 386, whatever the CPU has.
		h.AESGCM = runtime.GOARCH == "amd64" &&
			x.HasAES && x.HasPCLMULQDQ && x.HasSSE41 && x.HasSSSE3
	case "arm64":
		h.Features = present(
			feature{"aes", cpu.ARM64.HasAES}, feature{"pmull", cpu.ARM64.HasPMULL},
		)
		h.AESGCM = cpu.ARM64.HasAES && cpu.ARM64.HasPMULL
	case "s390x":
		s := &cpu.S390X
		h.Features = present(
			feature{"aes", s.HasAES}, feature{"aesctr", s.HasAESCTR},
			feature{"ghash", s.HasGHASH}, feature{"aesgcm", s.HasAESGCM},
			feature{"vx", s.HasVX},
		)
		h.AESGCM = s.HasAES && s.HasAESCTR && s.HasGHASH
	case "ppc64", "ppc64le":
		// Go requires POWER8 here, and the standard library's AES-GCM
		// assembly needs nothing more.
		h.Features = present(feature{"power8", cpu.PPC64.IsPOWER8})
		h.AESGCM = true
	}

	switch {
	case h.AESGCM:
		h.Default = AES256GCM
		h.Reason = "the standard library runs AES-GCM on this CPU's AES and " +
			"carry-less multiply instructions, which are fast and constant-time"
	case runtime.GOARCH == "386":
		h.Default = ChaCha20Poly1305
		h.Reason = "the standard library has no AES-GCM assembly for 386, and " +
			"ChaCha20-Poly1305 is faster and constant-time in software"
	default:
		h.Default = ChaCha20Poly1305
		h.Reason = "the standard library does not accelerate AES-GCM on this CPU, " +
			"and ChaCha20-Poly1305 is faster and constant-time in software"
	}
	return h
}

func present(fs ...feature) []string {
	var out []string
	for _, f := range fs {
		if f.has {
			out = append(out, f.name)
		}
	}
	return out
}

var defaultID = Detect().Default

// Default returns the algorithm to use when none is configured: AES-256-GCM
// where the standard library runs it on hardware instructions,
// ChaCha20-Poly1305 everywhere else. It is decided once, at start-up.
func Default() ID { return defaultID }
