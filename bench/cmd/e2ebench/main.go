// Command e2ebench measures the end-to-end cost of encryption: it starts a
// local Temporal dev server and runs batches of the same workflow with and
// without the codec, alternating round by round (see package bench/e2e).
//
// It prints one line per timed batch in Go benchmark format on stdout,
// BenchmarkEndToEnd/plain and BenchmarkEndToEnd/encrypted, in the order
// run, with the wall-clock time per workflow as ns/op; benchreport pairs
// them by round. Progress goes to stderr.
//
// Usage:
//
//	e2ebench [-workflows 100] [-rounds 5] [-concurrency 32] [-aa] [-cpuprofile file]
//
// -aa runs the encrypted side without the codec too: an A/A run, whose
// overhead shows the noise floor of the measurement.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"time"

	"go.temporal.io/sdk/log"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/bench/e2e"
	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/internal/devserver"
)

func main() {
	workflows := flag.Int("workflows", 100, "workflows per batch")
	rounds := flag.Int("rounds", 5, "timed rounds of each mode")
	concurrency := flag.Int("concurrency", 32, "workflows in flight at once")
	aa := flag.Bool("aa", false, "leave out the codec on both sides, to measure the noise floor")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of this process (clients, workers, codec) to `file`")
	flag.Parse()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2ebench: error: %v\n", err)
			os.Exit(1)
		}
	}
	err := run(*workflows, *rounds, *concurrency, *aa)
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2ebench: error: %v\n", err)
		if errors.Is(err, devserver.ErrNoCLI) {
			fmt.Fprintf(os.Stderr, "e2ebench: hint: %s\n", devserver.Hint)
		}
		os.Exit(1)
	}
}

func run(workflows, rounds, concurrency int, aa bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr,
		&slog.HandlerOptions{Level: slog.LevelWarn})))

	encrypted, err := encryptedMode()
	if err != nil {
		return err
	}
	if aa {
		encrypted = e2e.Mode{Name: "encrypted"}
	}

	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	srv, err := devserver.Start(startCtx, devserver.Options{Logger: logger})
	cancel()
	if err != nil {
		return err
	}
	defer srv.Stop()

	res, err := e2e.Run(ctx, e2e.Options{
		HostPort:    srv.HostPort(),
		Namespace:   srv.Namespace(),
		Plain:       e2e.Mode{Name: "plain"},
		Encrypted:   encrypted,
		Workflows:   workflows,
		Rounds:      rounds,
		Concurrency: concurrency,
		Progress:    os.Stderr,
		Logger:      logger,
	})
	if err != nil {
		return err
	}

	procs := runtime.GOMAXPROCS(0)
	for i := range res.Plain {
		for _, m := range []struct {
			name string
			d    time.Duration
		}{{"plain", res.Plain[i]}, {"encrypted", res.Encrypted[i]}} {
			fmt.Printf("BenchmarkEndToEnd/%s-%d\t%d\t%d ns/op\n", m.name, procs, res.Workflows, m.d.Nanoseconds())
		}
	}
	fmt.Fprintf(os.Stderr, "e2ebench: encryption adds %.1f%% per workflow (median of %d paired rounds)\n",
		res.OverheadPercent(), len(res.Plain))
	return nil
}

// encryptedMode is the codec as a user deploys it by default: one
// AES-256-GCM key, no compression, the failure converter on.
func encryptedMode() (e2e.Mode, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return e2e.Mode{}, err
	}
	k, err := codec.NewKey("bench-e2e", aead.AES256GCM, key)
	if err != nil {
		return e2e.Mode{}, err
	}
	ring, err := codec.NewKeyring(k)
	if err != nil {
		return e2e.Mode{}, err
	}
	c, err := codec.New(ring)
	if err != nil {
		return e2e.Mode{}, err
	}
	dc := codec.NewDataConverter(c)
	return e2e.Mode{Name: "encrypted", DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc)}, nil
}
