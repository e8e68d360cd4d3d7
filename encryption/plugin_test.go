package encryption_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/encryption"
)

// keyring returns a keyring holding one fresh key named id.
func keyring(t *testing.T, id string) *codec.Keyring {
	t.Helper()
	key, err := envkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := envkey.LoadFrom(func(name string) string {
		switch name {
		case envkey.VarKey:
			return key
		case envkey.VarKeyID:
			return id
		}
		return ""
	})
	if err != nil {
		t.Fatalf("envkey.LoadFrom: %v", err)
	}
	return ring
}

// newCodec returns a codec holding one fresh key named id.
func newCodec(t *testing.T, id string) *codec.Codec {
	t.Helper()
	c, err := codec.New(keyring(t, id))
	if err != nil {
		t.Fatalf("codec.New: %v", err)
	}
	return c
}

func newPlugin(t *testing.T, id string, opts ...encryption.Option) *encryption.Plugin {
	t.Helper()
	p, err := encryption.NewPlugin(newCodec(t, id), opts...)
	if err != nil {
		t.Fatalf("NewPlugin: %v", err)
	}
	return p
}

func TestNewPluginRejects(t *testing.T) {
	c := newCodec(t, "k")
	tests := []struct {
		name  string
		codec *codec.Codec
		opts  []encryption.Option
		want  string
	}{
		{"nil codec", nil, nil, "nil codec"},
		{"nil option", c, []encryption.Option{nil}, "nil option"},
		{"nil hook", c, []encryption.Option{encryption.WithDecodeFailureHook(nil)}, "nil function"},
		{"key source", c, []encryption.Option{encryption.WithKeySource(&codec.Keyring{})}, "WithKeySource"},
		{"codec options", c, []encryption.Option{encryption.WithCodecOptions()}, "WithCodecOptions"},
		{"environ", c, []encryption.Option{encryption.WithEnviron(nil)}, "WithEnviron"},
		{"client options", c, []encryption.Option{
			encryption.WithClientOptions(func(*client.Options) {}),
		}, "WithClientOptions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := encryption.NewPlugin(tt.codec, tt.opts...)
			if err == nil || p != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewPlugin = %v, %v; want nil and an error mentioning %q", p, err, tt.want)
			}
		})
	}
}

// clientOptions runs p's client configuration over o, as client.Dial does.
func clientOptions(t *testing.T, p *encryption.Plugin, o client.Options) client.Options {
	t.Helper()
	err := p.ConfigureClient(context.Background(), client.PluginConfigureClientOptions{ClientOptions: &o})
	if err != nil {
		t.Fatalf("ConfigureClient: %v", err)
	}
	return o
}

func TestConfigureClientInstallsConverters(t *testing.T) {
	p := newPlugin(t, "k1")
	custom := converter.NewCompositeDataConverter(converter.NewJSONPayloadConverter())
	tests := []struct {
		name string
		dc   converter.DataConverter
		fc   converter.FailureConverter
		same bool // the plugin's own data converter is installed
	}{
		{name: "no converter", same: true},
		{name: "plugin's converter", dc: p.DataConverter(), same: true},
		{name: "custom converter is wrapped", dc: custom},
		{name: "failure converter is replaced", fc: temporal.GetDefaultFailureConverter(), same: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := clientOptions(t, p, client.Options{DataConverter: tt.dc, FailureConverter: tt.fc})
			if tt.same != (o.DataConverter == p.DataConverter()) {
				t.Errorf("installed the plugin's own data converter: %v, want %v",
					o.DataConverter == p.DataConverter(), tt.same)
			}
			checkEncrypts(t, o.DataConverter, "k1")
			checkFailureEncrypted(t, o.FailureConverter, o.DataConverter)
		})
	}
}

func TestConfigureWorkflowReplayer(t *testing.T) {
	p := newPlugin(t, "k1")
	var o worker.WorkflowReplayerOptions
	err := p.ConfigureWorkflowReplayer(context.Background(),
		worker.PluginConfigureWorkflowReplayerOptions{WorkflowReplayerOptions: &o})
	if err != nil {
		t.Fatalf("ConfigureWorkflowReplayer: %v", err)
	}
	checkEncrypts(t, o.DataConverter, "k1")
	checkFailureEncrypted(t, o.FailureConverter, o.DataConverter)
}

