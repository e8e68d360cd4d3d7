package aead_test

import (
	"testing"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// TestSealOpenDoNotAllocate holds every backend to the allocation budget
// the codec relies on: with room in dst, Seal and Open allocate nothing.
func TestSealOpenDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, a := range aead.All() {
		t.Run(string(a.ID()), func(t *testing.T) {
			f := newFixture(t, a)
			msg := pattern(4096, 14)
			sealed := make([]byte, 0, len(msg)+a.Overhead())
			opened := make([]byte, 0, len(msg))

			var err error
			if n := testing.AllocsPerRun(100, func() {
				sealed = f.c.Seal(sealed[:0], f.nonce, msg, f.ad)
			}); n != 0 {
				t.Errorf("Seal into a buffer with room: %v allocations, want 0", n)
			}
			if n := testing.AllocsPerRun(100, func() {
				opened, err = f.c.Open(opened[:0], f.nonce, sealed, f.ad)
			}); n != 0 || err != nil {
				t.Errorf("Open into a buffer with room: %v allocations, %v; want 0, nil", n, err)
			}
		})
	}
}
