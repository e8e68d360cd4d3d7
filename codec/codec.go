package codec

import (
	"context"
	"errors"
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
	EncodingEncrypted   = envelope.EncodingEncrypted
	MetadataKeyID       = envelope.KeyKeyID
	MetadataAlgorithm   = envelope.KeyAlgorithm
	MetadataFormat      = envelope.KeyFormat
	MetadataCompression = envelope.KeyCompression
	MetadataScope       = envelope.KeyScope
	MetadataWrappedKey  = envelope.KeyWrappedKey
)

// scopeNamespace is the encryption-scope value of a payload bound to its
// namespace.
const scopeNamespace = envelope.ScopeNamespace

// algorithmIDs lists the algorithm names a header may carry.
var algorithmIDs = func() []string {
	var ids []string
	for _, a := range aead.All() {
		ids = append(ids, string(a.ID()))
	}
	return ids
}()

// Codec encrypts and decrypts Temporal payloads. It implements
// [converter.PayloadCodec] and [converter.PayloadCodecWithSerializationContext]
// and is safe for concurrent use; build one per process and share it
// between clients and workers.
type Codec struct {
	keys      KeySource
	cfg       *config
	namespace string
	ctx       context.Context // carries namespace for key sources
}

var (
	_ converter.PayloadCodec                         = (*Codec)(nil)
	_ converter.PayloadCodecWithSerializationContext = (*Codec)(nil)
)

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
	if cfg.compressMin > 0 {
		// Fail now, not on the first payload.
		if _, err := zstdEncoder(); err != nil {
			return nil, fmt.Errorf("codec: zstd: %w", err)
		}
	}
	return &Codec{keys: keys, cfg: &cfg, ctx: context.Background()}, nil
}

// ForNamespace returns a codec that shares c's keys and options and encodes
// and decodes payloads of the given namespace: key sources see it through
// [NamespaceFromContext], and [WithNamespaceBinding] binds it. The codec
// server calls this with the namespace of each request.
func (c *Codec) ForNamespace(namespace string) *Codec {
	if namespace == c.namespace {
		return c
	}
	cp := *c
	cp.namespace = namespace
	cp.ctx = context.Background()
	if namespace != "" {
		cp.ctx = WithNamespace(cp.ctx, namespace)
	}
	return &cp
}

// WithSerializationContext implements
// [converter.PayloadCodecWithSerializationContext]: the SDK calls it with the
// namespace and workflow the payloads belong to. Only the namespace is used.
func (c *Codec) WithSerializationContext(sc converter.SerializationContext) converter.PayloadCodec {
	var ns string
	switch v := sc.(type) {
	case converter.WorkflowSerializationContext:
		ns = v.Namespace
	case *converter.WorkflowSerializationContext:
		if v == nil {
			return c
		}
		ns = v.Namespace
	case converter.ActivitySerializationContext:
		ns = v.Namespace
	case *converter.ActivitySerializationContext:
		if v == nil {
			return c
		}
		ns = v.Namespace
	default:
		return c
	}
	return c.ForNamespace(ns)
}

// Encode encrypts every payload with the key source's current encryption
// key. It returns exactly one payload per input, in order, or an error and
// no payloads: it never returns a payload in clear. A nil element is
// encoded as an empty payload. Encode does not modify its input, and its
// output shares no memory with it.
//
// Each output payload costs at most four allocations: its struct (shared
// with the result slice for a batch of one), its metadata map (two), and one
// buffer holding its data and metadata values.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if len(payloads) == 0 {
		return []*commonpb.Payload{}, nil
	}
	k, err := c.keys.EncryptionKey(c.ctx)
	if err == nil && k == nil {
		err = errors.New("key source returned no key")
	}
	if err != nil {
		return nil, taskError(fmt.Errorf("codec: encryption key: %w", err))
	}
	out, slab := newPayloads(len(payloads))
	for i, p := range payloads {
		if err := c.seal(k, p, &slab[i]); err != nil {
			return nil, fmt.Errorf("codec: payload %d: %w", i, err)
		}
	}
	return out, nil
}

