package codec

import (
	"sync"
	"sync/atomic"
)

// Header fields (algorithm, key ID) repeat across payloads, so decoding
// keeps the strings it has made and finds them again without allocating.
// The table is copied on write, so lookups take no lock, and it is bounded:
// when full it starts over, so that payloads carrying random key IDs cannot
// grow it without limit.
const maxInterned = 1024

var (
	internMu    sync.Mutex
	internTable atomic.Pointer[map[string]string]
)

func intern(b []byte) string {
	if m := internTable.Load(); m != nil {
		if s, ok := (*m)[string(b)]; ok {
			return s
		}
	}
	s := string(b)

	internMu.Lock()
	defer internMu.Unlock()
	old := internTable.Load()
	size := 1
	if old != nil && len(*old) < maxInterned {
		size += len(*old)
	}
	m := make(map[string]string, size)
	if old != nil && len(*old) < maxInterned {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[s] = s
	internTable.Store(&m)
	return s
}
