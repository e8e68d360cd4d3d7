package codec

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func testFrame(t *testing.T, n int) (plain, frame []byte) {
	t.Helper()
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"i":%d,"symbol":"ACME","side":"sell"},`, i)
	}
	plain = b.Bytes()[:n]
	frame, err := compress(nil, plain)
	if err != nil {
		t.Fatal(err)
	}
	return plain, frame
}

// C20: below the AEAD, a damaged compressed frame is always an error and
// never partial output.
func TestC20DamagedFramesFail(t *testing.T) {
	plain, frame := testFrame(t, 100_000)
	var h zstd.Header
	if err := h.Decode(frame); err != nil || !h.HasCheckSum || !h.HasFCS {
		t.Fatalf("frame header %+v, %v: want content checksum and size", h, err)
	}
	got, err := decompress(frame, 1<<20)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("decompress(intact) = %d bytes, %v", len(got), err)
	}

	second, _ := compress(nil, []byte("a second frame, valid on its own"))
	empty, _ := compress(nil, nil)
	corrupt := bytes.Clone(frame)
	corrupt[len(corrupt)/2] ^= 0x55
	badSum := bytes.Clone(frame)
	badSum[len(badSum)-1] ^= 1

	tests := []struct {
		name string
		in   []byte
	}{
		{"truncated by 1", frame[:len(frame)-1]},
		{"truncated by 4", frame[:len(frame)-4]},
		{"truncated by 8", frame[:len(frame)-8]},
		{"truncated by 100", frame[:len(frame)-100]},
		{"header only", frame[:h.HeaderSize]},
		{"empty", nil},
		{"garbage appended", append(bytes.Clone(frame), "garbage"...)},
		{"second frame appended", append(bytes.Clone(frame), second...)},
		{"empty frame appended", append(bytes.Clone(frame), empty...)},
		{"skippable frame appended", append(bytes.Clone(frame), 0x50, 0x2a, 0x4d, 0x18, 1, 0, 0, 0, 0)},
		{"corrupted middle", corrupt},
		{"bad checksum", badSum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := decompress(tt.in, 1<<20)
			if err == nil || out != nil {
				t.Fatalf("decompress = %d bytes, %v; want an error and no output", len(out), err)
			}
		})
	}
}

// Every size the codec may compress must come back: small frames too,
// which zstd would write without their size unless told otherwise.
func TestCompressedFramesDeclareTheirSize(t *testing.T) {
	for _, n := range []int{1, 49, 255, 256, 1000, 1024, 1025, 4096, 200_000, 3 << 20} {
		plain, frame := testFrame(t, n)
		got, err := decompress(frame, 4<<20)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%d bytes: decompress(compress(x)) = %d bytes, %v", n, len(got), err)
		}
	}
}

func TestDecompressCapsDeclaredSize(t *testing.T) {
	_, frame := testFrame(t, 100_000)
	out, err := decompress(frame, 99_999)
	var tooLarge *PayloadTooLargeError
	if !errors.As(err, &tooLarge) || out != nil || tooLarge.Size != 100_000 {
		t.Fatalf("decompress over the cap = %d bytes, %v; want PayloadTooLargeError", len(out), err)
	}
}

func TestDecompressRejectsFramesWithoutChecksumOrSize(t *testing.T) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(false))
	if err != nil {
		t.Fatal(err)
	}
	noSum := enc.EncodeAll(bytes.Repeat([]byte("abc"), 1000), nil)
	if out, err := decompress(noSum, 1<<20); err == nil || out != nil {
		t.Fatalf("frame without checksum accepted")
	}

	// A stream written in pieces larger than a block starts its frame
	// before the total size is known, so it declares none.
	var stream bytes.Buffer
	w, _ := zstd.NewWriter(&stream, zstd.WithEncoderConcurrency(1))
	for range 8 {
		w.Write(bytes.Repeat([]byte("abcd"), 64<<10))
	}
	w.Close()
	var h zstd.Header
	if err := h.Decode(stream.Bytes()); err != nil || h.HasFCS {
		t.Fatalf("test stream header %+v, %v: want no declared size", h, err)
	}
	if out, err := decompress(stream.Bytes(), 4<<20); err == nil || out != nil {
		t.Fatalf("frame without declared size accepted")
	}
}

// FuzzDecompress: whatever the input, decompress returns an error or at
// most max bytes, and never panics.
func FuzzDecompress(f *testing.F) {
	for _, n := range []int{0, 1, 300, 5000} {
		frame, _ := compress(nil, bytes.Repeat([]byte("fuzz"), n))
		f.Add(frame)
		if len(frame) > 4 {
			f.Add(frame[:len(frame)-4])
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 1 << 16
		out, err := decompress(in, max)
		if err == nil && len(out) > max {
			t.Fatalf("decompress returned %d bytes, cap %d", len(out), max)
		}
		if err != nil && out != nil {
			t.Fatal("decompress returned output with an error")
		}
	})
}

// A frame whose header claims far more than its blocks can produce is
// refused before anything is allocated for it.
func TestDecompressRejectsLyingContentSize(t *testing.T) {
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe4} // single segment, 8-byte size, checksum
	for i := range 8 {
		frame = append(frame, byte(uint64(64<<20)>>(8*i)))
	}
	frame = append(frame, 0x09, 0, 0, 'x', 0, 0, 0, 0) // one 1-byte raw block, checksum
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := decompress(frame, 1<<30)
	runtime.ReadMemStats(&after)
	if err == nil || out != nil {
		t.Fatalf("decompress(lying frame) = %d bytes, %v", len(out), err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("decompress allocated %d bytes for a 21-byte frame", grew)
	}
}
