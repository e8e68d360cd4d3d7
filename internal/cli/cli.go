// Package cli holds what the commands share: flag defaults from the
// environment, the one way they report errors, and dialing a client with
// the encrypting converters.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/encryption"
)

// Environment variables read for flag defaults, named as the Temporal CLI
// names them.
const (
	EnvAddress   = "TEMPORAL_ADDRESS"
	EnvNamespace = "TEMPORAL_NAMESPACE"
)

// Defaults when neither flag nor environment says otherwise.
const (
	DefaultAddress   = "127.0.0.1:7233"
	DefaultNamespace = "default"
)

// KeyHint is printed after a key configuration error.
const KeyHint = "export " + envkey.VarKey + "=$(openssl rand -hex 32) once, and give " +
	"the worker and the starter the same value"

// Error is an error a command reports, with an optional hint for the
// person who ran it.
type Error struct {
	Err  error
	Hint string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// WithHint attaches hint to err.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, Hint: hint}
}

// Exit reports err the way every command does, "<prog>: error: …" and an
// optional "<prog>: hint: …" on stderr, and exits with status 1. A nil err,
// or flag.ErrHelp, exits with status 0.
func Exit(prog string, err error) {
	os.Exit(Report(os.Stderr, prog, err))
}

// Report writes err as [Exit] does and returns the exit status.
func Report(w io.Writer, prog string, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(w, "%s: error: %v\n", prog, err)
	var e *Error
	if errors.As(err, &e) && e.Hint != "" {
		fmt.Fprintf(w, "%s: hint: %s\n", prog, e.Hint)
	}
	return 1
}

// Parse parses args with fs. Usage goes to stderr for -h, which makes
// Parse return [flag.ErrHelp]; a bad flag is returned as an error with a
// hint, so it is reported like any other.
func Parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stderr)
		fmt.Fprintf(os.Stderr, "usage: %s [flags]\n", fs.Name())
		fs.PrintDefaults()
		return err
	}
	if err != nil {
		return WithHint(err, "run "+fs.Name()+" -h for the flags")
	}
	if fs.NArg() > 0 {
		return WithHint(fmt.Errorf("unexpected argument %q", fs.Arg(0)), "run "+fs.Name()+" -h for the flags")
	}
	return nil
}

// Conn holds the connection flags every command takes.
type Conn struct {
	Address   string
	Namespace string
}

// AddFlags registers -address and -namespace on fs, with defaults from
// TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE.
func (c *Conn) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Address, "address", Env(EnvAddress, DefaultAddress),
		"Temporal frontend host:port (env "+EnvAddress+")")
	fs.StringVar(&c.Namespace, "namespace", Env(EnvNamespace, DefaultNamespace),
		"Temporal namespace (env "+EnvNamespace+")")
}

// Env returns the variable name, or def when it is unset or empty.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Converters loads the key from the environment and returns the
// encryption plugin with its data and failure converters. The error is the
// key source's one-line message, with a hint.
func Converters() (Conv, error) {
	ks, err := envkey.Load()
	if err != nil {
		return Conv{}, WithHint(err, KeyHint)
	}
	c, err := codec.New(ks)
	if err != nil {
		return Conv{}, err
	}
	p, err := encryption.NewPlugin(c)
	if err != nil {
		return Conv{}, err
	}
	return Conv{Data: p.DataConverter(), Failure: p.FailureConverter(), Plugin: p}, nil
}

// Conv is what a client needs to encrypt: the plugin, or, without one, a
// pair of converters.
type Conv struct {
	Data    converter.DataConverter
	Failure converter.FailureConverter
	// Plugin, when set, installs Data and Failure itself and also keeps
	// memos from falling back to plaintext; Dial then uses it alone.
	Plugin *encryption.Plugin
}

// Logger returns an SDK logger that writes warnings and errors to w.
func Logger(w io.Writer) log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(w,
		&slog.HandlerOptions{Level: slog.LevelWarn})))
}

// Dial connects to the server with the encrypting converters and checks
// that it answers.
func Dial(ctx context.Context, conn Conn, conv Conv, logger log.Logger) (client.Client, error) {
	opts := client.Options{
		HostPort:         conn.Address,
		Namespace:        conn.Namespace,
		DataConverter:    conv.Data,
		FailureConverter: conv.Failure,
		Logger:           logger,
	}
	if conv.Plugin != nil {
		opts.DataConverter, opts.FailureConverter = nil, nil
		opts.Plugins = []client.Plugin{conv.Plugin}
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, WithHint(fmt.Errorf("connect to %s: %w", conn.Address, err),
			"is a Temporal server running there? make demo starts one; or set -address / "+EnvAddress)
	}
	return c, nil
}
