package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Sizes are the payload sizes the benchmarks use, as named in benchmark
// names, smallest first, with their byte counts.
var Sizes = []struct {
	Name  string
	Bytes int
}{
	{"64B", 64}, {"1KiB", 1 << 10}, {"16KiB", 16 << 10}, {"256KiB", 256 << 10}, {"2MiB", 2 << 20},
}

// Algorithms are the algorithm IDs the benchmarks use.
var Algorithms = []string{"aes-256-gcm", "aes-128-gcm", "chacha20-poly1305", "xchacha20-poly1305"}

// short turns an algorithm ID into the form summary names use: aes256gcm.
func short(alg string) string { return strings.ReplaceAll(alg, "-", "") }

// Line is one summary line: "<Kind> <Name>: <Value>".
type Line struct {
	Kind  string // "ratio" or "allocs"
	Name  string
	Value float64
}

func (l Line) String() string {
	return fmt.Sprintf("%s %s: %s", l.Kind, l.Name, formatValue(l.Value))
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case v == math.Trunc(v) && math.Abs(v) < 1e6:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// Target is one of the project's performance targets, checked against a
// measured value.
type Target struct {
	Name  string // the summary line it reads
	Op    string // ">=" or "<="
	Want  float64
	Value float64 // NaN when not measured
	Met   bool
	Note  string // what else the verdict rests on, if anything
}

func (t Target) String() string {
	verdict := "missed"
	switch {
	case math.IsNaN(t.Value):
		verdict = "unmeasured"
	case t.Met:
		verdict = "met"
	}
	s := fmt.Sprintf("target %s %s %s: %s (%s)", t.Name, t.Op, formatValue(t.Want), verdict, formatValue(t.Value))
	if t.Note != "" {
		s += "; " + t.Note
	}
	return s
}

// Compression is how much one codec shrinks one corpus kind at one size:
// the encoded payload's size against the original's, both as protobuf, so
// metadata counts too.
type Compression struct {
	Codec string // "zstd" (this project's codec) or "zlib" (SDK zlib + sample)
	Kind  string
	Size  string
	Ratio float64
}

// Summary is everything the summary prints.
type Summary struct {
	Ratios  []Line
	Allocs  []Line
	Targets []Target
	// Missing names benchmarks a ratio needed and the results lacked.
	Missing []string
}

// Ratio returns the value of the ratio line called name, or NaN.
func (s *Summary) Ratio(name string) float64 {
	for _, l := range s.Ratios {
		if l.Name == name {
			return l.Value
		}
	}
	return math.NaN()
}

// WriteTo prints the summary: ratios, then allocations, then targets.
func (s *Summary) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	for _, l := range s.Ratios {
		fmt.Fprintln(&b, l)
	}
	for _, l := range s.Allocs {
		fmt.Fprintln(&b, l)
	}
	for _, t := range s.Targets {
		fmt.Fprintln(&b, t)
	}
	for _, m := range s.Missing {
		fmt.Fprintf(&b, "missing %s\n", m)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// ParseSummary reads the ratio and allocs lines of a summary, skipping
// everything else, so that scripts can pick values out of a run's output.
func ParseSummary(r io.Reader) ([]Line, error) {
	var lines []Line
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		kind, rest, ok := strings.Cut(sc.Text(), " ")
		if !ok || (kind != "ratio" && kind != "allocs") {
			continue
		}
		name, value, ok := strings.Cut(rest, ": ")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("report: line %d: want %q", n, kind+" <name>: <value>")
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("report: line %d: %s %s: %w", n, kind, name, err)
		}
		lines = append(lines, Line{Kind: kind, Name: name, Value: v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return lines, nil
}

// summarizer looks benchmarks up and remembers which were missing.
type summarizer struct {
	res     *Results
	missing map[string]bool
	sum     Summary
}

func (z *summarizer) median(name string, procs int, unit string) float64 {
	b := z.res.Get(name, procs)
	if b == nil {
		key := name
		if procs > 0 {
			key = fmt.Sprintf("%s-%d", name, procs)
		}
		if !z.missing[key] {
			z.missing[key] = true
			z.sum.Missing = append(z.sum.Missing, key)
		}
		return math.NaN()
	}
	return b.Median(unit)
}

// speedup returns how many times faster b is than a: a's time over b's.
func (z *summarizer) speedup(a, b string) float64 {
	return z.median(a, 0, NsPerOp) / z.median(b, 0, NsPerOp)
}

func (z *summarizer) ratio(name string, v float64) {
	z.sum.Ratios = append(z.sum.Ratios, Line{Kind: "ratio", Name: name, Value: v})
}

// Summarize computes the headline ratios from res (the micro-benchmarks,
// serial and parallel, and the end-to-end rounds) and compression, and
// checks the targets.
func Summarize(res *Results, compression []Compression) Summary {
	z := &summarizer{res: res, missing: map[string]bool{}}

	// The limit.
	for _, alg := range Algorithms {
		z.ratio("encode-vs-seal-"+short(alg)+"-2MiB",
			z.speedup("BenchmarkSeal/"+alg+"/2MiB", "BenchmarkEncode/"+alg+"/none/json/2MiB"))
		z.ratio("decode-vs-open-"+short(alg)+"-2MiB",
			z.speedup("BenchmarkOpen/"+alg+"/2MiB", "BenchmarkDecode/"+alg+"/none/json/2MiB"))
	}
	for _, s := range Sizes {
		z.ratio("encode-vs-sealnew-aes256gcm-"+s.Name,
			z.speedup("BenchmarkSealNew/aes-256-gcm/"+s.Name, "BenchmarkEncode/aes-256-gcm/none/json/"+s.Name))
		z.ratio("decode-vs-opennew-aes256gcm-"+s.Name,
			z.speedup("BenchmarkOpenNew/aes-256-gcm/"+s.Name, "BenchmarkDecode/aes-256-gcm/none/json/"+s.Name))
	}
	z.ratio("encode-vs-seal-aes256gcm-random-2MiB",
		z.speedup("BenchmarkSeal/aes-256-gcm/2MiB", "BenchmarkEncode/aes-256-gcm/none/random/2MiB"))

	// The sample-style baseline, and zstd against zlib.
	for _, s := range Sizes {
		for _, op := range []string{"Encode", "Decode"} {
			z.ratio("speedup-vs-sample-"+strings.ToLower(op)+"-"+s.Name,
				z.speedup("BenchmarkSample"+op+"/none/json/"+s.Name, "Benchmark"+op+"/aes-256-gcm/none/json/"+s.Name))
		}
	}
	for _, s := range Sizes {
		for _, op := range []string{"Encode", "Decode"} {
			z.ratio("zstd-vs-zlib-"+strings.ToLower(op)+"-"+s.Name,
				z.speedup("BenchmarkSample"+op+"/zlib/json/"+s.Name, "Benchmark"+op+"/aes-256-gcm/zstd/json/"+s.Name))
		}
	}
	for _, c := range compression {
		z.ratio("compression-"+c.Codec+"-"+c.Kind+"-"+c.Size, c.Ratio)
	}

	// Parallel scaling: throughput at 2 CPUs over 1, per benchmark and
	// their geometric mean.
	var logSum float64
	var n int
	for _, b := range res.Benchmarks {
		if !strings.HasPrefix(b.Name, "BenchmarkParallel") || b.Procs != 2 {
			continue
		}
		one := z.median(b.Name, 1, NsPerOp)
		s := one / b.Median(NsPerOp)
		op := strings.ToLower(strings.TrimPrefix(strings.SplitN(b.Name, "/", 2)[0], "BenchmarkParallel"))
		parts := strings.Split(b.Name, "/") // name/alg/comp/data/size
		z.ratio(fmt.Sprintf("parallel-scaling-2cpu-%s-%s-%s", op, parts[2], parts[len(parts)-1]), s)
		if !math.IsNaN(s) {
			logSum += math.Log(s)
			n++
		}
	}
	scaling := math.NaN()
	if n > 0 {
		scaling = math.Exp(logSum / float64(n))
	}
	z.ratio("parallel-scaling-2cpu", scaling)

	mid, lo, hi := e2eOverhead(res)
	z.ratio("e2e-overhead-percent", mid)
	z.ratio("e2e-overhead-percent-lowest-round", lo)
	z.ratio("e2e-overhead-percent-highest-round", hi)

	// Allocations per payload.
	worst, worstName := 0.0, ""
	for _, b := range res.Benchmarks {
		op, rest, ok := strings.Cut(b.Name, "/")
		if op != "BenchmarkEncode" && op != "BenchmarkDecode" || !ok {
			continue
		}
		a := b.Median(AllocsPerOp)
		if a > worst || worstName == "" {
			worst, worstName = a, b.Name
		}
		parts := strings.Split(rest, "/") // alg/comp/data/size
		if len(parts) != 4 || parts[0] != "aes-256-gcm" || parts[2] != "json" {
			continue
		}
		name := strings.ToLower(strings.TrimPrefix(op, "Benchmark")) + "-aes256gcm-"
		if parts[1] != "none" {
			name += parts[1] + "-"
		}
		z.sum.Allocs = append(z.sum.Allocs, Line{Kind: "allocs", Name: name + parts[3], Value: a})
	}

	z.targets(worst, worstName)
	return z.sum
}

func (z *summarizer) targets(worstAllocs float64, worstName string) {
	r := z.sum.Ratio
	atLeast := func(name string, want float64, note string) Target {
		v := r(name)
		return Target{Name: name, Op: ">=", Want: want, Value: v, Met: v >= want, Note: note}
	}
	zstdRatio := func(op string) Target {
		t := atLeast("zstd-vs-zlib-"+op+"-256KiB", 6, "")
		zs, zl := r("compression-zstd-json-256KiB"), r("compression-zlib-json-256KiB")
		t.Note = fmt.Sprintf("compression %s vs zlib's %s", formatValue(zs), formatValue(zl))
		if !(zs >= zl) {
			t.Met = false
			t.Note += ", worse"
		}
		return t
	}
	allocs := Target{Name: "allocs-per-payload-max", Op: "<=", Want: 4, Value: math.NaN()}
	if worstName != "" {
		allocs.Value, allocs.Met = worstAllocs, worstAllocs <= 4
		allocs.Note = "worst: " + strings.TrimPrefix(worstName, "Benchmark")
	}
	overhead := r("e2e-overhead-percent")
	e2eNote := ""
	if lo, hi := r("e2e-overhead-percent-lowest-round"), r("e2e-overhead-percent-highest-round"); !math.IsNaN(lo) {
		e2eNote = fmt.Sprintf("rounds from %s to %s", formatValue(lo), formatValue(hi))
	}
	z.sum.Targets = []Target{
		atLeast("encode-vs-seal-aes256gcm-2MiB", 0.80, ""),
		atLeast("decode-vs-open-aes256gcm-2MiB", 0.80, ""),
		atLeast("speedup-vs-sample-encode-64B", 3, ""),
		allocs,
		zstdRatio("encode"),
		zstdRatio("decode"),
		atLeast("parallel-scaling-2cpu", 1.8, ""),
		{Name: "e2e-overhead-percent", Op: "<=", Want: 5, Value: overhead, Met: overhead <= 5, Note: e2eNote},
	}
}

// e2eOverhead pairs the end-to-end rounds in the order they were read and
// returns, in percent, the median over rounds of encrypted over plain time
// less one, and the lowest and highest round.
func e2eOverhead(res *Results) (mid, lo, hi float64) {
	plain := res.Get("BenchmarkEndToEnd/plain", 0)
	enc := res.Get("BenchmarkEndToEnd/encrypted", 0)
	if plain == nil || enc == nil {
		return math.NaN(), math.NaN(), math.NaN()
	}
	p, e := plain.Values(NsPerOp), enc.Values(NsPerOp)
	var pct []float64
	for i := range min(len(p), len(e)) {
		pct = append(pct, (e[i]/p[i]-1)*100)
	}
	if len(pct) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	return median(pct), slices.Min(pct), slices.Max(pct)
}
