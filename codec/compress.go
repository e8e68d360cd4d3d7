package codec

import (
	"errors"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/temporal-encryption/temporal-encryption/codec/internal/envelope"
)

const compressionZstd = envelope.CompressionZstd

var errFrame = errors.New("codec: malformed compressed frame")

// zstd encoders and decoders are safe for concurrent use through EncodeAll
// and DecodeAll, start no goroutines for them, and keep their own pools of
// per-call state, so one of each serves every codec in the process.
var (
	encoderOnce sync.Once
	encoder     *zstd.Encoder
	encoderErr  error

	decoderOnce sync.Once
	decoder     *zstd.Decoder
	decoderErr  error
)

func zstdEncoder() (*zstd.Encoder, error) {
	encoderOnce.Do(func() {
		encoder, encoderErr = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithEncoderCRC(true),
			zstd.WithLowerEncoderMem(true),
			// Single-segment frames always declare their content size,
			// which decompress requires; without this the encoder
			// leaves it out of frames under 1 KiB.
			zstd.WithSingleSegment(true),
		)
	})
	return encoder, encoderErr
}

func zstdDecoder() (*zstd.Decoder, error) {
	decoderOnce.Do(func() {
		decoder, decoderErr = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithDecodeAllCapLimit(true),
			zstd.WithDecoderMaxMemory(maxDecodedLimit),
			zstd.WithDecoderMaxWindow(maxDecodedLimit),
		)
	})
	return decoder, decoderErr
}

// maxDecodedLimit is the largest value WithMaxDecodedSize accepts.
const maxDecodedLimit = 1 << 30

// decompress decodes src, which must be exactly one zstd frame that declares
// its content size (at most max bytes) and carries a content checksum, into
// a new buffer of exactly that size. Anything else, including trailing
// bytes, a second frame, a truncated frame or a bad checksum, is an error,
// and no partial output is returned. A frame that declares more than max
// bytes is a [*PayloadTooLargeError], reported before anything is decoded.
func decompress(src []byte, max int) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return nil, errFrame
	}
	if h.Skippable || !h.HasFCS || !h.HasCheckSum || h.DictionaryID != 0 {
		return nil, errFrame
	}
	if h.FrameContentSize > uint64(max) {
		return nil, &PayloadTooLargeError{Size: int(min(h.FrameContentSize, 1<<62)), Limit: max, Decoded: true}
	}
	end, most, ok := frameEnd(src, h.HeaderSize, h.HasCheckSum)
	if !ok || end != len(src) || h.FrameContentSize > most {
		// A frame that declares more than its blocks can hold would make
		// us allocate for output that cannot come.
		return nil, errFrame
	}
	dec, err := zstdDecoder()
	if err != nil {
		return nil, err
	}
	size := int(h.FrameContentSize)
	out, err := dec.DecodeAll(src, make([]byte, 0, size))
	if err != nil || len(out) != size {
		clear(out[:cap(out)])
		return nil, errFrame
	}
	return out, nil
}

// maxBlockOutput is the most one compressed zstd block may decode to
// (RFC 8878, section 3.1.1.2.4).
const maxBlockOutput = 128 << 10

// frameEnd walks the block headers of the frame whose blocks start at
// src[off:], and returns the offset just past the frame and the most its
// blocks can decode to.
func frameEnd(src []byte, off int, checksum bool) (end int, most uint64, ok bool) {
	for {
		if off+3 > len(src) {
			return 0, 0, false
		}
		bh := uint32(src[off]) | uint32(src[off+1])<<8 | uint32(src[off+2])<<16
		off += 3
		last, typ, size := bh&1 == 1, (bh>>1)&3, int(bh>>3)
		switch typ {
		case 0: // raw
			off += size
			most += uint64(size)
		case 1: // RLE: one byte repeated size times
			off++
			most += uint64(size)
		case 2: // compressed
			off += size
			most += maxBlockOutput
		default:
			return 0, 0, false
		}
		if off > len(src) {
			return 0, 0, false
		}
		if last {
			break
		}
	}
	if checksum {
		off += 4
	}
	return off, most, off <= len(src)
}

// compress appends the zstd frame for src to dst.
func compress(dst, src []byte) ([]byte, error) {
	enc, err := zstdEncoder()
	if err != nil {
		return nil, err
	}
	return enc.EncodeAll(src, dst), nil
}
