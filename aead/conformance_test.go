package aead_test

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// The conformance suite runs every check below over every backend in
// [aead.All]. A backend added to the package is covered without any change
// here.
var conformanceTests = []struct {
	name string
	run  func(t *testing.T, f fixture)
}{
	{"RoundTrip", testRoundTrip},
	{"InputsUnmodified", testInputsUnmodified},
	{"EveryBitFlip", testBitFlips},
	{"EveryTruncation", testTruncations},
	{"WrongKey", testWrongKey},
	{"WrongNonce", testWrongNonce},
	{"WrongAssociatedData", testWrongAssociatedData},
	{"AppendsToDst", testAppendsToDst},
	{"InPlace", testInPlace},
	{"FailedOpenReleasesNothing", testFailedOpen},
	{"KeySizeError", testKeySizeError},
	{"KeyIsCopied", testKeyIsCopied},
	{"Concurrent", testConcurrent},
}

func TestConformance(t *testing.T) {
	for _, a := range aead.All() {
		t.Run(string(a.ID()), func(t *testing.T) {
			t.Parallel()
			for _, tc := range conformanceTests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, newFixture(t, a)) })
			}
		})
	}
}

// roundTripSizes straddle the 16-byte AES and Poly1305 blocks, the 64-byte
// ChaCha20 block and the wider strides of the assembly implementations.
var roundTripSizes = []int{
	0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257,
	1023, 1024, 1025, 4096, 16<<10 + 5, 1 << 20, 1<<20 + 13,
}

// smallSizes keep the exhaustive checks (every bit, every length) cheap.
var smallSizes = []int{0, 1, 15, 16, 17, 64, 65}

// fixture is one backend with a fixed key, nonce and associated data.
type fixture struct {
	alg   aead.Algorithm
	c     cipher.AEAD
	key   []byte
	nonce []byte
	ad    []byte
}

func newFixture(t *testing.T, a aead.Algorithm) fixture {
	t.Helper()
	f := fixture{
		alg:   a,
		key:   pattern(a.KeySize(), 1),
		nonce: pattern(a.NonceSize(), 2),
		ad:    []byte("temporal-encryption/test\x00header"),
	}
	f.c = mustNew(t, a, f.key)
	return f
}

func mustNew(t testing.TB, a aead.Algorithm, key []byte) cipher.AEAD {
	t.Helper()
	c, err := a.New(key)
	if err != nil {
		t.Fatalf("%s: New(%d-byte key) = %v", a.ID(), len(key), err)
	}
	return c
}

// pattern returns n deterministic, mostly non-zero bytes.
func pattern(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), 0x5e, 0xed})
	_, _ = r.Read(b)
	return b
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in test table: %v", err)
	}
	return b
}

// seal is f.c.Seal into a fresh slice.
func (f fixture) seal(msg []byte) []byte {
	return f.c.Seal(nil, f.nonce, msg, f.ad)
}

// mustReject fails the test unless opening sealed under nonce and ad fails
// with no output.
func (f fixture) mustReject(t *testing.T, what string, nonce, sealed, ad []byte) {
	t.Helper()
	out, err := f.c.Open(nil, nonce, sealed, ad)
	if err == nil || out != nil {
		t.Fatalf("Open(%s) = %d bytes, %v; want nil, error", what, len(out), err)
	}
}

func testRoundTrip(t *testing.T, f fixture) {
	for _, n := range roundTripSizes {
		msg := pattern(n, uint64(n))

		sealed := f.seal(msg)
		if len(sealed) != n+f.alg.Overhead() {
			t.Fatalf("Seal(%d bytes) = %d bytes, want %d", n, len(sealed), n+f.alg.Overhead())
		}
		if n >= 16 && bytes.Equal(sealed[:n], msg) {
			t.Fatalf("Seal(%d bytes) left the plaintext in clear", n)
		}
		got, err := f.c.Open(nil, f.nonce, sealed, f.ad)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("Open(Seal(%d bytes)) = %d bytes, %v; want the plaintext", n, len(got), err)
		}
	}

	// Empty and nil associated data are the same input.
	sealed := f.c.Seal(nil, f.nonce, []byte("x"), nil)
	if _, err := f.c.Open(nil, f.nonce, sealed, []byte{}); err != nil {
		t.Fatalf("Open with empty associated data of a message sealed with nil = %v", err)
	}
}

