package codec

import "sync"

// maxPooled bounds the buffers kept for reuse, so that one huge payload does
// not pin its buffer in memory for the life of the process.
const maxPooled = 4 << 20

var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// getBuf returns a pooled buffer with length zero and capacity at least n.
func getBuf(n int) *[]byte {
	bp := bufPool.Get().(*[]byte)
	if cap(*bp) < n {
		*bp = make([]byte, 0, n)
	}
	return bp
}

// putBuf clears the buffer's contents up to its length, which must cover
// every byte that held plaintext, and pools it.
func putBuf(bp *[]byte) {
	clear(*bp)
	if cap(*bp) > maxPooled {
		return
	}
	*bp = (*bp)[:0]
	bufPool.Put(bp)
}
