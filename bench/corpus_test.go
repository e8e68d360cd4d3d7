package bench_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/bench"
)

func TestDataSizeAndShape(t *testing.T) {
	for _, kind := range bench.Kinds() {
		for _, size := range []int{0, 2, 31, 32, 33, 64, 100, 1 << 10, 16 << 10, 256 << 10} {
			d := bench.Data(kind, size)
			if len(d) != size {
				t.Errorf("len(Data(%s, %d)) = %d", kind, size, len(d))
			}
			if kind != bench.Random && size >= 2 && !json.Valid(d) {
				t.Errorf("Data(%s, %d) is not valid JSON: %.80q", kind, size, d)
			}
			if !bytes.Equal(d, bench.Data(kind, size)) {
				t.Errorf("Data(%s, %d) differs between calls", kind, size)
			}
		}
	}
}

// TestDataIsStable pins the corpus, so that results from different runs,
// machines and Go releases measured the same bytes. If the generator is
// changed on purpose, update the digests and say so in the commit.
func TestDataIsStable(t *testing.T) {
	for _, kind := range bench.Kinds() {
		sum := sha256.Sum256(bench.Data(kind, 4<<10))
		got := hex.EncodeToString(sum[:8])
		if want := corpusDigests[kind]; got != want {
			t.Errorf("Data(%s, 4KiB) digest = %s, want %s", kind, got, want)
		}
	}
}

// corpusDigests are the first 8 bytes of SHA-256 of Data(kind, 4 KiB).
var corpusDigests = map[bench.Kind]string{
	bench.JSON:   "34f763f2e6cb6f21",
	bench.Agent:  "3e685c966bdc1852",
	bench.Market: "5accbc2e9c8e7488",
	bench.Orders: "166a5aa76718074e",
	bench.Random: "3e11bd45f2150869",
}

func TestDataKindsDiffer(t *testing.T) {
	seen := map[string]bench.Kind{}
	for _, kind := range bench.Kinds() {
		d := string(bench.Data(kind, 1<<10))
		if other, dup := seen[d]; dup {
			t.Errorf("Data(%s) = Data(%s)", kind, other)
		}
		seen[d] = kind
	}
}

func TestPayloadEncoding(t *testing.T) {
	tests := []struct {
		name string
		kind bench.Kind
		want string
	}{
		{"json", bench.JSON, "json/plain"},
		{"agent", bench.Agent, "json/plain"},
		{"random", bench.Random, "binary/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := bench.Payload(tt.kind, 64)
			if got := string(p.Metadata["encoding"]); got != tt.want {
				t.Errorf("Payload(%s).Metadata[encoding] = %q, want %q", tt.kind, got, tt.want)
			}
		})
	}
}

// TestCompressionRatio checks that the corpus behaves as its names say:
// JSON compresses well under both codecs, random bytes not at all.
func TestCompressionRatio(t *testing.T) {
	gcm, _ := aead.Lookup(aead.AES256GCM)
	zstd := newCodec(t, config{alg: gcm, zstd: true})
	zlib := bench.NewZlibSample(newSample(t))
	tests := []struct {
		name     string
		kind     bench.Kind
		min, max float64
	}{
		{"json", bench.JSON, 2, 20},
		{"agent", bench.Agent, 2, 20},
		{"market", bench.Market, 2, 20},
		{"orders", bench.Orders, 2, 20},
		{"random", bench.Random, 0.9, 1.001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				name string
				r    func() (float64, error)
			}{
				{"zstd", func() (float64, error) { return bench.CompressionRatio(zstd, tt.kind, 64<<10) }},
				{"zlib", func() (float64, error) { return bench.CompressionRatio(zlib, tt.kind, 64<<10) }},
			} {
				r, err := c.r()
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if r < tt.min || r > tt.max {
					t.Errorf("%s ratio on %s = %.2f, want %.2f to %.2f", c.name, tt.kind, r, tt.min, tt.max)
				}
			}
		})
	}
}