func testInputsUnmodified(t *testing.T, f fixture) {
	for _, n := range []int{0, 1, 17, 1024} {
		msg := pattern(n, 3)
		msg0, nonce0, ad0 := clone(msg), clone(f.nonce), clone(f.ad)

		sealed := f.seal(msg)
		sealed0 := clone(sealed)
		if _, err := f.c.Open(nil, f.nonce, sealed, f.ad); err != nil {
			t.Fatalf("Open(Seal(%d bytes)) = %v", n, err)
		}
		sealed[0] ^= 1
		_, _ = f.c.Open(nil, f.nonce, sealed, f.ad) // fails; must not write either
		sealed[0] ^= 1

		for _, in := range []struct {
			name      string
			got, want []byte
		}{
			{"plaintext", msg, msg0},
			{"nonce", f.nonce, nonce0},
			{"associated data", f.ad, ad0},
			{"ciphertext", sealed, sealed0},
		} {
			if !bytes.Equal(in.got, in.want) {
				t.Errorf("%d-byte message: Seal or Open modified the %s", n, in.name)
			}
		}
	}
}

func testBitFlips(t *testing.T, f fixture) {
	for _, n := range smallSizes {
		sealed := f.seal(pattern(n, 4))
		for i := range len(sealed) * 8 {
			sealed[i/8] ^= 1 << (i % 8)
			what := fmt.Sprintf("%d-byte message, bit %d flipped", n, i)
			f.mustReject(t, what, f.nonce, sealed, f.ad)
			sealed[i/8] ^= 1 << (i % 8)
		}
	}
}

func testTruncations(t *testing.T, f fixture) {
	for _, n := range smallSizes {
		sealed := f.seal(pattern(n, 5))
		for i := range len(sealed) {
			f.mustReject(t, fmt.Sprintf("%d-byte message cut to its first %d bytes", n, i),
				f.nonce, sealed[:i], f.ad)
			f.mustReject(t, fmt.Sprintf("%d-byte message without its first %d bytes", n, i+1),
				f.nonce, sealed[i+1:], f.ad)
		}
		f.mustReject(t, fmt.Sprintf("%d-byte message plus a byte", n),
			f.nonce, append(clone(sealed), 0), f.ad)
	}
}

func testWrongKey(t *testing.T, f fixture) {
	sealed := f.seal(pattern(64, 6))
	for i := range len(f.key) * 8 {
		key := clone(f.key)
		key[i/8] ^= 1 << (i % 8)
		c := mustNew(t, f.alg, key)
		if out, err := c.Open(nil, f.nonce, sealed, f.ad); err == nil || out != nil {
			t.Fatalf("Open under the key with bit %d flipped = %d bytes, %v; want error",
				i, len(out), err)
		}
	}
}

func testWrongNonce(t *testing.T, f fixture) {
	sealed := f.seal(pattern(64, 7))
	for i := range len(f.nonce) * 8 {
		nonce := clone(f.nonce)
		nonce[i/8] ^= 1 << (i % 8)
		f.mustReject(t, fmt.Sprintf("nonce bit %d flipped", i), nonce, sealed, f.ad)
	}
	f.mustReject(t, "all-zero nonce", make([]byte, len(f.nonce)), sealed, f.ad)
}

