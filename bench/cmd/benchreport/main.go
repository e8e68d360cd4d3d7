// Command benchreport turns a benchmark run into the summary, charts and
// page people read. scripts/bench.sh runs it after the benchmarks.
//
// It reads, from -dir: raw.txt (go test -bench output of the bench package
// and of e2ebench), and if present benchstat.txt and machine.txt. It
// writes into the same directory summary.txt (the ratio, allocs and target
// lines, also printed on stdout), benchmarks.png/.svg, algorithms.png/.svg
// and benchmarks.md, the generated part of the docs page.
//
// With -publish DIR it also copies the PNG charts into DIR/img and replaces
// the generated part of DIR/benchmarks.md.
//
// Usage:
//
//	benchreport [-dir results/bench] [-publish docs]
package main

import (
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"go.temporal.io/sdk/converter"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/bench"
	"github.com/temporal-encryption/temporal-encryption/bench/report"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

func main() {
	dir := flag.String("dir", "results/bench", "directory holding raw.txt; outputs go here too")
	publish := flag.String("publish", "", "docs directory to update (benchmarks.md and img/), or empty")
	flag.Parse()
	if err := run(*dir, *publish); err != nil {
		fmt.Fprintf(os.Stderr, "benchreport: error: %v\n", err)
		fmt.Fprintf(os.Stderr, "benchreport: hint: run scripts/bench.sh first; it writes %s\n",
			filepath.Join(*dir, "raw.txt"))
		os.Exit(1)
	}
}

func run(dir, publish string) error {
	f, err := os.Open(filepath.Join(dir, "raw.txt"))
	if err != nil {
		return err
	}
	res, err := report.Parse(f)
	f.Close()
	if err != nil {
		return err
	}
	machine, err := report.ReadMachine(filepath.Join(dir, "machine.txt"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	benchstat, err := os.ReadFile(filepath.Join(dir, "benchstat.txt"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}

	comp, err := compression()
	if err != nil {
		return err
	}
	sum := report.Summarize(res, comp)
	var out bytes.Buffer
	if _, err := sum.WriteTo(&out); err != nil {
		return err
	}
	os.Stdout.Write(out.Bytes())
	if err := os.WriteFile(filepath.Join(dir, "summary.txt"), out.Bytes(), 0o644); err != nil {
		return err
	}

	charts, err := report.WriteCharts(res, dir, machine.Footnote())
	if err != nil {
		return err
	}
	page := report.Page{
		Machine: machine, Summary: sum, Compression: comp, Benchstat: string(benchstat),
		Images: map[string]string{"benchmarks": "benchmarks.png", "algorithms": "algorithms.png"},
	}
	var md bytes.Buffer
	if err := report.WriteMarkdown(&md, page); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "benchmarks.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "benchreport: wrote %s, %s and %d charts\n",
		filepath.Join(dir, "summary.txt"), filepath.Join(dir, "benchmarks.md"), len(charts))

	if publish == "" {
		return nil
	}
	return publishDocs(dir, publish, page)
}

// publishDocs copies the PNG charts into docs/img and rewrites the
// generated part of docs/benchmarks.md to link to them.
func publishDocs(dir, docs string, page report.Page) error {
	imgDir := filepath.Join(docs, "img")
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		return err
	}
	for name := range page.Images {
		b, err := os.ReadFile(filepath.Join(dir, name+".png"))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(imgDir, name+".png"), b, 0o644); err != nil {
			return err
		}
		page.Images[name] = "img/" + name + ".png"
	}
	var md bytes.Buffer
	if err := report.WriteMarkdown(&md, page); err != nil {
		return err
	}
	path := filepath.Join(docs, "benchmarks.md")
	doc, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc, err = report.ReplaceGenerated(doc, md.Bytes())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "benchreport: updated %s and %s\n", path, imgDir)
	return nil
}

// compression measures how well the codec's zstd and the SDK's zlib (in
// front of the sample-style codec) shrink each JSON corpus kind at 256 KiB,
// and the mixed JSON corpus at every size.
func compression() ([]report.Compression, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	k, err := codec.NewKey("bench-key", aead.AES256GCM, key)
	if err != nil {
		return nil, err
	}
	ring, err := codec.NewKeyring(k)
	if err != nil {
		return nil, err
	}
	zstd, err := codec.New(ring, codec.WithCompression(0), codec.WithMaxPayloadSize(4<<20))
	if err != nil {
		return nil, err
	}
	sample, err := bench.NewSampleCodec("bench-key", key)
	if err != nil {
		return nil, err
	}
	zlib := bench.NewZlibSample(sample)

	type point struct {
		kind bench.Kind
		size string
	}
	var points []point
	for _, s := range report.Sizes {
		points = append(points, point{bench.JSON, s.Name})
	}
	for _, k := range []bench.Kind{bench.Agent, bench.Market, bench.Orders} {
		points = append(points, point{k, "256KiB"})
	}
	var out []report.Compression
	for _, p := range points {
		n := sizeBytes(p.size)
		for _, c := range []struct {
			name string
			c    converter.PayloadCodec
		}{{"zstd", zstd}, {"zlib", zlib}} {
			r, err := bench.CompressionRatio(c.c, p.kind, n)
			if err != nil {
				return nil, err
			}
			out = append(out, report.Compression{Codec: c.name, Kind: string(p.kind), Size: p.size, Ratio: r})
		}
	}
	return out, nil
}

func sizeBytes(name string) int {
	for _, s := range report.Sizes {
		if s.Name == name {
			return s.Bytes
		}
	}
	return 0
}