// checkEncrypts checks that dc seals a value under keyID and reads it back.
func checkEncrypts(t *testing.T, dc converter.DataConverter, keyID string) {
	t.Helper()
	if dc == nil {
		t.Fatal("no data converter installed")
	}
	p, err := dc.ToPayload("secret value")
	if err != nil {
		t.Fatalf("ToPayload: %v", err)
	}
	enc, id := string(p.Metadata["encoding"]), string(p.Metadata[codec.MetadataKeyID])
	if enc != codec.EncodingEncrypted || id != keyID {
		t.Fatalf("ToPayload wrote encoding %q key %q, want %q key %q",
			enc, id, codec.EncodingEncrypted, keyID)
	}
	if strings.Contains(string(p.Data), "secret") {
		t.Fatal("ToPayload left the value in clear")
	}
	var back string
	if err := dc.FromPayload(p, &back); err != nil || back != "secret value" {
		t.Fatalf("FromPayload = %q, %v; want the value back", back, err)
	}
}

// checkFailureEncrypted checks that fc moves an error's message into a
// payload that dc encrypts.
func checkFailureEncrypted(t *testing.T, fc converter.FailureConverter, dc converter.DataConverter) {
	t.Helper()
	if fc == nil {
		t.Fatal("no failure converter installed")
	}
	f := fc.ErrorToFailure(temporal.NewApplicationError("card 4111 declined", "Declined"))
	if strings.Contains(f.GetMessage(), "4111") || f.GetEncodedAttributes() == nil {
		t.Fatalf("failure message %q is in clear", f.GetMessage())
	}
	if enc := string(f.GetEncodedAttributes().GetMetadata()["encoding"]); enc != codec.EncodingEncrypted {
		t.Fatalf("encoded attributes have encoding %q, want %q", enc, codec.EncodingEncrypted)
	}
	var appErr *temporal.ApplicationError
	if err := fc.FailureToError(f); !errors.As(err, &appErr) || appErr.Message() != "card 4111 declined" {
		t.Fatalf("FailureToError = %v, want the original message", err)
	}
}

// recorder collects decode failures.
type recorder struct {
	mu  sync.Mutex
	got []encryption.DecodeFailure
}

func (r *recorder) hook(f encryption.DecodeFailure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, f)
}

func (r *recorder) all() []encryption.DecodeFailure {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]encryption.DecodeFailure(nil), r.got...)
}

func TestDecodeFailureHook(t *testing.T) {
	sender := newPlugin(t, "sender-key")
	good, err := sender.DataConverter().ToPayload("signal argument")
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	receiver := newPlugin(t, "receiver-key", encryption.WithDecodeFailureHook(rec.hook))
	own, err := receiver.DataConverter().ToPayload("own")
	if err != nil {
		t.Fatal(err)
	}
	tampered := &commonpb.Payload{Metadata: own.Metadata, Data: append([]byte(nil), own.Data...)}
	tampered.Data[len(tampered.Data)-1] ^= 1

	dc := converter.WithDataConverterSerializationContext(receiver.DataConverter(),
		converter.WorkflowSerializationContext{Namespace: "ns1", WorkflowID: "wf-7"})
	tests := []struct {
		name     string
		payloads []*commonpb.Payload
		want     encryption.DecodeFailure
	}{
		{"unknown key", []*commonpb.Payload{good},
			encryption.DecodeFailure{KeyID: "sender-key", Reason: encryption.ReasonUnknownKey}},
		{"tampered", []*commonpb.Payload{tampered},
			encryption.DecodeFailure{KeyID: "receiver-key", Reason: encryption.ReasonDecrypt}},
		{"second of two", []*commonpb.Payload{own, tampered},
			encryption.DecodeFailure{KeyID: "receiver-key", Reason: encryption.ReasonDecrypt}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v1, v2 string
			err := dc.FromPayloads(&commonpb.Payloads{Payloads: tt.payloads}, &v1, &v2)
			if err == nil {
				t.Fatal("FromPayloads succeeded, want a decode error")
			}
			got := rec.all()
			if len(got) != i+1 {
				t.Fatalf("hook called %d times in all, want %d", len(got), i+1)
			}
			f := got[i]
			if f.Namespace != "ns1" || f.WorkflowID != "wf-7" || f.KeyID != tt.want.KeyID ||
				f.Reason != tt.want.Reason || f.Algorithm != "aes-256-gcm" || f.Err == nil {
				t.Errorf("hook got %+v, want namespace ns1, workflow wf-7, key %q, reason %q",
					f, tt.want.KeyID, tt.want.Reason)
			}
			if strings.Contains(fmt.Sprint(f), "signal argument") {
				t.Error("decode failure carries payload content")
			}
			if n := receiver.DecodeFailures(); n != uint64(i+1) {
				t.Errorf("DecodeFailures() = %d, want %d", n, i+1)
			}
		})
	}
}

