package report_test

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/bench/report"
)

const sampleOutput = `goos: linux
goarch: amd64
pkg: github.com/temporal-encryption/temporal-encryption/bench
cpu: AMD EPYC
bench: running BenchmarkSeal: progress lines may be mixed in
BenchmarkSeal/aes-256-gcm/2MiB-2         	     100	   1000000 ns/op	2097.15 MB/s	       0 B/op	       0 allocs/op
BenchmarkSeal/aes-256-gcm/2MiB-2         	     100	   1200000 ns/op	1747.63 MB/s	       0 B/op	       0 allocs/op
BenchmarkSeal/aes-256-gcm/2MiB-2         	     100	   1100000 ns/op	1906.50 MB/s	       0 B/op	       0 allocs/op
BenchmarkFailing/x-2                     	--- FAIL: BenchmarkFailing/x-2
PASS
ok  	github.com/temporal-encryption/temporal-encryption/bench	12.3s
BenchmarkParallelEncode/aes-256-gcm/none/json/1KiB     	  1000	      2000 ns/op
BenchmarkParallelEncode/aes-256-gcm/none/json/1KiB-2   	  1000	      1000 ns/op
`

func TestParse(t *testing.T) {
	res, err := report.Parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Config["cpu"]; got != "AMD EPYC" {
		t.Errorf("Config[cpu] = %q, want AMD EPYC", got)
	}
	seal := res.Get("BenchmarkSeal/aes-256-gcm/2MiB", 2)
	if seal == nil {
		t.Fatal("Get(BenchmarkSeal/aes-256-gcm/2MiB, 2) = nil")
	}
	if got := seal.Median(report.NsPerOp); got != 1100000 {
		t.Errorf("median ns/op = %v, want 1100000", got)
	}
	if got := seal.Median(report.AllocsPerOp); got != 0 {
		t.Errorf("median allocs/op = %v, want 0", got)
	}
	if got := len(seal.Samples); got != 3 {
		t.Errorf("%d samples, want 3", got)
	}
	if res.Get("BenchmarkFailing/x", 0) != nil {
		t.Error("a failed benchmark's line was read as a result")
	}
	for _, procs := range []int{1, 2} {
		if b := res.Get("BenchmarkParallelEncode/aes-256-gcm/none/json/1KiB", procs); b == nil || b.Procs != procs {
			t.Errorf("parallel benchmark at %d procs not found", procs)
		}
	}
	if b := res.Get("BenchmarkParallelEncode/aes-256-gcm/none/json/1KiB", 0); b == nil || b.Procs != 2 {
		t.Error("Get with procs 0 did not pick the run at the most procs")
	}
}

func TestParseRejectsBrokenResult(t *testing.T) {
	for _, line := range []string{
		"BenchmarkX-2   100   12 ns/op   7",
		"BenchmarkX-2   100   twelve ns/op",
	} {
		if _, err := report.Parse(strings.NewReader(line)); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", line)
		}
	}
}

// synthetic returns results in which every benchmark the summary reads
// has a known time, so each ratio has a known value.
func synthetic() string {
	var b strings.Builder
	line := func(name string, ns, allocs float64) {
		for range 3 {
			fmt.Fprintf(&b, "%s-2\t1000\t%g ns/op\t1 MB/s\t64 B/op\t%g allocs/op\n", name, ns, allocs)
		}
	}
	for _, alg := range report.Algorithms {
		for _, s := range report.Sizes {
			base := float64(s.Bytes) // 1 ns per byte: 1000 MB/s
			line("BenchmarkSeal/"+alg+"/"+s.Name, base, 0)
			line("BenchmarkOpen/"+alg+"/"+s.Name, base, 0)
			for _, comp := range []string{"none", "zstd"} {
				line("BenchmarkEncode/"+alg+"/"+comp+"/json/"+s.Name, base/0.9, 4)
				line("BenchmarkDecode/"+alg+"/"+comp+"/json/"+s.Name, base/0.5, 4)
			}
		}
	}
	for _, s := range report.Sizes {
		base := float64(s.Bytes)
		line("BenchmarkSealNew/aes-256-gcm/"+s.Name, base/0.95, 1)
		line("BenchmarkOpenNew/aes-256-gcm/"+s.Name, base/0.95, 1)
		line("BenchmarkCopy/"+s.Name, base/10, 0)
		line("BenchmarkEncode/aes-256-gcm/none/random/"+s.Name, base/0.9, 4)
		line("BenchmarkEncode/aes-256-gcm/zstd/random/"+s.Name, base, 5)
		line("BenchmarkSampleEncode/none/json/"+s.Name, 4*base/0.9, 15)
		line("BenchmarkSampleDecode/none/json/"+s.Name, 2*base/0.5, 13)
		line("BenchmarkSampleEncode/zlib/json/"+s.Name, 10*base/0.9, 50)
		line("BenchmarkSampleDecode/zlib/json/"+s.Name, 5*base/0.5, 50)
	}
	fmt.Fprintf(&b, "BenchmarkParallelEncode/aes-256-gcm/none/json/1KiB\t1000\t2000 ns/op\n")
	fmt.Fprintf(&b, "BenchmarkParallelEncode/aes-256-gcm/none/json/1KiB-2\t1000\t1000 ns/op\n")
	fmt.Fprintf(&b, "BenchmarkParallelDecode/aes-256-gcm/none/json/1KiB\t1000\t2000 ns/op\n")
	fmt.Fprintf(&b, "BenchmarkParallelDecode/aes-256-gcm/none/json/1KiB-2\t1000\t1250 ns/op\n")
	// Rounds pair in order: ratios 1.02, 1.10, 1.04, so the median is 1.04.
	for _, r := range [][2]int{{100, 102}, {100, 110}, {50, 52}} {
		fmt.Fprintf(&b, "BenchmarkEndToEnd/plain-2\t100\t%d ns/op\n", r[0])
		fmt.Fprintf(&b, "BenchmarkEndToEnd/encrypted-2\t100\t%d ns/op\n", r[1])
	}
	return b.String()
}