func (c *Codec) seal(k *Key, p *commonpb.Payload, dst *commonpb.Payload) error {
	if p == nil {
		p = &commonpb.Payload{}
	}
	h := envelope.Header{
		Version:    envelope.Version,
		Algorithm:  string(k.alg.ID()),
		KeyID:      k.id,
		WrappedKey: k.wrapped,
	}
	var bound []string
	if c.cfg.bindNamespace && c.namespace != "" {
		h.Scope = scopeNamespace
		bound = []string{c.namespace}
	}

	size, fast := sizePayload(p)
	var zbuf *[]byte
	if c.cfg.compressMin > 0 && size >= c.cfg.compressMin {
		if size > c.cfg.maxDecoded {
			return nonRetryable(&PayloadTooLargeError{Size: size, Limit: c.cfg.maxDecoded, Decoded: true})
		}
		var err error
		if zbuf, err = compressPayload(p, size, fast); err != nil {
			return err
		}
		if zbuf != nil {
			defer putBuf(zbuf)
			h.Compression = compressionZstd
		}
	}
	bodyLen := size
	if zbuf != nil {
		bodyLen = len(*zbuf)
	}

	ns := k.alg.NonceSize()
	dataLen := ns + bodyLen + k.alg.Overhead()
	total := dataLen + h.MetadataLen()
	if total > c.cfg.maxPayload {
		return nonRetryable(&PayloadTooLargeError{Size: total, Limit: c.cfg.maxPayload})
	}
	// One allocation holds the data, the metadata values, and, past
	// the end of both, the associated data, which is public.
	buf := make([]byte, total, total+envelope.AssociatedDataLen(&h, bound...))
	data := buf[:dataLen:dataLen]
	if _, err := io.ReadFull(c.cfg.rand, data[:ns]); err != nil {
		return ErrRandom
	}
	body := data[ns : ns+bodyLen]
	if zbuf != nil {
		copy(body, *zbuf)
	} else if err := marshalInto(body, p, fast); err != nil {
		clear(buf)
		return err
	}

	ad := envelope.AppendAssociatedData(buf[total:total], &h, bound...)
	sealed := k.aead.Seal(body[:0], data[:ns], body, ad)
	if len(sealed) != dataLen-ns || &sealed[0] != &data[ns] {
		// A backend that did not seal in place would leave plaintext in
		// data; never return it.
		clear(buf)
		clear(sealed)
		return errors.New("cipher did not seal in place")
	}

	md := make(map[string][]byte, h.Entries())
	h.PutMetadata(md, buf[dataLen:])
	dst.Metadata, dst.Data = md, data

	k.bytes.Add(uint64(bodyLen))
	c.afterSeal(k, total)
	return nil
}

// compressPayload serializes p and compresses it into a pooled buffer,
// which it returns only if the result is smaller than size.
func compressPayload(p *commonpb.Payload, size int, fast bool) (*[]byte, error) {
	// Both buffers ask for the same capacity, so that either can serve
	// as the other when they come back from the pool.
	bound := size + size>>6 + 64
	plain := getBuf(bound)
	*plain = (*plain)[:size]
	defer putBuf(plain)
	if err := marshalInto(*plain, p, fast); err != nil {
		return nil, err
	}
	zbuf := getBuf(bound)
	orig := (*zbuf)[:cap(*zbuf)]
	z, err := compress((*zbuf)[:0], *plain)
	if err != nil {
		putBuf(zbuf)
		return nil, fmt.Errorf("compress: %w", err)
	}
	if len(z) > 0 && &z[0] != &orig[0] {
		clear(orig) // the encoder outgrew the buffer; wipe what it left
	}
	*zbuf = z
	if len(z) >= size {
		putBuf(zbuf)
		return nil, nil
	}
	return zbuf, nil
}

func (c *Codec) afterSeal(k *Key, size int) {
	n := k.sealed.Add(1)
	if fn := c.cfg.onKeyUsage; fn != nil {
		every := c.cfg.usageEvery
		if every == 0 {
			every = k.alg.MaxMessages() / 4
		}
		if n%every == 0 {
			fn(KeyUsage{KeyID: k.id, Algorithm: string(k.alg.ID()), Sealed: n, Budget: k.alg.MaxMessages()})
		}
	}
	if fn := c.cfg.onLargePayload; fn != nil && size > c.cfg.warnPayload {
		fn(SizeEvent{Size: size, Threshold: c.cfg.warnPayload, Limit: c.cfg.maxPayload, KeyID: k.id})
	}
}

// Decode decrypts the payloads this codec's format marks as encrypted and
// returns every other payload unchanged (as a copy), or rejects it in strict
// mode. It returns exactly one payload per input, in order, or an error and
// no payloads. A nil element decodes to an empty payload. Decode does not
// modify its input, and its output shares no memory with it.
//
// A payload that does not authenticate fails with [ErrDecrypt]; one that
// names a key the source lacks fails with an [*UnknownKeyError]. Errors name
// the payload's index and never include its contents. An unknown key or an
// unavailable key source is wrapped by
// [converter.NewWorkflowTaskFailureError], so inside a workflow task it fails
// the task, which Temporal retries, rather than the workflow.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if len(payloads) == 0 {
		return []*commonpb.Payload{}, nil
	}
	out, slab := newPayloads(len(payloads))
	for i, p := range payloads {
		if err := c.open(p, &slab[i]); err != nil {
			return nil, taskError(fmt.Errorf("codec: payload %d: %w", i, err))
		}
	}
	return out, nil
}

