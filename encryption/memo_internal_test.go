package encryption

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/temporal-encryption/temporal-encryption/codec"
)

// downKeys is a key source in an outage.
type downKeys struct{}

func (downKeys) EncryptionKey(context.Context) (*codec.Key, error) {
	return nil, fmt.Errorf("%w: test outage", codec.ErrUnavailable)
}

func (downKeys) DecryptionKey(context.Context, codec.KeyRef) (*codec.Key, error) {
	return nil, fmt.Errorf("%w: test outage", codec.ErrUnavailable)
}

// encodeMemo does what the SDK does with a memo value: the client's data
// converter first and, if that fails, the default converter.
func encodeMemo(dc converter.DataConverter, v any) (*commonpb.Payload, error) {
	p, err := dc.ToPayload(v)
	if err == nil {
		return p, nil
	}
	if p, ferr := converter.GetDefaultDataConverter().ToPayload(v); ferr == nil {
		return p, nil
	}
	return nil, err
}

func TestMemoGuardFailsClosed(t *testing.T) {
	c, err := codec.New(downKeys{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlugin(c)
	if err != nil {
		t.Fatal(err)
	}

	// Unguarded, the SDK's fallback stores the value in clear.
	if got, err := encodeMemo(p.DataConverter(), "secret note"); err != nil ||
		string(got.GetMetadata()["encoding"]) != "json/plain" {
		t.Fatalf("unguarded memo = %v, %v; want the SDK's plaintext fallback", got, err)
	}

	sealed := sealMemo(map[string]any{"note": "secret note"})
	got, err := encodeMemo(p.DataConverter(), sealed["note"])
	if !errors.Is(err, codec.ErrUnavailable) || got != nil {
		t.Fatalf("guarded memo = %v, %v; want no payload and the codec's error", got, err)
	}
}

func TestMemoGuardEncodes(t *testing.T) {
	keys := testKeyring(t)
	c, err := codec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlugin(c)
	if err != nil {
		t.Fatal(err)
	}
	dc := converter.WithDataConverterSerializationContext(p.DataConverter(),
		converter.WorkflowSerializationContext{Namespace: "ns", WorkflowID: "wf"})
	if _, ok := dc.(memoGuard); !ok {
		t.Fatalf("bound data converter is %T, want the guard kept", dc)
	}
	if cp, ok := dc.(converter.PayloadCodecProvider); !ok || cp.Codec() == nil {
		t.Fatal("bound data converter hides its codec; headers would not be encrypted")
	}

	sealed := sealMemo(map[string]any{"n": 7})
	for name, encode := range map[string]func() ([]*commonpb.Payload, error){
		"ToPayload": func() ([]*commonpb.Payload, error) {
			p, err := dc.ToPayload(sealed["n"])
			return []*commonpb.Payload{p}, err
		},
		"ToPayloads": func() ([]*commonpb.Payload, error) {
			ps, err := dc.ToPayloads("plain", sealed["n"])
			return ps.GetPayloads()[1:], err
		},
	} {
		t.Run(name, func(t *testing.T) {
			ps, err := encode()
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := dc.FromPayload(ps[0], &n); err != nil || n != 7 {
				t.Fatalf("round trip = %d, %v; want 7", n, err)
			}
		})
	}
}

func TestSealMemo(t *testing.T) {
	payload := &commonpb.Payload{Data: []byte(`"readable"`)}
	in := map[string]any{"a": "x", "p": payload}
	out := sealMemo(in)
	if in["a"] != "x" {
		t.Error("sealMemo modified its input")
	}
	if out["p"] != payload {
		t.Error("sealMemo wrapped a payload; schedule actions pass payloads through as given")
	}
	if m, ok := out["a"].(memoValue); !ok || m.v != "x" {
		t.Errorf("sealMemo(a) = %#v, want the value wrapped", out["a"])
	}
	if again := sealMemo(out); again["a"] != out["a"] {
		t.Error("sealMemo wrapped a value twice")
	}
	if sealMemo(nil) != nil {
		t.Error("sealMemo(nil) != nil")
	}
	// The SDK's JSON converter formats the error with %v, so match text.
	if _, err := converter.GetDefaultDataConverter().ToPayload(out["a"]); err == nil ||
		!strings.Contains(err.Error(), errMemoFallback.Error()) {
		t.Errorf("default converter on a wrapped value: %v, want errMemoFallback", err)
	}
}

func testKeyring(t *testing.T) *codec.Keyring {
	t.Helper()
	k, err := codec.NewKey("k", "aes-256-gcm", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	r, err := codec.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
