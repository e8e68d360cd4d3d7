package aead

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

// Hardware reports the CPU features that decide which AEAD is fastest here.
type Hardware struct {
	Arch string
	// Features lists the relevant features found, such as "aes" and
	// "pclmulqdq".
	Features []string
	// AESGCM is true when the standard library uses hardware AES-GCM.
	AESGCM bool
	// Default is the algorithm [Default] picks.
	Default ID
	// Reason explains the choice in one sentence.
	Reason string
}

// Detect inspects the CPU.
func Detect() Hardware {
	h := Hardware{Arch: runtime.GOARCH}
	switch runtime.GOARCH {
	case "amd64", "386":
		h.Features = features(map[string]bool{
			"aes": cpu.X86.HasAES, "pclmulqdq": cpu.X86.HasPCLMULQDQ,
			"ssse3": cpu.X86.HasSSSE3, "avx": cpu.X86.HasAVX,
			"avx2": cpu.X86.HasAVX2, "vaes": cpu.X86.HasAVX512VAES,
		})
		h.AESGCM = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ
	case "arm64":
		h.Features = features(map[string]bool{
			"aes": cpu.ARM64.HasAES, "pmull": cpu.ARM64.HasPMULL,
		})
		h.AESGCM = cpu.ARM64.HasAES && cpu.ARM64.HasPMULL
	case "s390x":
		h.Features = features(map[string]bool{
			"aes": cpu.S390X.HasAES, "aesctr": cpu.S390X.HasAESCTR,
			"aesgcm": cpu.S390X.HasAESGCM, "ghash": cpu.S390X.HasGHASH,
		})
		h.AESGCM = cpu.S390X.HasAES && cpu.S390X.HasAESCTR && cpu.S390X.HasGHASH
	case "ppc64", "ppc64le":
		// The standard library's POWER8 AES-GCM assembly needs ISA 2.07,
		// which every ppc64le Go target has.
		h.Features = features(map[string]bool{"isa207": cpu.PPC64.IsPOWER8})
		h.AESGCM = cpu.PPC64.IsPOWER8
	}
	if h.AESGCM {
		h.Default = AES256GCM
		h.Reason = "the CPU accelerates AES and GHASH, so AES-256-GCM is fast and constant-time"
	} else {
		h.Default = ChaCha20Poly1305
		h.Reason = "no AES-GCM acceleration found; ChaCha20-Poly1305 is fast and constant-time in software"
	}
	return h
}

func features(m map[string]bool) []string {
	var out []string
	for _, name := range []string{"aes", "aesctr", "aesgcm", "avx", "avx2", "ghash",
		"isa207", "pclmulqdq", "pmull", "ssse3", "vaes"} {
		if m[name] {
			out = append(out, name)
		}
	}
	return out
}

var defaultID = Detect().Default

// Default returns the algorithm to use when none is configured: AES-256-GCM
// where the hardware accelerates it, ChaCha20-Poly1305 where it does not.
func Default() ID { return defaultID }
