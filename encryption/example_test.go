package encryption_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/encryption"
)

// exampleKey is a fixed key so that the examples' output is stable. Never
// hard-code a real key: load it from a KMS or a secret store.
const exampleKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func exampleEnv(name string) string {
	switch name {
	case envkey.VarKey:
		return exampleKey
	case envkey.VarKeyID:
		return "example-key"
	}
	return ""
}

// Install the plugin on a client; workers made from the client encrypt
// too. Build one codec and one plugin per process and share them.
func ExampleNewPlugin() {
	keys, err := envkey.LoadFrom(exampleEnv) // envkey.Load() in a real program
	if err != nil {
		log.Fatal(err)
	}
	c, err := codec.New(keys)
	if err != nil {
		log.Fatal(err)
	}

	p, err := encryption.NewPlugin(c)
	if err != nil {
		log.Fatal(err)
	}
	opts := client.Options{Plugins: []client.Plugin{p}} // then client.Dial(opts)
	_ = opts

	// What a client with the plugin sends the server:
	payload, err := p.DataConverter().ToPayload("account ACCT-1234")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(payload.Metadata["encoding"]), string(payload.Metadata[codec.MetadataKeyID]))

	var back string
	if err := p.DataConverter().FromPayload(payload, &back); err != nil {
		log.Fatal(err)
	}
	fmt.Println(back)
	// Output:
	// binary/encrypted example-key
	// account ACCT-1234
}

// Dial a client from the same configuration the Temporal CLI reads
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, a profile in
// temporal.toml) with the key from TEMPORAL_ENCRYPTION_KEY.
func ExampleDial() {
	cl, err := encryption.Dial(context.Background())
	if err != nil {
		log.Fatal(err) // says which variable or file to fix
	}
	defer cl.Close()

	w := worker.New(cl, "orders", worker.Options{}) // encrypts too
	_ = w
}

// LoadClientOptions is Dial without the dial, for callers that want to
// adjust the options first. WithEnviron replaces the process environment,
// as a test would.
func ExampleLoadClientOptions() {
	opts, err := encryption.LoadClientOptions(
		encryption.WithEnviron([]string{
			"TEMPORAL_CONFIG_FILE=/nonexistent/temporal.toml",
			"TEMPORAL_ADDRESS=temporal.example.com:7233",
			"TEMPORAL_NAMESPACE=orders",
			"TEMPORAL_ENCRYPTION_KEY=" + exampleKey,
		}),
		encryption.WithClientOptions(func(o *client.Options) {
			o.Identity = "order-worker"
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(opts.HostPort, opts.Namespace, opts.Identity)
	fmt.Println(opts.Plugins[0].Name())
	// Output:
	// temporal.example.com:7233 orders order-worker
	// temporal-encryption
}

// Wrap a context propagator so that the header it writes is encrypted. Use
// the wrapped propagator on every client and worker.
func ExampleEncryptHeaders() {
	var tenant workflow.ContextPropagator = tenantPropagator{} // your propagator
	opts := client.Options{
		ContextPropagators: []workflow.ContextPropagator{encryption.EncryptHeaders(tenant)},
	}

	cp, ok := opts.ContextPropagators[0].(workflow.CodecContextPropagator)
	fmt.Println(ok && cp.EncodeHeaders())
	// Output:
	// true
}

// Log every payload the worker cannot decode, such as a signal sent by a
// client holding a key the worker lacks, with the key ID and workflow ID
// and nothing of the payload.
func ExampleLogDecodeFailures() {
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	keys, err := envkey.LoadFrom(exampleEnv)
	if err != nil {
		log.Fatal(err)
	}
	c, err := codec.New(keys)
	if err != nil {
		log.Fatal(err)
	}
	p, err := encryption.NewPlugin(c,
		encryption.WithDecodeFailureHook(encryption.LogDecodeFailures(logger)))
	if err != nil {
		log.Fatal(err)
	}
	_ = client.Options{Logger: logger, Plugins: []client.Plugin{p}}
	// p.DecodeFailures() counts them, for a metrics gauge.
}