func (c *Codec) open(p *commonpb.Payload, dst *commonpb.Payload) error {
	if p == nil {
		if c.cfg.strict {
			return ErrNotEncrypted
		}
		return nil
	}
	md := p.GetMetadata()
	switch envelope.Classify(md) {
	case envelope.Foreign:
		if c.cfg.strict {
			return ErrNotEncrypted
		}
		proto.Merge(dst, p)
		return nil
	case envelope.Legacy:
		return c.openLegacy(p, dst)
	}

	h, err := envelope.Parse(md, algorithmIDs, intern)
	switch {
	case err == envelope.ErrVersion:
		return ErrUnsupportedVersion
	case err != nil:
		return ErrDecrypt
	}
	var bound []string
	switch h.Scope {
	case "":
		if c.cfg.strict && c.cfg.bindNamespace && c.namespace != "" {
			return ErrNotBound
		}
	case scopeNamespace:
		if c.namespace == "" {
			return ErrNoNamespace
		}
		bound = []string{c.namespace}
	default:
		return ErrDecrypt
	}

	k, err := c.keys.DecryptionKey(c.ctx, KeyRef{
		ID: h.KeyID, Algorithm: aead.ID(h.Algorithm), Wrapped: h.WrappedKey,
	})
	if err == nil && k == nil {
		err = &UnknownKeyError{ID: h.KeyID}
	}
	if err != nil {
		return err
	}
	if string(k.alg.ID()) != h.Algorithm {
		return ErrDecrypt
	}

	return c.openInto(k, p.GetData(), &h, bound, dst)
}

func (c *Codec) openLegacy(p *commonpb.Payload, dst *commonpb.Payload) error {
	if !c.cfg.legacy {
		return ErrLegacyFormat
	}
	id, err := envelope.ParseLegacy(p.GetMetadata())
	if err != nil {
		return ErrDecrypt
	}
	k, err := c.keys.DecryptionKey(c.ctx, KeyRef{ID: id, Algorithm: aead.AES256GCM})
	if err == nil && k == nil {
		err = &UnknownKeyError{ID: id}
	}
	if err != nil {
		return err
	}
	if k.alg.ID() != aead.AES256GCM {
		return ErrDecrypt
	}
	return c.openInto(k, p.GetData(), nil, nil, dst)
}

// openInto authenticates and decrypts data = nonce ‖ ciphertext ‖ tag,
// decompresses it if h says so, and parses the inner payload into dst. The
// associated data is built from h and bound; a nil h means none (the legacy
// format).
func (c *Codec) openInto(k *Key, data []byte, h *envelope.Header, bound []string, dst *commonpb.Payload) error {
	ns, overhead := k.alg.NonceSize(), k.alg.Overhead()
	if len(data) < ns+overhead {
		return ErrDecrypt
	}
	n := len(data) - ns - overhead
	adLen := 0
	if h != nil {
		adLen = envelope.AssociatedDataLen(h, bound...)
	}
	compressed := h != nil && h.Compression != ""

	// The plaintext goes into a buffer with room for the associated data
	// after it: a pooled scratch buffer when it still has to be
	// decompressed, else the buffer the output payload will own.
	var bp *[]byte
	var buf []byte
	if compressed {
		bp = getBuf(n + adLen)
		buf = *bp
	} else {
		buf = make([]byte, 0, n+adLen)
	}
	var ad []byte
	if h != nil {
		ad = envelope.AppendAssociatedData(buf[n:n], h, bound...)
	}
	plain, err := k.aead.Open(buf[:0], data[:ns], data[ns:], ad)
	if err != nil {
		// Open zeroes its output on failure.
		if bp != nil {
			putBuf(bp)
		}
		return ErrDecrypt
	}

	inner := plain[:n:n]
	if compressed {
		*bp = plain
		inner, err = decompress(plain, c.cfg.maxDecoded)
		putBuf(bp)
		if err != nil {
			var tooLarge *PayloadTooLargeError
			if errors.As(err, &tooLarge) {
				return err
			}
			return ErrDecrypt
		}
	}

	if err := unmarshalPayload(inner, dst); err != nil {
		// The ciphertext authenticated, so its sender held the key but
		// sealed something that is not a payload.
		clear(inner)
		dst.Reset()
		return fmt.Errorf("%w: inner payload does not parse", ErrDecrypt)
	}
	return nil
}

// onePayload lets a batch of one share a single allocation between the
// result slice and the payload.
type onePayload struct {
	ptr [1]*commonpb.Payload
	p   [1]commonpb.Payload
}

// newPayloads returns n result pointers and the payloads they point to.
func newPayloads(n int) ([]*commonpb.Payload, []commonpb.Payload) {
	if n == 1 {
		o := new(onePayload)
		o.ptr[0] = &o.p[0]
		return o.ptr[:], o.p[:]
	}
	out := make([]*commonpb.Payload, n)
	slab := make([]commonpb.Payload, n)
	for i := range slab {
		out[i] = &slab[i]
	}
	return out, slab
}

// taskError marks errors that may pass with time (a key not yet deployed, a
// KMS outage) so that the SDK fails the workflow task, to be retried, rather
// than the workflow.
func taskError(err error) error {
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrUnknownKey) {
		return converter.NewWorkflowTaskFailureError(err)
	}
	return err
}
