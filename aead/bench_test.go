package aead_test

import (
	"testing"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

var benchSizes = []struct {
	name string
	n    int
}{
	{"64B", 64},
	{"1KiB", 1 << 10},
	{"16KiB", 16 << 10},
	{"256KiB", 256 << 10},
	{"2MiB", 2 << 20},
}

// The benchmarks reuse one nonce, which is harmless here and keeps the
// random source out of the measurement. Every buffer is allocated before
// the loop, so they report 0 allocations per operation.

func BenchmarkSeal(b *testing.B) {
	for _, a := range aead.All() {
		b.Run(string(a.ID()), func(b *testing.B) {
			c := mustNew(b, a, pattern(a.KeySize(), 1))
			nonce := pattern(a.NonceSize(), 2)
			for _, size := range benchSizes {
				b.Run(size.name, func(b *testing.B) {
					msg := pattern(size.n, 3)
					dst := make([]byte, 0, size.n+a.Overhead())
					b.SetBytes(int64(size.n))
					b.ReportAllocs()
					var out []byte
					for b.Loop() {
						out = c.Seal(dst[:0], nonce, msg, nil)
					}
					if len(out) != size.n+a.Overhead() {
						b.Fatalf("Seal returned %d bytes, want %d", len(out), size.n+a.Overhead())
					}
				})
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, a := range aead.All() {
		b.Run(string(a.ID()), func(b *testing.B) {
			c := mustNew(b, a, pattern(a.KeySize(), 1))
			nonce := pattern(a.NonceSize(), 2)
			for _, size := range benchSizes {
				b.Run(size.name, func(b *testing.B) {
					sealed := c.Seal(nil, nonce, pattern(size.n, 3), nil)
					dst := make([]byte, 0, size.n)
					b.SetBytes(int64(size.n))
					b.ReportAllocs()
					var (
						out []byte
						err error
					)
					for b.Loop() {
						out, err = c.Open(dst[:0], nonce, sealed, nil)
					}
					if err != nil || len(out) != size.n {
						b.Fatalf("Open = %d bytes, %v; want %d bytes", len(out), err, size.n)
					}
				})
			}
		})
	}
}

// BenchmarkNew measures building a cipher from a key, the cost a caller
// pays per payload if it does not keep one cipher per key.
func BenchmarkNew(b *testing.B) {
	for _, a := range aead.All() {
		b.Run(string(a.ID()), func(b *testing.B) {
			key := pattern(a.KeySize(), 1)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.New(key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