func testWrongAssociatedData(t *testing.T, f fixture) {
	sealed := f.seal(pattern(64, 8))
	for i := range len(f.ad) * 8 {
		ad := clone(f.ad)
		ad[i/8] ^= 1 << (i % 8)
		f.mustReject(t, fmt.Sprintf("associated data bit %d flipped", i), f.nonce, sealed, ad)
	}
	for i := range len(f.ad) {
		what := fmt.Sprintf("associated data cut to %d bytes", i)
		f.mustReject(t, what, f.nonce, sealed, f.ad[:i])
	}
	f.mustReject(t, "associated data plus a zero byte", f.nonce, sealed, append(clone(f.ad), 0))

	unbound := f.c.Seal(nil, f.nonce, []byte("payload"), nil)
	f.mustReject(t, "associated data added after sealing", f.nonce, unbound, f.ad)
}

func testAppendsToDst(t *testing.T, f fixture) {
	for _, n := range []int{0, 1, 17, 1024} {
		msg := pattern(n, 9)
		want := f.seal(msg)
		prefix := []byte("prefix:")

		// No spare capacity: Seal and Open must grow dst and keep its prefix.
		got := f.c.Seal(clone(prefix), f.nonce, msg, f.ad)
		if !bytes.Equal(got, append(clone(prefix), want...)) {
			t.Fatalf("Seal(prefix, %d bytes) did not return prefix ‖ Seal(nil)", n)
		}
		opened, err := f.c.Open(clone(prefix), f.nonce, want, f.ad)
		if err != nil || !bytes.Equal(opened, append(clone(prefix), msg...)) {
			t.Fatalf("Open(prefix, %d bytes) = %v; want prefix ‖ plaintext", n, err)
		}

		// Spare capacity: no new array, and nothing written past the result.
		const guard = 0xA5
		buf := bytes.Repeat([]byte{guard}, len(prefix)+len(want)+32)
		copy(buf, prefix)
		got = f.c.Seal(buf[:len(prefix)], f.nonce, msg, f.ad)
		if &got[0] != &buf[0] {
			t.Fatalf("Seal(dst with room, %d bytes) allocated a new array", n)
		}
		if !bytes.Equal(got[len(prefix):], want) || !allBytes(buf[len(got):], guard) {
			t.Fatalf("Seal(dst with room, %d bytes) wrote the wrong bytes or past its result", n)
		}

		// The codec's layout: the nonce is dst and Seal appends after it.
		got = f.c.Seal(clone(f.nonce), f.nonce, msg, f.ad)
		if !bytes.Equal(got, append(clone(f.nonce), want...)) {
			t.Fatalf("Seal(nonce, nonce, %d bytes) did not return nonce ‖ Seal(nil)", n)
		}
	}
}

func testInPlace(t *testing.T, f fixture) {
	for _, n := range []int{0, 1, 16, 17, 1024, 1 << 20} {
		msg := pattern(n, 10)
		want := f.seal(msg)

		buf := make([]byte, n, n+f.alg.Overhead())
		copy(buf, msg)
		sealed := f.c.Seal(buf[:0], f.nonce, buf, f.ad)
		if !bytes.Equal(sealed, want) || &sealed[0] != &buf[:1][0] {
			t.Fatalf("Seal(p[:0], p) for %d bytes did not seal in place", n)
		}

		opened, err := f.c.Open(sealed[:0], f.nonce, sealed, f.ad)
		if err != nil || !bytes.Equal(opened, msg) {
			t.Fatalf("Open(c[:0], c) for %d bytes = %v; want the plaintext", n, err)
		}
		if n > 0 && &opened[0] != &buf[0] {
			t.Fatalf("Open(c[:0], c) for %d bytes did not open in place", n)
		}
	}
}

// testFailedOpen checks that a forged ciphertext releases no plaintext,
// not even into the spare capacity of dst, where a caller could find it.
func testFailedOpen(t *testing.T, f fixture) {
	const untouched = 0xAA
	for _, n := range []int{1, 17, 64, 1024} {
		msg := pattern(n, 11)
		sealed := f.seal(msg)
		sealed[len(sealed)-1] ^= 1

		dst := bytes.Repeat([]byte{untouched}, n)
		out, err := f.c.Open(dst[:0], f.nonce, sealed, f.ad)
		if err == nil || out != nil {
			t.Fatalf("Open(forged %d bytes) = %d bytes, %v; want nil, error", n, len(out), err)
		}
		if !allBytes(dst, 0) && !allBytes(dst, untouched) {
			t.Fatalf("Open(forged %d bytes) left output in dst's spare capacity", n)
		}

		// Opening in place may overwrite the ciphertext, but only with zeros.
		forged := clone(sealed)
		if _, err := f.c.Open(forged[:0], f.nonce, forged, f.ad); err == nil {
			t.Fatalf("Open(forged %d bytes) in place succeeded", n)
		}
		if !allBytes(forged[:n], 0) && !bytes.Equal(forged, sealed) {
			t.Fatalf("Open(forged %d bytes) in place left output in the buffer", n)
		}
	}
}

