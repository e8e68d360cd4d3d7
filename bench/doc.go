// Package bench measures the codec against what bounds it and against what
// users would pick instead, through the exported API only.
//
// The benchmarks live in this package's tests; the package itself holds
// what they share with the report and the end-to-end run:
//
//   - [Payload] and [Data], a deterministic corpus: JSON resembling the
//     example agent's messages, market data and orders, and incompressible
//     random bytes, at any size.
//   - [SampleCodec], a baseline written from the public description of
//     Temporal's encryption sample, and [Chain], which puts the SDK's zlib
//     codec in front of it the way a user would for compression.
//
// Run everything with make bench (scripts/bench.sh); it writes raw results,
// a benchstat table, a summary of headline ratios and a chart into
// results/bench/. docs/benchmarks.md explains how to read them.
//
// # What is compared
//
//	Seal, Open, Copy    the limit: a bare cipher.AEAD and a memory copy
//	SealNew, OpenNew    the AEAD allocating its output, as a codec must
//	Encode, Decode      codec.Codec, per algorithm, with and without zstd
//	SampleEncode, ...   the sample-style codec, alone and after zlib
//	ParallelEncode, ... codec.Codec under b.RunParallel, run with -cpu 1,2
//
// Sub-benchmarks are named algorithm/compression/data/size, for example
// BenchmarkEncode/aes-256-gcm/zstd/json/1KiB. Throughput (MB/s) always
// counts the payload's data bytes before encoding, so that compressed and
// uncompressed paths compare directly.
package bench
