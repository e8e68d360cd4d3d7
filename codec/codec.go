package codec

import (
	"context"
	"fmt"
	"io"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec/internal/envelope"
)

// Metadata keys and the encoding this codec writes. See the package doc for
// the whole wire format.
const (
	EncodingEncrypted = envelope.EncodingEncrypted
	MetadataKeyID     = envelope.KeyKeyID
	MetadataAlgorithm = envelope.KeyAlgorithm
	MetadataFormat    = envelope.KeyFormat
)

// Codec encrypts and decrypts Temporal payloads. It implements
// [converter.PayloadCodec] and is safe for concurrent use; build one per
// process and share it between clients and workers.
type Codec struct {
	keys   KeySource
	rand   io.Reader
	legacy bool
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec that takes its keys from keys.
func New(keys KeySource, opts ...Option) (*Codec, error) {
	if keys == nil {
		return nil, fmt.Errorf("codec: nil key source")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return &Codec{keys: keys, rand: cfg.rand, legacy: cfg.legacy}, nil
}

// Encode encrypts every payload with the key source's current encryption
// key. It returns exactly one payload per input, in order, or an error and
// no payloads: it never returns a payload in clear. A nil element is
// encoded as an empty payload. Encode does not modify its input, and its
// output shares no memory with it.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	if len(payloads) == 0 {
		return out, nil
	}
	ctx := context.Background()
	k, err := c.keys.EncryptionKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("codec: encryption key: %w", err)
	}
	for i, p := range payloads {
		if out[i], err = c.seal(k, p); err != nil {
			return nil, fmt.Errorf("codec: payload %d: %w", i, err)
		}
	}
	return out, nil
}

func (c *Codec) seal(k *Key, p *commonpb.Payload) (*commonpb.Payload, error) {
	bp := getBuf(proto.Size(p))
	plain, err := proto.MarshalOptions{}.MarshalAppend((*bp)[:0], p)
	if err != nil {
		*bp = (*bp)[:cap(*bp)] // clear whatever the failed marshal wrote
		putBuf(bp)
		return nil, fmt.Errorf("marshal: %w", err)
	}
	*bp = plain // sized by proto.Size, so this is the pooled array
	defer putBuf(bp)

	h := envelope.Header{
		Version:    envelope.Version,
		Algorithm:  string(k.alg.ID()),
		KeyID:      k.id,
		WrappedKey: k.wrapped,
	}
	var adBuf [128]byte
	ad := envelope.AppendAssociatedData(adBuf[:0], &h)

	ns := k.alg.NonceSize()
	data := make([]byte, ns, ns+len(plain)+k.alg.Overhead())
	if _, err := io.ReadFull(c.rand, data); err != nil {
		return nil, ErrRandom
	}
	data = k.aead.Seal(data, data[:ns], plain, ad)
	return &commonpb.Payload{Metadata: h.Metadata(), Data: data}, nil
}

// Decode decrypts the payloads this codec's format marks as encrypted and
// returns every other payload unchanged (as a copy). It returns exactly one
// payload per input, in order, or an error and no payloads. A nil element
// decodes to an empty payload. Decode does not modify its input, and its
// output shares no memory with it.
//
// A payload that does not authenticate fails with [ErrDecrypt]; one that
// names a key the source lacks fails with an [*UnknownKeyError]. Errors name
// the payload's index and never include its contents.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	ctx := context.Background()
	for i, p := range payloads {
		var err error
		if out[i], err = c.open(ctx, p); err != nil {
			return nil, fmt.Errorf("codec: payload %d: %w", i, err)
		}
	}
	return out, nil
}

func (c *Codec) open(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	if p == nil {
		return &commonpb.Payload{}, nil
	}
	md := p.GetMetadata()
	switch envelope.Classify(md) {
	case envelope.Foreign:
		return proto.Clone(p).(*commonpb.Payload), nil
	case envelope.Legacy:
		return c.openLegacy(ctx, p)
	}

	h, err := envelope.Parse(md)
	switch {
	case err == envelope.ErrVersion:
		return nil, ErrUnsupportedVersion
	case err != nil:
		return nil, ErrDecrypt
	case h.Compression != "" || h.Scope != "":
		// Reserved for compression and context binding, which this
		// version does not write.
		return nil, ErrDecrypt
	}
	k, err := c.keys.DecryptionKey(ctx, KeyRef{
		ID: h.KeyID, Algorithm: aead.ID(h.Algorithm), Wrapped: h.WrappedKey,
	})
	if err != nil {
		return nil, err
	}
	if string(k.alg.ID()) != h.Algorithm {
		return nil, ErrDecrypt
	}
	var adBuf [128]byte
	ad := envelope.AppendAssociatedData(adBuf[:0], &h)
	return openData(k, p.GetData(), ad)
}

func (c *Codec) openLegacy(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	if !c.legacy {
		return nil, ErrLegacyFormat
	}
	id, err := envelope.ParseLegacy(p.GetMetadata())
	if err != nil {
		return nil, ErrDecrypt
	}
	k, err := c.keys.DecryptionKey(ctx, KeyRef{ID: id, Algorithm: aead.AES256GCM})
	if err != nil {
		return nil, err
	}
	if k.alg.ID() != aead.AES256GCM {
		return nil, ErrDecrypt
	}
	return openData(k, p.GetData(), nil)
}

// openData authenticates and decrypts data = nonce ‖ ciphertext ‖ tag and
// unmarshals the inner payload.
func openData(k *Key, data, ad []byte) (*commonpb.Payload, error) {
	ns, overhead := k.alg.NonceSize(), k.alg.Overhead()
	if len(data) < ns+overhead {
		return nil, ErrDecrypt
	}
	bp := getBuf(len(data) - ns - overhead)
	plain, err := k.aead.Open((*bp)[:0], data[:ns], data[ns:], ad)
	if err != nil {
		// Open zeroes what it wrote; nothing to clear.
		putBuf(bp)
		return nil, ErrDecrypt
	}
	*bp = plain
	defer putBuf(bp)

	out := new(commonpb.Payload)
	if err := proto.Unmarshal(plain, out); err != nil {
		// The ciphertext authenticated, so its sender held the key but
		// sealed something that is not a payload.
		return nil, fmt.Errorf("%w: inner payload does not parse", ErrDecrypt)
	}
	return out, nil
}
