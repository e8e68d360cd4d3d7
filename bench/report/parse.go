// Package report turns the output of the benchmarks in package bench into
// what people read: headline ratios checked against the project's
// targets, a chart and a Markdown page.
//
// It reads the Go benchmark format (the lines go test -bench prints) and
// writes, and reads back, summary lines that scripts can rely on:
//
//	ratio <name>: <value>
//	allocs <name>: <value>
//	target <name> <op> <want>: met|missed (<value>)
package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Units the Go testing package reports.
const (
	NsPerOp     = "ns/op"
	MBPerSec    = "MB/s"
	BytesPerOp  = "B/op"
	AllocsPerOp = "allocs/op"
)

// Sample is one result line: the iteration count and a value per unit.
type Sample struct {
	Iters  int
	Values map[string]float64
}

// Benchmark is every sample of one benchmark at one GOMAXPROCS.
type Benchmark struct {
	Name    string // full name without the -procs suffix
	Procs   int
	Samples []Sample
}

// Values returns the benchmark's values for unit, in the order read.
func (b *Benchmark) Values(unit string) []float64 {
	var vs []float64
	for _, s := range b.Samples {
		if v, ok := s.Values[unit]; ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// Median returns the median of the benchmark's values for unit, the
// centre benchstat reports too. It is NaN when there are none.
func (b *Benchmark) Median(unit string) float64 {
	return median(b.Values(unit))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Results are the benchmarks of one or more runs, in the order first seen,
// and the configuration lines (goos, cpu, ...) that preceded them.
type Results struct {
	Config     map[string]string
	Benchmarks []*Benchmark
}

// Get returns the benchmark called name run at procs, or, with procs 0,
// the one run at the most procs. name carries no -procs suffix.
func (r *Results) Get(name string, procs int) *Benchmark {
	var best *Benchmark
	for _, b := range r.Benchmarks {
		if b.Name != name {
			continue
		}
		if b.Procs == procs {
			return b
		}
		if procs == 0 && (best == nil || b.Procs > best.Procs) {
			best = b
		}
	}
	return best
}

// Merge adds the benchmarks and configuration of o to r.
func (r *Results) Merge(o *Results) {
	for k, v := range o.Config {
		if _, ok := r.Config[k]; !ok {
			r.Config[k] = v
		}
	}
	for _, b := range o.Benchmarks {
		if have := r.Get(b.Name, b.Procs); have != nil && have.Procs == b.Procs {
			have.Samples = append(have.Samples, b.Samples...)
			continue
		}
		r.Benchmarks = append(r.Benchmarks, b)
	}
}

// Parse reads Go benchmark output. Lines that are neither results nor
// configuration (PASS, ok, progress) are skipped; a line that starts like
// a result but does not parse is an error naming its line number.
func Parse(r io.Reader) (*Results, error) {
	res := &Results{Config: map[string]string{}}
	index := map[string]*Benchmark{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "Benchmark") {
			name, procs, s, err := parseResult(text)
			if err != nil {
				return nil, fmt.Errorf("report: line %d: %w", line, err)
			}
			if s == nil {
				continue // a name printed before a failure or a log line
			}
			key := name + "\x00" + strconv.Itoa(procs)
			b, ok := index[key]
			if !ok {
				b = &Benchmark{Name: name, Procs: procs}
				index[key] = b
				res.Benchmarks = append(res.Benchmarks, b)
			}
			b.Samples = append(b.Samples, *s)
			continue
		}
		if k, v, ok := parseConfig(text); ok {
			res.Config[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return res, nil
}

// parseResult reads "BenchmarkName-4  1000  123 ns/op  45.6 MB/s ...". It
// returns a nil sample for a line that names a benchmark but carries no
// iteration count, such as the line go test prints before a benchmark
// fails.
func parseResult(text string) (name string, procs int, s *Sample, err error) {
	f := strings.Fields(text)
	if len(f) < 2 {
		return "", 0, nil, nil
	}
	iters, err := strconv.Atoi(f[1])
	if err != nil {
		return "", 0, nil, nil
	}
	if len(f)%2 != 0 {
		return "", 0, nil, fmt.Errorf("result %q has a value without a unit", f[0])
	}
	name, procs = splitProcs(f[0])
	s = &Sample{Iters: iters, Values: map[string]float64{}}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", 0, nil, fmt.Errorf("result %q: value %q: %w", f[0], f[i], err)
		}
		s.Values[f[i+1]] = v
	}
	return name, procs, s, nil
}

// splitProcs splits the -N suffix go test adds when GOMAXPROCS is not 1.
func splitProcs(full string) (string, int) {
	i := strings.LastIndexByte(full, '-')
	if i < 0 || strings.IndexByte(full[i:], '/') >= 0 {
		return full, 1
	}
	n, err := strconv.Atoi(full[i+1:])
	if err != nil || n <= 0 {
		return full, 1
	}
	return full[:i], n
}

// parseConfig reads "key: value" where key starts with a lower-case
// letter and has no spaces, as in the Go benchmark format.
func parseConfig(text string) (key, value string, ok bool) {
	k, v, found := strings.Cut(text, ":")
	if !found || k == "" || !unicode.IsLower(rune(k[0])) || strings.ContainsAny(k, " \t") {
		return "", "", false
	}
	return k, strings.TrimSpace(v), true
}