// capLogger records what a hook logs.
type capLogger struct {
	lines []string
}

func (l *capLogger) log(level, msg string, kv []any) {
	l.lines = append(l.lines, fmt.Sprint(append([]any{level, msg}, kv...)...))
}
func (l *capLogger) Debug(msg string, kv ...any) { l.log("DEBUG", msg, kv) }
func (l *capLogger) Info(msg string, kv ...any)  { l.log("INFO", msg, kv) }
func (l *capLogger) Warn(msg string, kv ...any)  { l.log("WARN", msg, kv) }
func (l *capLogger) Error(msg string, kv ...any) { l.log("ERROR", msg, kv) }

func TestLogDecodeFailures(t *testing.T) {
	var l capLogger
	encryption.LogDecodeFailures(&l)(encryption.DecodeFailure{
		Namespace: "ns1", WorkflowID: "wf-7", KeyID: "k9", Reason: encryption.ReasonUnknownKey,
		Err: &codec.UnknownKeyError{ID: "k9"},
	})
	if len(l.lines) != 1 {
		t.Fatalf("logged %d lines, want 1", len(l.lines))
	}
	for _, want := range []string{"WARN", "wf-7", "k9", "ns1", encryption.ReasonUnknownKey} {
		if !strings.Contains(l.lines[0], want) {
			t.Errorf("log line %q lacks %q", l.lines[0], want)
		}
	}
}

// tenantPropagator carries a tenant name in header "tenant".
type tenantPropagator struct{}

type tenantKey struct{}

func (tenantPropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	return nil
}

func (tenantPropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	return context.WithValue(ctx, tenantKey{}, "extracted"), nil
}

func (tenantPropagator) InjectFromWorkflow(workflow.Context, workflow.HeaderWriter) error {
	return nil
}

func (tenantPropagator) ExtractToWorkflow(
	ctx workflow.Context, _ workflow.HeaderReader,
) (workflow.Context, error) {
	return ctx, nil
}

// optedIn already asks for its headers to be encoded.
type optedIn struct{ tenantPropagator }

func (optedIn) EncodeHeaders() bool { return true }

func TestEncryptHeaders(t *testing.T) {
	if got := encryption.EncryptHeaders(nil); got != nil {
		t.Errorf("EncryptHeaders(nil) = %v, want nil", got)
	}
	already := optedIn{}
	if got := encryption.EncryptHeaders(already); got != workflow.ContextPropagator(already) {
		t.Errorf("EncryptHeaders(opted in) = %T, want the propagator unchanged", got)
	}

	p := encryption.EncryptHeaders(tenantPropagator{})
	cp, ok := p.(workflow.CodecContextPropagator)
	if !ok || !cp.EncodeHeaders() {
		t.Fatalf("EncryptHeaders returned %T, want a CodecContextPropagator that encodes", p)
	}
	ctx, err := p.Extract(context.Background(), nil)
	if err != nil || ctx.Value(tenantKey{}) != "extracted" {
		t.Fatalf("wrapped Extract = %v, %v; want the wrapped propagator's", ctx, err)
	}
}

func TestDecodeFailureBoundsKeyID(t *testing.T) {
	var rec recorder
	p := newPlugin(t, "k", encryption.WithDecodeFailureHook(rec.hook))
	long := strings.Repeat("x", 5000) + "\xff"
	forged := &commonpb.Payload{Metadata: map[string][]byte{
		"encoding":              []byte(codec.EncodingEncrypted),
		codec.MetadataFormat:    []byte("1"),
		codec.MetadataAlgorithm: []byte(long),
		codec.MetadataKeyID:     []byte(long),
	}, Data: make([]byte, 40)}
	var v string
	if err := p.DataConverter().FromPayload(forged, &v); err == nil {
		t.Fatal("forged payload decoded")
	}
	got := rec.all()
	if len(got) != 1 {
		t.Fatalf("hook called %d times, want 1", len(got))
	}
	if len(got[0].KeyID) > 256 || len(got[0].Algorithm) > 256 {
		t.Errorf("reported key ID of %d bytes and algorithm of %d, want at most 256",
			len(got[0].KeyID), len(got[0].Algorithm))
	}
}
