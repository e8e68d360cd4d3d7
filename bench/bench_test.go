package bench_test

import (
	"bytes"
	"crypto/cipher"
	"fmt"
	"os"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/bench"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

// sizes are the payload data sizes every group measures. 2 MiB is
// Temporal's default payload limit.
var sizes = []struct {
	name string
	n    int
}{
	{"64B", 64},
	{"1KiB", 1 << 10},
	{"16KiB", 16 << 10},
	{"256KiB", 256 << 10},
	{"2MiB", 2 << 20},
}

// maxPayload lets a 2 MiB payload plus the envelope through Encode.
const maxPayload = 4 << 20

// keyMaterial is a fixed key, so runs are repeatable; its value is
// irrelevant to speed.
func keyMaterial(n int) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i*7 + 1)
	}
	return k
}

// config is one way of running the codec.
type config struct {
	alg  aead.Algorithm
	zstd bool
	data bench.Kind
}

func (c config) name() string {
	comp := "none"
	if c.zstd {
		comp = "zstd"
	}
	return fmt.Sprintf("%s/%s/%s", c.alg.ID(), comp, c.data)
}

// configs are the codec configurations Encode and Decode measure: every
// algorithm on JSON, with and without zstd, and AES-256-GCM on random
// bytes, where compression has to give up.
func configs() []config {
	var cs []config
	for _, a := range aead.All() {
		for _, z := range []bool{false, true} {
			cs = append(cs, config{a, z, bench.JSON})
		}
	}
	gcm, _ := aead.Lookup(aead.AES256GCM)
	return append(cs, config{gcm, false, bench.Random}, config{gcm, true, bench.Random})
}

// fixtures holds codecs and payloads, built on first use and shared by
// every benchmark, so that a group pays for generating its corpus once.
var fixtures = struct {
	sync.Mutex
	codecs   map[string]*codec.Codec
	payloads map[string]*commonpb.Payload
}{codecs: map[string]*codec.Codec{}, payloads: map[string]*commonpb.Payload{}}

