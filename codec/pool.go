package codec

import "runtime"

// Buffers for the compressed paths, which need a scratch copy of the
// plaintext besides the output. They are kept in a fixed-size free list
// rather than a sync.Pool: a sync.Pool is emptied by every garbage
// collection, and with megabyte payloads collections are frequent enough
// that the pool would allocate on most calls. The list holds at most
// poolSlots buffers of at most maxPooled bytes, so it pins at most
// poolSlots × 4 MiB.
const maxPooled = 4 << 20

var poolSlots = 2 + 2*runtime.GOMAXPROCS(0)

var freeBufs = make(chan *[]byte, poolSlots)

// getBuf returns a buffer with length zero and capacity at least n.
func getBuf(n int) *[]byte {
	select {
	case bp := <-freeBufs:
		if cap(*bp) >= n {
			return bp
		}
		*bp = make([]byte, 0, n)
		return bp
	default:
		b := make([]byte, 0, n)
		return &b
	}
}

// putBuf clears the buffer's contents up to its length, which must cover
// every byte that held plaintext, and keeps it for reuse if there is room.
func putBuf(bp *[]byte) {
	clear(*bp)
	if cap(*bp) > maxPooled {
		return
	}
	*bp = (*bp)[:0]
	select {
	case freeBufs <- bp:
	default:
	}
}
