package awskms_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	kmsapi "github.com/aws/aws-sdk-go-v2/service/kms"
	localkms "github.com/nsmithuk/local-kms/src"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/awskms"
	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

var configOnce sync.Once

// newLocalKMS serves the local-kms emulator in this process, on 127.0.0.1,
// with its database in a temporary directory, and returns a client for it.
func newLocalKMS(t *testing.T) *kmsapi.Client {
	t.Helper()
	configOnce.Do(func() {
		config.AWSRegion = "eu-west-2"
		config.AWSAccountId = "111122223333"
	})
	db := data.NewDatabase(t.TempDir())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		localkms.HandleRequest(w, r, db)
	}))
	t.Cleanup(func() {
		srv.Close()
		db.Close()
	})
	return newClient(srv)
}

func newClient(srv *httptest.Server) *kmsapi.Client {
	return kmsapi.New(kmsapi.Options{
		Region:           "eu-west-2",
		BaseEndpoint:     aws.String(srv.URL),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
	})
}

func createKey(t *testing.T, c *kmsapi.Client) string {
	t.Helper()
	out, err := c.CreateKey(context.Background(), &kmsapi.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return *out.KeyMetadata.Arn
}

func newWrapper(t *testing.T, c *kmsapi.Client, arn string) *awskms.Wrapper {
	t.Helper()
	w, err := awskms.New(c, arn)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func newCodec(t *testing.T, src codec.KeySource, ns string) *codec.Codec {
	t.Helper()
	c, err := codec.New(src)
	if err != nil {
		t.Fatal(err)
	}
	return c.ForNamespace(ns)
}

var secret = []byte(`"CANARY-aws-3b9f"`)

func payload() []*commonpb.Payload {
	return []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: secret}}
}

func TestRoundTrip(t *testing.T) {
	client := newLocalKMS(t)
	arn := createKey(t, client)
	tests := []struct {
		name string
		opts []kms.Option
	}{
		{"local data keys", nil},
		{"GenerateDataKey", []kms.Option{kms.WithDataKeysFromKMS()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := kms.NewSource(newWrapper(t, client, arn), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := newCodec(t, src, "payments").Encode(payload())
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if bytes.Contains(enc[0].GetData(), secret) {
				t.Fatal("plaintext in encoded payload")
			}
			if id := string(enc[0].GetMetadata()[codec.MetadataKeyID]); id != arn {
				t.Errorf("key ID = %q, want the key ARN", id)
			}

			// A new process, which must ask KMS.
			src2, _ := kms.NewSource(newWrapper(t, client, arn))
			dec, err := newCodec(t, src2, "payments").Decode(enc)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !bytes.Equal(dec[0].GetData(), secret) {
				t.Fatal("Decode(Encode(x)) != x")
			}

			// KMS enforces the encryption context: another namespace
			// cannot unwrap the data key.
			src3, _ := kms.NewSource(newWrapper(t, client, arn))
			out, err := newCodec(t, src3, "marketing").Decode(enc)
			if !errors.Is(err, kms.ErrUnwrap) || out != nil {
				t.Errorf("Decode in another namespace = %v, want ErrUnwrap", err)
			}
		})
	}
}

func TestWrongKeyIsRefused(t *testing.T) {
	client := newLocalKMS(t)
	a, b := createKey(t, client), createKey(t, client)
	wa, wb := newWrapper(t, client, a), newWrapper(t, client, b)
	wrapped, err := wa.Wrap(context.Background(), make([]byte, 32), kms.Binding{Algorithm: "aes-256-gcm"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wb.Unwrap(context.Background(), wrapped, kms.Binding{Algorithm: "aes-256-gcm"}); !errors.Is(err, kms.ErrUnwrap) {
		t.Errorf("Unwrap under another KMS key = %v, want ErrUnwrap", err)
	}
}

// TestCryptoShredding gives each tenant its own KMS key, schedules one for
// deletion, and checks that only that tenant's history stops opening.
func TestCryptoShredding(t *testing.T) {
	client := newLocalKMS(t)
	keys := map[string]string{"tenant-a": createKey(t, client), "tenant-b": createKey(t, client)}
	resolver := kms.PerNamespace(func(_ context.Context, ns string) (kms.Wrapper, error) {
		arn, ok := keys[ns]
		if !ok {
			return nil, &codec.UnknownKeyError{ID: ns}
		}
		return awskms.New(client, arn)
	})
	src, err := kms.NewSourceWithResolver(resolver, kms.WithRequireNamespace())
	if err != nil {
		t.Fatal(err)
	}
	a, b := newCodec(t, src, "tenant-a"), newCodec(t, src, "tenant-b")
	pa, err := a.Encode(payload())
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.Encode(payload())
	if err != nil {
		t.Fatal(err)
	}

	pending := int32(7)
	if _, err := client.ScheduleKeyDeletion(context.Background(), &kmsapi.ScheduleKeyDeletionInput{
		KeyId: aws.String(keys["tenant-a"]), PendingWindowInDays: &pending,
	}); err != nil {
		t.Fatal(err)
	}
	src.Forget("tenant-a")

	out, err := a.Decode(pa)
	if !errors.Is(err, kms.ErrUnwrap) || out != nil {
		t.Errorf("Decode of the erased tenant = %v, want ErrUnwrap", err)
	}
	if _, err := a.Encode(payload()); err == nil {
		t.Error("Encode for the erased tenant succeeded")
	}
	if _, err := b.Decode(pb); err != nil {
		t.Errorf("Decode of the other tenant: %v", err)
	}
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    error
		notWant error
	}{
		{"throttled", 400, `{"__type":"ThrottlingException","message":"Rate exceeded"}`, kms.ErrThrottled, nil},
		{"internal", 500, `{"__type":"KMSInternalException","message":"x"}`, kms.ErrUnavailable, kms.ErrThrottled},
		{"unavailable key", 500, `{"__type":"KeyUnavailableException","message":"x"}`, kms.ErrUnavailable, nil},
		{"invalid ciphertext", 400, `{"__type":"InvalidCiphertextException","message":""}`, kms.ErrUnwrap, kms.ErrUnavailable},
		{"access denied", 400, `{"__type":"AccessDeniedException","message":"no"}`, nil, kms.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			w := newWrapper(t, newClient(srv), "arn:aws:kms:eu-west-2:111122223333:key/x")
			_, err := w.Unwrap(context.Background(), []byte("wrapped"), kms.Binding{Algorithm: "aes-256-gcm"})
			if err == nil {
				t.Fatal("Unwrap succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Unwrap = %v, want %v", err, tt.want)
			}
			if tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Errorf("Unwrap = %v, must not wrap %v", err, tt.notWant)
			}
		})
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens: a network error
	w := newWrapper(t, newClient(srv), "arn:aws:kms:eu-west-2:111122223333:key/x")
	if _, err := w.Wrap(context.Background(), make([]byte, 32), kms.Binding{}); !errors.Is(err, kms.ErrUnavailable) {
		t.Errorf("Wrap with the endpoint down = %v, want ErrUnavailable", err)
	}
}
