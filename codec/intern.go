package codec

import (
	"hash/maphash"
	"sync/atomic"
)

// Key IDs repeat across payloads, so decoding keeps the strings it has made
// and finds them again without allocating. The cache is a fixed table of
// slots indexed by a hash of the ID, each holding the last ID that landed
// there: lookups and stores take no lock and cost the same whatever the
// input, and payloads carrying random IDs can only evict entries, costing
// their victims one string allocation each, never growing the table.
const internSlots = 256

var (
	internSeed  = maphash.MakeSeed()
	internTable [internSlots]atomic.Pointer[string]
)

func intern(b []byte) string {
	slot := &internTable[maphash.Bytes(internSeed, b)%internSlots]
	if s := slot.Load(); s != nil && *s == string(b) {
		return *s
	}
	s := string(b)
	slot.Store(&s)
	return s
}