func newCodec(tb testing.TB, cfg config) *codec.Codec {
	tb.Helper()
	c, err := sharedCodec(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// sharedCodec returns the one codec for cfg's algorithm and compression.
func sharedCodec(cfg config) (*codec.Codec, error) {
	fixtures.Lock()
	defer fixtures.Unlock()
	key := fmt.Sprintf("%s/%v", cfg.alg.ID(), cfg.zstd) // not the data
	if c, ok := fixtures.codecs[key]; ok {
		return c, nil
	}
	k, err := codec.NewKey("bench-key", cfg.alg.ID(), keyMaterial(cfg.alg.KeySize()))
	if err != nil {
		return nil, err
	}
	ring, err := codec.NewKeyring(k)
	if err != nil {
		return nil, err
	}
	opts := []codec.Option{codec.WithMaxPayloadSize(maxPayload)}
	if cfg.zstd {
		opts = append(opts, codec.WithCompression(0))
	}
	c, err := codec.New(ring, opts...)
	if err != nil {
		return nil, err
	}
	fixtures.codecs[key] = c
	return c, nil
}

// payload returns the corpus payload of kind and size. Callers must not
// modify it.
func payload(kind bench.Kind, size int) *commonpb.Payload {
	fixtures.Lock()
	defer fixtures.Unlock()
	key := fmt.Sprintf("%s/%d", kind, size)
	p, ok := fixtures.payloads[key]
	if !ok {
		p = bench.Payload(kind, size)
		fixtures.payloads[key] = p
	}
	return p
}

func newSample(tb testing.TB) *bench.SampleCodec {
	tb.Helper()
	c, err := bench.NewSampleCodec("bench-key", keyMaterial(32))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func newAEAD(tb testing.TB, a aead.Algorithm) cipher.AEAD {
	tb.Helper()
	c, err := a.New(keyMaterial(a.KeySize()))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestMain warms the codec's zstd encoder and decoder before anything runs.
// Both are built once per process and size their concurrency from
// GOMAXPROCS at that moment; under -cpu 1,2 a lazy first use would happen
// with one CPU and cap the two-CPU runs.
func TestMain(m *testing.M) {
	gcm, _ := aead.Lookup(aead.AES256GCM)
	c, err := sharedCodec(config{alg: gcm, zstd: true})
	if err == nil {
		var enc []*commonpb.Payload
		enc, err = c.Encode([]*commonpb.Payload{bench.Payload(bench.JSON, 4<<10)})
		if err == nil {
			_, err = c.Decode(enc)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: warming the codec: %v\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

var announced sync.Map

// progress tells a person watching a long run which group has started. It
// writes to stderr, so that the results on stdout stay clean for
// benchstat.
func progress(b *testing.B, what string) {
	name := b.Name()
	if _, done := announced.LoadOrStore(name, true); !done {
		fmt.Fprintf(os.Stderr, "bench: running %s: %s\n", name, what)
	}
}

// The limit: what a bare AEAD and a memory copy do with the same bytes.

func BenchmarkSeal(b *testing.B) {
	progress(b, "cipher.AEAD Seal, the limit for Encode")
	for _, a := range aead.All() {
		c := newAEAD(b, a)
		nonce := make([]byte, a.NonceSize())
		for _, s := range sizes {
			b.Run(fmt.Sprintf("%s/%s", a.ID(), s.name), func(b *testing.B) {
				plain := payload(bench.JSON, s.n).Data
				dst := make([]byte, 0, s.n+a.Overhead())
				var out []byte
				b.ReportAllocs()
				b.SetBytes(int64(s.n))
				for b.Loop() {
					out = c.Seal(dst[:0], nonce, plain, nil)
				}
				if len(out) != s.n+a.Overhead() {
					b.Fatalf("Seal wrote %d bytes, want %d", len(out), s.n+a.Overhead())
				}
			})
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	progress(b, "cipher.AEAD Open, the limit for Decode")
	for _, a := range aead.All() {
		c := newAEAD(b, a)
		nonce := make([]byte, a.NonceSize())
		for _, s := range sizes {
			b.Run(fmt.Sprintf("%s/%s", a.ID(), s.name), func(b *testing.B) {
				plain := payload(bench.JSON, s.n).Data
				sealed := c.Seal(nil, nonce, plain, nil)
				dst := make([]byte, 0, s.n)
				var out []byte
				var err error
				b.ReportAllocs()
				b.SetBytes(int64(s.n))
				for b.Loop() {
					if out, err = c.Open(dst[:0], nonce, sealed, nil); err != nil {
						b.Fatal(err)
					}
				}
				if !bytes.Equal(out, plain) {
					b.Fatal("Open did not return the plaintext")
				}
			})
		}
	}
}

// BenchmarkSealNew and BenchmarkOpenNew let the AEAD allocate its output,
// as any codec that returns new payloads must: the limit for Encode and
// Decode once the cost of fresh memory is counted. AES-256-GCM only.

func BenchmarkSealNew(b *testing.B) {
	progress(b, "cipher.AEAD Seal into a new buffer")
	a, _ := aead.Lookup(aead.AES256GCM)
	c := newAEAD(b, a)
	nonce := make([]byte, a.NonceSize())
	for _, s := range sizes {
		b.Run(fmt.Sprintf("%s/%s", a.ID(), s.name), func(b *testing.B) {
			plain := payload(bench.JSON, s.n).Data
			var out []byte
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				out = c.Seal(nil, nonce, plain, nil)
			}
			if len(out) != s.n+a.Overhead() {
				b.Fatalf("Seal wrote %d bytes, want %d", len(out), s.n+a.Overhead())
			}
		})
	}
}

func BenchmarkOpenNew(b *testing.B) {
	progress(b, "cipher.AEAD Open into a new buffer")
	a, _ := aead.Lookup(aead.AES256GCM)
	c := newAEAD(b, a)
	nonce := make([]byte, a.NonceSize())
	for _, s := range sizes {
		b.Run(fmt.Sprintf("%s/%s", a.ID(), s.name), func(b *testing.B) {
			plain := payload(bench.JSON, s.n).Data
			sealed := c.Seal(nil, nonce, plain, nil)
			var out []byte
			var err error
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				if out, err = c.Open(nil, nonce, sealed, nil); err != nil {
					b.Fatal(err)
				}
			}
			if !bytes.Equal(out, plain) {
				b.Fatal("Open did not return the plaintext")
			}
		})
	}
}

func BenchmarkCopy(b *testing.B) {
	progress(b, "copy, the cost of touching every byte once")
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			src := payload(bench.JSON, s.n).Data
			dst := make([]byte, s.n)
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				copy(dst, src)
			}
			if dst[s.n-1] != src[s.n-1] {
				b.Fatal("copy lost bytes")
			}
		})
	}
}

// Our codec, one payload per call, as the SDK calls it for most payloads.

func BenchmarkEncode(b *testing.B) {
	progress(b, "codec.Codec.Encode per algorithm, compression, data and size")
	for _, cfg := range configs() {
		for _, s := range sizes {
			b.Run(cfg.name()+"/"+s.name, func(b *testing.B) {
				benchEncode(b, newCodec(b, cfg), cfg.data, s.n)
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	progress(b, "codec.Codec.Decode per algorithm, compression, data and size")
	for _, cfg := range configs() {
		for _, s := range sizes {
			b.Run(cfg.name()+"/"+s.name, func(b *testing.B) {
				benchDecode(b, newCodec(b, cfg), cfg.data, s.n)
			})
		}
	}
}

// Baselines: what users would pick instead, both AES-256-GCM.

func BenchmarkSampleEncode(b *testing.B) {
	progress(b, "the sample-style codec, alone and after the SDK's zlib codec")
	for _, comp := range []string{"none", "zlib"} {
		for _, s := range sizes {
			b.Run(fmt.Sprintf("%s/%s/%s", comp, bench.JSON, s.name), func(b *testing.B) {
				benchEncode(b, baseline(b, comp), bench.JSON, s.n)
			})
		}
	}
}

func BenchmarkSampleDecode(b *testing.B) {
	progress(b, "the sample-style codec, alone and after the SDK's zlib codec")
	for _, comp := range []string{"none", "zlib"} {
		for _, s := range sizes {
			b.Run(fmt.Sprintf("%s/%s/%s", comp, bench.JSON, s.name), func(b *testing.B) {
				benchDecode(b, baseline(b, comp), bench.JSON, s.n)
			})
		}
	}
}

func baseline(b *testing.B, comp string) converter.PayloadCodec {
	if comp == "zlib" {
		return bench.NewZlibSample(newSample(b))
	}
	return newSample(b)
}

func benchEncode(b *testing.B, c converter.PayloadCodec, kind bench.Kind, size int) {
	in := []*commonpb.Payload{payload(kind, size)}
	var out []*commonpb.Payload
	var err error
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		if out, err = c.Encode(in); err != nil {
			b.Fatal(err)
		}
	}
	checkRoundTrip(b, c, in, out)
}

func benchDecode(b *testing.B, c converter.PayloadCodec, kind bench.Kind, size int) {
	in := []*commonpb.Payload{payload(kind, size)}
	enc, err := c.Encode(in)
	if err != nil {
		b.Fatal(err)
	}
	var out []*commonpb.Payload
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		if out, err = c.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
	if len(out) != 1 || !bytes.Equal(out[0].GetData(), in[0].Data) {
		b.Fatal("Decode did not return the original data")
	}
}

// checkRoundTrip decodes the last output of an encode benchmark once.
func checkRoundTrip(tb testing.TB, c converter.PayloadCodec, in, enc []*commonpb.Payload) {
	tb.Helper()
	if len(enc) != 1 || bytes.Equal(enc[0].GetData(), in[0].Data) {
		tb.Fatal("Encode returned no payload, or the data in clear")
	}
	out, err := c.Decode(enc)
	if err != nil {
		tb.Fatal(err)
	}
	if len(out) != 1 || !bytes.Equal(out[0].GetData(), in[0].Data) {
		tb.Fatal("Decode(Encode(p)) lost the data")
	}
}

// Parallel: many goroutines sharing one codec, as a worker's task slots do.
// Run with -cpu 1,2 and compare the two.

var parallelSizes = []int{1, 3} // indexes into sizes: 1 KiB and 256 KiB

func BenchmarkParallelEncode(b *testing.B) {
	progress(b, "Encode under b.RunParallel")
	benchParallel(b, func(c *codec.Codec, in []*commonpb.Payload) error {
		_, err := c.Encode(in)
		return err
	})
}

func BenchmarkParallelDecode(b *testing.B) {
	progress(b, "Decode under b.RunParallel")
	benchParallel(b, nil)
}

// benchParallel runs encode, or Decode when encode is nil, from every
// goroutine RunParallel starts.
func benchParallel(b *testing.B, encode func(*codec.Codec, []*commonpb.Payload) error) {
	gcm, _ := aead.Lookup(aead.AES256GCM)
	for _, z := range []bool{false, true} {
		cfg := config{gcm, z, bench.JSON}
		for _, i := range parallelSizes {
			s := sizes[i]
			b.Run(cfg.name()+"/"+s.name, func(b *testing.B) {
				c := newCodec(b, cfg)
				in := []*commonpb.Payload{payload(cfg.data, s.n)}
				op := func() error { return encode(c, in) }
				if encode == nil {
					enc, err := c.Encode(in)
					if err != nil {
						b.Fatal(err)
					}
					op = func() error { _, err := c.Decode(enc); return err }
				}
				b.ReportAllocs()
				b.SetBytes(int64(s.n))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := op(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
