package bench

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Metadata the sample-style codec writes and reads.
const (
	sampleEncoding = "binary/encrypted"
	sampleKeyID    = "encryption-key-id"
)

// SampleCodec is the baseline most users start from: a codec built the way
// Temporal's published encryption sample describes one. For every payload
// it builds a new AES-256-GCM cipher from the key, serializes the payload
// with proto.Marshal, seals it under a random 12-byte nonce that it
// prefixes to the ciphertext, and returns a new payload with metadata
// encoding = binary/encrypted and encryption-key-id; decoding reverses
// that with proto.Unmarshal. No associated data binds the metadata.
//
// It is written here from that description, to measure against; it is not
// the sample's code and not for production use. [codec.WithLegacyFormat]
// reads what it writes, which the tests check.
//
// SampleCodec is safe for concurrent use.
type SampleCodec struct {
	keyID string
	key   []byte
}

var _ converter.PayloadCodec = (*SampleCodec)(nil)

// NewSampleCodec returns a sample-style codec sealing under key, which must
// be 32 bytes, named keyID. The key is copied.
func NewSampleCodec(keyID string, key []byte) (*SampleCodec, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("bench: sample codec needs a 32-byte key, got %d bytes", len(key))
	}
	return &SampleCodec{keyID: keyID, key: append([]byte(nil), key...)}, nil
}

// Encode encrypts every payload.
func (c *SampleCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, err
		}
		sealed, err := c.seal(plain)
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				"encoding":  []byte(sampleEncoding),
				sampleKeyID: []byte(c.keyID),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode decrypts the payloads marked binary/encrypted and passes the rest
// through.
func (c *SampleCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()["encoding"]) != sampleEncoding {
			out[i] = p
			continue
		}
		if string(p.GetMetadata()[sampleKeyID]) != c.keyID {
			return nil, errors.New("bench: sample codec: unknown key ID")
		}
		plain, err := c.open(p.GetData())
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{}
		if err := proto.Unmarshal(plain, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *SampleCodec) gcm() (cipher.AEAD, error) {
	block, err := aes.NewCipher(c.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (c *SampleCodec) seal(plain []byte) ([]byte, error) {
	gcm, err := c.gcm()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, nil), nil
}

func (c *SampleCodec) open(data []byte) ([]byte, error) {
	gcm, err := c.gcm()
	if err != nil {
		return nil, err
	}
	ns := gcm.NonceSize()
	if len(data) < ns {
		return nil, errors.New("bench: sample codec: ciphertext too short")
	}
	return gcm.Open(nil, data[:ns], data[ns:], nil)
}

// Chain applies its codecs in order when encoding and in reverse order when
// decoding: Chain{zlib, sample} compresses, then encrypts. This is the
// order converter.NewCodecDataConverter gives codecs listed as
// (sample, zlib).
type Chain []converter.PayloadCodec

var _ converter.PayloadCodec = Chain(nil)

// Encode runs each codec's Encode in order.
func (ch Chain) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	var err error
	for _, c := range ch {
		if payloads, err = c.Encode(payloads); err != nil {
			return nil, err
		}
	}
	return payloads, nil
}

// Decode runs each codec's Decode in reverse order.
func (ch Chain) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	var err error
	for i := len(ch) - 1; i >= 0; i-- {
		if payloads, err = ch[i].Decode(payloads); err != nil {
			return nil, err
		}
	}
	return payloads, nil
}

// NewZlibSample returns the compression baseline: the SDK's zlib codec
// (converter.NewZlibCodec, default options) in front of a sample-style
// codec.
func NewZlibSample(sample *SampleCodec) Chain {
	return Chain{converter.NewZlibCodec(converter.ZlibCodecOptions{}), sample}
}
