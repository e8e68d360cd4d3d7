package codec_test

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

var allocSizes = []int{64, 1 << 10, 16 << 10, 256 << 10, 2 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// jsonishPayload returns a payload of about n bytes of compressible JSON.
func jsonishPayload(n int) *commonpb.Payload {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"symbol":"ACME","qty":%d,"px":%d.25,"side":"buy"},`, i%97, 100+i%13)
	}
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain")},
		Data:     b.Bytes()[:n],
	}
}

// TestAllocationBudget holds Encode and Decode to at most four allocations
// per payload, and to bytes within the encoded size plus 1 KiB, at every
// size, with and without compression.
func TestAllocationBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	for _, alg := range aead.All() {
		for _, compress := range []bool{false, true} {
			for _, size := range allocSizes {
				name := fmt.Sprintf("%s/zstd=%v/%s", alg.ID(), compress, sizeName(size))
				t.Run(name, func(t *testing.T) {
					opts := []codec.Option{codec.WithMaxPayloadSize(4 << 20)}
					if compress {
						opts = append(opts, codec.WithCompression(0))
					}
					ring, _ := codec.NewKeyring(testKey(t, "k", alg.ID()))
					c, err := codec.New(ring, opts...)
					if err != nil {
						t.Fatal(err)
					}
					in := []*commonpb.Payload{jsonishPayload(size)}
					enc, err := c.Encode(in)
					if err != nil {
						t.Fatal(err)
					}
					encodedSize := len(enc[0].Data)

					checkBudget(t, "Encode", encodedSize, func() {
						if _, err := c.Encode(in); err != nil {
							t.Fatal(err)
						}
					})
					checkBudget(t, "Decode", proto.Size(in[0]), func() {
						if _, err := c.Decode(enc); err != nil {
							t.Fatal(err)
						}
					})
				})
			}
		}
	}
}

func checkBudget(t *testing.T, op string, size int, f func()) {
	t.Helper()
	if allocs := testing.AllocsPerRun(20, f); allocs > 4 {
		t.Errorf("%s: %.1f allocations per payload, want at most 4", op, allocs)
	}
	const runs = 20
	for range 10 {
		f() // cycle the free list until every buffer in it fits
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	// The runtime rounds every allocation up to a size class (a multiple
	// of 8 KiB above 32 KiB); the budget allows that rounding of the one
	// payload-sized buffer, which no allocator-level code can avoid.
	budget := uint64(cap(slices.Grow([]byte(nil), size))) + 1<<10
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > budget {
		t.Errorf("%s: %d bytes allocated per payload, want at most %d (payload %d rounded to its size class + 1 KiB)",
			op, per, budget, size)
	}
}