func summarize(t *testing.T) report.Summary {
	t.Helper()
	res, err := report.Parse(strings.NewReader(synthetic()))
	if err != nil {
		t.Fatal(err)
	}
	return report.Summarize(res, []report.Compression{
		{Codec: "zstd", Kind: "json", Size: "256KiB", Ratio: 4},
		{Codec: "zlib", Kind: "json", Size: "256KiB", Ratio: 5},
	})
}

func TestSummarizeRatios(t *testing.T) {
	sum := summarize(t)
	tests := []struct {
		name string
		want float64
	}{
		{"encode-vs-seal-aes256gcm-2MiB", 0.9},
		{"decode-vs-open-aes256gcm-2MiB", 0.5},
		{"encode-vs-seal-chacha20poly1305-2MiB", 0.9},
		{"encode-vs-sealnew-aes256gcm-2MiB", 0.9 / 0.95},
		{"speedup-vs-sample-encode-64B", 4},
		{"speedup-vs-sample-decode-64B", 2},
		{"zstd-vs-zlib-encode-256KiB", 10},
		{"zstd-vs-zlib-decode-256KiB", 5},
		{"parallel-scaling-2cpu-encode-none-1KiB", 2},
		{"parallel-scaling-2cpu-decode-none-1KiB", 1.6},
		{"parallel-scaling-2cpu", math.Sqrt(2 * 1.6)},
		{"e2e-overhead-percent", 4},
		{"e2e-overhead-percent-lowest-round", 2},
		{"e2e-overhead-percent-highest-round", 10},
		{"compression-zstd-json-256KiB", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sum.Ratio(tt.name); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("ratio %s = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
	if len(sum.Missing) != 0 {
		t.Errorf("Missing = %v, want none", sum.Missing)
	}
}

func TestSummarizeTargets(t *testing.T) {
	sum := summarize(t)
	want := map[string]bool{
		"encode-vs-seal-aes256gcm-2MiB": true,  // 0.9 >= 0.8
		"decode-vs-open-aes256gcm-2MiB": false, // 0.5
		"speedup-vs-sample-encode-64B":  true,  // 4 >= 3
		"allocs-per-payload-max":        false, // 5 on zstd/random
		"zstd-vs-zlib-encode-256KiB":    false, // 10x faster, but ratio 4 < 5
		"zstd-vs-zlib-decode-256KiB":    false, // 5x, and ratio
		"parallel-scaling-2cpu":         false, // 1.79 < 1.8
		"e2e-overhead-percent":          true,  // 4 <= 5
	}
	if len(sum.Targets) != len(want) {
		t.Fatalf("%d targets, want %d", len(sum.Targets), len(want))
	}
	for _, tg := range sum.Targets {
		if met, ok := want[tg.Name]; !ok || tg.Met != met {
			t.Errorf("%s: met = %v, want %v", tg, tg.Met, met)
		}
	}
}

func TestSummarizeAllocs(t *testing.T) {
	sum := summarize(t)
	var b bytes.Buffer
	if _, err := sum.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"allocs encode-aes256gcm-64B: 4\n",
		"allocs decode-aes256gcm-zstd-2MiB: 4\n",
		"target allocs-per-payload-max <= 4: missed (5); worst: Encode/aes-256-gcm/zstd/random/64B\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}

func TestSummarizeReportsMissing(t *testing.T) {
	res, err := report.Parse(strings.NewReader("BenchmarkCopy/64B-2\t10\t5 ns/op\n"))
	if err != nil {
		t.Fatal(err)
	}
	sum := report.Summarize(res, nil)
	if !math.IsNaN(sum.Ratio("encode-vs-seal-aes256gcm-2MiB")) {
		t.Error("a ratio without its benchmarks is not NaN")
	}
	if len(sum.Missing) == 0 {
		t.Error("Missing is empty")
	}
	for _, tg := range sum.Targets {
		if !strings.Contains(tg.String(), "unmeasured") {
			t.Errorf("%s: want unmeasured", tg)
		}
	}
}

// TestSummaryLinesParseBack checks the contract with scripts: every ratio
// and allocs line the summary prints reads back with its value.
func TestSummaryLinesParseBack(t *testing.T) {
	sum := summarize(t)
	var b bytes.Buffer
	if _, err := sum.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	lines, err := report.ParseSummary(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(sum.Ratios)+len(sum.Allocs) {
		t.Fatalf("read back %d lines, want %d", len(lines), len(sum.Ratios)+len(sum.Allocs))
	}
	for i, want := range append(append([]report.Line{}, sum.Ratios...), sum.Allocs...) {
		got := lines[i]
		if got.Kind != want.Kind || got.Name != want.Name || math.Abs(got.Value-want.Value) > 0.01*math.Abs(want.Value)+0.005 {
			t.Errorf("line %d = %v, want %v", i, got, want)
		}
	}
}

func TestParseSummary(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []report.Line
		wantErr bool
	}{
		{"ratio", "ratio encode-vs-seal-aes256gcm-2MiB: 0.93\n",
			[]report.Line{{Kind: "ratio", Name: "encode-vs-seal-aes256gcm-2MiB", Value: 0.93}}, false},
		{"allocs", "allocs encode-aes256gcm-64B: 4\n",
			[]report.Line{{Kind: "allocs", Name: "encode-aes256gcm-64B", Value: 4}}, false},
		{"other lines skipped", "target x >= 1: met (2)\nPASS\nratio a: -1.5\n",
			[]report.Line{{Kind: "ratio", Name: "a", Value: -1.5}}, false},
		{"NaN", "ratio e2e-overhead-percent: NaN\n", nil, false},
		{"no colon", "ratio broken 1\n", nil, true},
		{"not a number", "ratio a: fast\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := report.ParseSummary(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSummary(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if tt.name == "NaN" {
				if len(got) != 1 || !math.IsNaN(got[0].Value) {
					t.Errorf("ParseSummary(%q) = %v, want one NaN", tt.in, got)
				}
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ParseSummary(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestReplaceGenerated(t *testing.T) {
	section := []byte(report.BeginMarker + "\nnew\n" + report.EndMarker + "\n")
	tests := []struct {
		name    string
		doc     string
		want    string
		wantErr bool
	}{
		{"replaces", "# Title\n\n" + report.BeginMarker + "\nold\n" + report.EndMarker + "\n\nkept\n",
			"# Title\n\n" + report.BeginMarker + "\nnew\n" + report.EndMarker + "\n\nkept\n", false},
		{"appends", "# Title\n", "# Title\n\n" + string(section), false},
		{"end missing", "# Title\n" + report.BeginMarker + "\n", "", true},
		{"out of order", report.EndMarker + "\n" + report.BeginMarker + "\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := report.ReplaceGenerated([]byte(tt.doc), section)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestWriteChartsAndMarkdown(t *testing.T) {
	res, err := report.Parse(strings.NewReader(synthetic()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := report.WriteCharts(res, dir, "test machine")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Errorf("wrote %v, want two charts in two formats", files)
	}
	f, err := os.Open(filepath.Join(dir, "benchmarks.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("benchmarks.png: %v", err)
	}
	if cfg.Width < 1000 || cfg.Height < 600 {
		t.Errorf("benchmarks.png is %dx%d, want at least 1000x600", cfg.Width, cfg.Height)
	}

	benchstat := "goos: linux\ncpu: test\n" +
		"          │ raw.txt │\n          │ sec/op  │\nX-2   1.0n ± 1%\n\n" +
		"          │ raw.txt │\n          │   B/s   │\nX-2   9.0Gi ± 1%\n\n" +
		"          │ raw.txt │\n          │ allocs/op │\nX-2   4.000 ± 0%\n\n" +
		"¹ need >= 6 samples\n"
	var md bytes.Buffer
	err = report.WriteMarkdown(&md, report.Page{Summary: summarize(t), Benchstat: benchstat,
		Images: map[string]string{"benchmarks": "img/b.png"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{report.BeginMarker, report.EndMarker, "(img/b.png)",
		"| `encode-vs-seal-aes256gcm-2MiB` | >= 0.80 | 0.90 | met |",
		"cpu: test\n\n", "sec/op  │\nX-2   1.0n", "allocs/op │\nX-2   4.000"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	for _, unwanted := range []string{"B/s", "need >= 6"} {
		if strings.Contains(md.String(), unwanted) {
			t.Errorf("markdown has %q, which it should leave to benchstat.txt", unwanted)
		}
	}
}