func testKeySizeError(t *testing.T, f fixture) {
	size := f.alg.KeySize()
	for _, n := range []int{0, 1, size - 1, size + 1, 16, 24, 32, 64} {
		if n == size {
			continue
		}
		key := bytes.Repeat([]byte{0xC3}, n)
		for _, build := range []struct {
			name string
			new  func() (cipher.AEAD, error)
		}{
			{"Algorithm.New", func() (cipher.AEAD, error) { return f.alg.New(key) }},
			{"aead.New", func() (cipher.AEAD, error) { return aead.New(f.alg.ID(), key) }},
		} {
			c, err := build.new()
			var kse *aead.KeySizeError
			if c != nil || !errors.As(err, &kse) {
				t.Fatalf("%s(%d-byte key) = %v, %v; want nil, *KeySizeError", build.name, n, c, err)
			}
			if kse.Algorithm != f.alg.ID() || kse.Got != n || kse.Want != size {
				t.Errorf("%s(%d-byte key) = %+v; want {%s %d %d}",
					build.name, n, *kse, f.alg.ID(), n, size)
			}
			if n > 0 && strings.Contains(strings.ToLower(err.Error()), "c3c3") {
				t.Errorf("%s(%d-byte key) error %q shows key bytes", build.name, n, err)
			}
		}
	}
}

func testKeyIsCopied(t *testing.T, f fixture) {
	key := clone(f.key)
	c := mustNew(t, f.alg, key)
	clear(key)

	got, want := c.Seal(nil, f.nonce, []byte("m"), f.ad), f.seal([]byte("m"))
	if !bytes.Equal(got, want) {
		t.Fatalf("clearing the caller's key slice after New changed the cipher")
	}
}

