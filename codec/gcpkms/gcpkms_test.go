package gcpkms_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"hash/crc32"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kmsapi "cloud.google.com/go/kms/apiv1"
	kmspb "cloud.google.com/go/kms/apiv1/kmspb"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/gcpkms"
	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

// fakeKMS serves the Encrypt and Decrypt methods of Cloud KMS on loopback,
// with one AES-256-GCM key per CryptoKey name. Its ciphertext is
// nonce ‖ sealed, with the AAD authenticated; it checks the CRC32C fields
// as Cloud KMS does.
type fakeKMS struct {
	kmspb.UnimplementedKeyManagementServiceServer

	mu       sync.Mutex
	keys     map[string]cipher.AEAD
	disabled map[string]bool
	failWith atomic.Int32 // a gRPC code to fail every call with, or 0
	calls    atomic.Int64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crcOf(b []byte) int64 { return int64(crc32.Checksum(b, castagnoli)) }

func (f *fakeKMS) key(name string) (cipher.AEAD, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.disabled[name] {
		return nil, status.Error(codes.FailedPrecondition, "key version is DESTROYED")
	}
	if g, ok := f.keys[name]; ok {
		return g, nil
	}
	k := make([]byte, 32)
	rand.Read(k)
	b, _ := aes.NewCipher(k)
	g, _ := cipher.NewGCM(b)
	f.keys[name] = g
	return g, nil
}

func (f *fakeKMS) fail() error {
	f.calls.Add(1)
	if c := codes.Code(f.failWith.Load()); c != 0 {
		return status.Error(c, "injected failure")
	}
	return nil
}

func (f *fakeKMS) Encrypt(_ context.Context, req *kmspb.EncryptRequest) (*kmspb.EncryptResponse, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	if req.GetPlaintextCrc32C().GetValue() != crcOf(req.GetPlaintext()) ||
		req.GetAdditionalAuthenticatedDataCrc32C().GetValue() != crcOf(req.GetAdditionalAuthenticatedData()) {
		return nil, status.Error(codes.InvalidArgument, "checksum mismatch")
	}
	g, err := f.key(req.GetName())
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	ct := g.Seal(nonce, nonce, req.GetPlaintext(), req.GetAdditionalAuthenticatedData())
	return &kmspb.EncryptResponse{
		Name: req.GetName() + "/cryptoKeyVersions/1", Ciphertext: ct,
		CiphertextCrc32C:                          wrapperspb.Int64(crcOf(ct)),
		VerifiedPlaintextCrc32C:                   req.PlaintextCrc32C != nil,
		VerifiedAdditionalAuthenticatedDataCrc32C: req.AdditionalAuthenticatedDataCrc32C != nil,
	}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, req *kmspb.DecryptRequest) (*kmspb.DecryptResponse, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	if req.GetCiphertextCrc32C().GetValue() != crcOf(req.GetCiphertext()) {
		return nil, status.Error(codes.InvalidArgument, "checksum mismatch")
	}
	g, err := f.key(req.GetName())
	if err != nil {
		return nil, err
	}
	ct := req.GetCiphertext()
	if len(ct) < g.NonceSize() {
		return nil, status.Error(codes.InvalidArgument, "Decryption failed")
	}
	pt, err := g.Open(nil, ct[:g.NonceSize()], ct[g.NonceSize():], req.GetAdditionalAuthenticatedData())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "Decryption failed: the ciphertext is invalid")
	}
	return &kmspb.DecryptResponse{Plaintext: pt, PlaintextCrc32C: wrapperspb.Int64(crcOf(pt))}, nil
}

func newFake(t *testing.T) (*fakeKMS, *kmsapi.KeyManagementClient) {
	t.Helper()
	f := &fakeKMS{keys: make(map[string]cipher.AEAD), disabled: make(map[string]bool)}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	kmspb.RegisterKeyManagementServiceServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	c, err := kmsapi.NewKeyManagementClient(context.Background(),
		option.WithEndpoint(lis.Addr().String()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return f, c
}

const keyName = "projects/p/locations/europe-west1/keyRings/temporal/cryptoKeys/payloads"

var secret = []byte(`"CANARY-gcp-9e2a"`)

func TestRoundTripThroughCodec(t *testing.T) {
	_, client := newFake(t)
	w, err := gcpkms.New(client, keyName)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := kms.NewSource(w)
	cd, _ := codec.New(src)
	enc, err := cd.ForNamespace("ns1").Encode([]*commonpb.Payload{{Data: secret}})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if id := string(enc[0].GetMetadata()[codec.MetadataKeyID]); id != keyName {
		t.Errorf("key ID = %q, want the CryptoKey name", id)
	}

	src2, _ := kms.NewSource(w)
	cd2, _ := codec.New(src2)
	dec, err := cd2.ForNamespace("ns1").Decode(enc)
	if err != nil || !bytes.Equal(dec[0].GetData(), secret) {
		t.Fatalf("Decode = %v, want the original", err)
	}
	out, err := cd2.ForNamespace("ns2").Decode(enc)
	if !errors.Is(err, kms.ErrUnwrap) || out != nil {
		t.Errorf("Decode in another namespace = %v, want ErrUnwrap", err)
	}
}

func TestErrorClasses(t *testing.T) {
	f, client := newFake(t)
	w, _ := gcpkms.New(client, keyName)
	ctx := context.Background()
	b := kms.Binding{Namespace: "ns", Algorithm: "aes-256-gcm"}
	wrapped, err := w.Wrap(ctx, make([]byte, 32), b)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		code    codes.Code
		want    error
		notWant error
	}{
		{"throttled", codes.ResourceExhausted, kms.ErrThrottled, nil},
		{"unavailable", codes.Unavailable, kms.ErrUnavailable, kms.ErrThrottled},
		{"permission denied", codes.PermissionDenied, nil, kms.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.failWith.Store(int32(tt.code))
			defer f.failWith.Store(0)
			// The client's own retries would wait; a short deadline ends them.
			cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			_, err := w.Unwrap(cctx, wrapped, b)
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

	// A destroyed key version shreds what it wrapped.
	f.mu.Lock()
	f.disabled[keyName] = true
	f.mu.Unlock()
	if _, err := w.Unwrap(ctx, wrapped, b); !errors.Is(err, kms.ErrUnwrap) {
		t.Errorf("Unwrap under a destroyed version = %v, want ErrUnwrap", err)
	}
}