func testConcurrent(t *testing.T, f fixture) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			msg := pattern(100+g, uint64(g))
			buf := make([]byte, 0, len(msg)+f.alg.Overhead())
			for range 50 {
				sealed := f.c.Seal(buf[:0], f.nonce, msg, f.ad)
				got, err := f.c.Open(nil, f.nonce, sealed, f.ad)
				if err != nil || !bytes.Equal(got, msg) {
					t.Errorf("goroutine %d: Open(Seal(m)) = %v; want m", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestCrossAlgorithm checks that no algorithm opens another's ciphertext,
// even when the two share a nonce size and the key bytes overlap.
func TestCrossAlgorithm(t *testing.T) {
	material := pattern(32, 12)
	nonce := pattern(24, 13)
	msg := []byte("cross-algorithm check")
	for _, a := range aead.All() {
		sealed := mustNew(t, a, material[:a.KeySize()]).Seal(nil, nonce[:a.NonceSize()], msg, nil)
		for _, b := range aead.All() {
			if b.ID() == a.ID() || b.NonceSize() != a.NonceSize() {
				continue
			}
			c := mustNew(t, b, material[:b.KeySize()])
			if _, err := c.Open(nil, nonce[:b.NonceSize()], sealed, nil); err == nil {
				t.Errorf("%s opened a message sealed with %s", b.ID(), a.ID())
			}
		}
	}
}

func TestAlgorithms(t *testing.T) {
	tests := []struct {
		id                   aead.ID
		key, nonce, overhead int
		maxMessages          uint64
	}{
		{aead.AES256GCM, 32, 12, 16, 1 << 32},
		{aead.AES128GCM, 16, 12, 16, 1 << 32},
		{aead.ChaCha20Poly1305, 32, 12, 16, 1 << 32},
		{aead.XChaCha20Poly1305, 32, 24, 16, math.MaxUint64},
	}
	all := aead.All()
	if len(all) != len(tests) {
		t.Fatalf("All() has %d algorithms, want %d", len(all), len(tests))
	}
	for i, tc := range tests {
		t.Run(string(tc.id), func(t *testing.T) {
			a := all[i]
			if a.ID() != tc.id {
				t.Fatalf("All()[%d] = %s, want %s", i, a.ID(), tc.id)
			}
			if a.KeySize() != tc.key || a.NonceSize() != tc.nonce || a.Overhead() != tc.overhead {
				t.Errorf("%s: key %d, nonce %d, overhead %d; want %d, %d, %d", a.ID(),
					a.KeySize(), a.NonceSize(), a.Overhead(), tc.key, tc.nonce, tc.overhead)
			}
			if got := a.MaxMessages(); got != tc.maxMessages {
				t.Errorf("%s: MaxMessages() = %d, want %d", a.ID(), got, tc.maxMessages)
			}
			c := mustNew(t, a, make([]byte, a.KeySize()))
			if c.NonceSize() != a.NonceSize() || c.Overhead() != a.Overhead() {
				t.Errorf("%s: cipher has nonce %d, overhead %d; Algorithm says %d, %d", a.ID(),
					c.NonceSize(), c.Overhead(), a.NonceSize(), a.Overhead())
			}
			got, err := aead.Lookup(tc.id)
			if err != nil || got.ID() != tc.id || got.KeySize() != tc.key {
				t.Errorf("Lookup(%q) = %s, %v; want %s", tc.id, got.ID(), err, tc.id)
			}
		})
	}

	all[0] = aead.Algorithm{}
	if aead.All()[0].ID() != tests[0].id {
		t.Errorf("changing the slice All returned changed the next call's result")
	}
	if _, err := aead.Lookup(aead.Default()); err != nil {
		t.Errorf("Default() = %q, which Lookup rejects: %v", aead.Default(), err)
	}
}

func TestLookupUnknown(t *testing.T) {
	tests := []struct {
		name string
		id   aead.ID
	}{
		{"empty", ""},
		{"none", "none"},
		{"upper case", "AES-256-GCM"},
		{"leading space", " aes-256-gcm"},
		{"trailing space", "aes-256-gcm "},
		{"trailing NUL", "aes-256-gcm\x00"},
		{"AES-192 not offered", "aes-192-gcm"},
		{"no hyphens", "chacha20poly1305"},
		{"long", aead.ID(strings.Repeat("x", 10000))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := aead.Lookup(tc.id)
			if !errors.Is(err, aead.ErrUnknownAlgorithm) || a.ID() != "" {
				t.Fatalf("Lookup(%.20q) = %q, %v; want ErrUnknownAlgorithm", tc.id, a.ID(), err)
			}
			if len(err.Error()) > 120 {
				t.Errorf("Lookup(%.20q) error is %d bytes long; want it bounded",
					tc.id, len(err.Error()))
			}
			c, err := aead.New(tc.id, make([]byte, 32))
			if c != nil || !errors.Is(err, aead.ErrUnknownAlgorithm) {
				t.Errorf("New(%.20q) = %v, %v; want nil, ErrUnknownAlgorithm", tc.id, c, err)
			}
		})
	}

	var zero aead.Algorithm
	if c, err := zero.New(make([]byte, 32)); c != nil || !errors.Is(err, aead.ErrUnknownAlgorithm) {
		t.Errorf("Algorithm{}.New = %v, %v; want nil, ErrUnknownAlgorithm", c, err)
	}
	if got := zero.MaxMessages(); got != 0 {
		t.Errorf("Algorithm{}.MaxMessages() = %d, want 0", got)
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func allBytes(b []byte, v byte) bool {
	for _, x := range b {
		if x != v {
			return false
		}
	}
	return true
}
