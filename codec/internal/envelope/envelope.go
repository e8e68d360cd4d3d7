// Package envelope reads and writes the metadata that marks a payload as
// encrypted by this project, and builds the associated data that binds that
// metadata to the ciphertext.
//
// It is internal so that the wire format can grow without widening the
// public API; the format itself is described in the codec package doc.
package envelope

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// Metadata keys and values written on every encrypted payload.
const (
	KeyEncoding    = "encoding"
	KeyKeyID       = "encryption-key-id"
	KeyAlgorithm   = "encryption-algorithm"
	KeyFormat      = "encryption-format"
	KeyCompression = "encryption-compression"
	KeyScope       = "encryption-scope"
	KeyWrappedKey  = "encryption-wrapped-key"

	EncodingEncrypted = "binary/encrypted"
)

// Version is the format version this package writes.
const Version = 1

// Limits on header fields read from untrusted metadata. They are far above
// anything this project writes and keep a hostile payload from making the
// decoder allocate or hash more than a few kilobytes for its header.
const (
	MaxKeyIDLen      = 256
	MaxNameLen       = 64
	MaxWrappedKeyLen = 4096
)

// Errors for headers that cannot be ours. The codec maps all of them to its
// one opaque decryption error, except ErrVersion.
var (
	ErrMalformed = errors.New("envelope: malformed header")
	ErrVersion   = errors.New("envelope: unsupported format version")
)

// Kind says how Classify sees a payload.
type Kind int

const (
	// Foreign payloads were not encrypted by any encryption codec we know.
	Foreign Kind = iota
	// Current payloads carry this project's format marker.
	Current
	// Legacy payloads use the format of Temporal's published encryption
	// samples: encoding binary/encrypted, a key ID, no format marker.
	Legacy
)

// Classify looks at a payload's metadata without validating it.
func Classify(md map[string][]byte) Kind {
	if string(md[KeyEncoding]) != EncodingEncrypted {
		return Foreign
	}
	if _, ok := md[KeyFormat]; ok {
		return Current
	}
	return Legacy
}

// Header holds the fields of an encrypted payload's metadata. Every field is
// bound into the associated data.
type Header struct {
	Version     int
	Algorithm   string
	KeyID       string
	Compression string // "" for none
	Scope       string // "" when no serialization context is bound
	WrappedKey  []byte // nil unless the key source wraps data keys
}

// Parse reads a Current header from metadata. Every field must be in its
// one canonical form: the format exactly "1", the algorithm one of
// algorithms, compression and scope absent or one of their known values,
// and no optional field present but empty. So no two metadata maps that
// Parse accepts give the same associated data, and nothing unbounded or
// unexpected reaches the key lookup or the AEAD. keyID turns the key ID
// into a string; the codec passes one that reuses strings it has seen.
func Parse(md map[string][]byte, algorithms []string, keyID func([]byte) string) (Header, error) {
	var h Header
	format := md[KeyFormat]
	if len(format) == 0 || len(format) > 4 {
		return h, ErrMalformed
	}
	v, err := strconv.Atoi(string(format))
	if err != nil || strconv.Itoa(v) != string(format) {
		return h, ErrMalformed
	}
	if v != Version {
		return h, ErrVersion
	}
	id := md[KeyKeyID]
	if len(id) == 0 || len(id) > MaxKeyIDLen {
		return h, ErrMalformed
	}
	var ok bool
	if h.Algorithm, ok = oneOf(md[KeyAlgorithm], algorithms...); !ok {
		return h, ErrMalformed
	}
	if h.Compression, ok = optional(md, KeyCompression, CompressionZstd); !ok {
		return h, ErrMalformed
	}
	if h.Scope, ok = optional(md, KeyScope, ScopeNamespace); !ok {
		return h, ErrMalformed
	}
	if w, present := md[KeyWrappedKey]; present {
		if len(w) == 0 || len(w) > MaxWrappedKeyLen {
			return h, ErrMalformed
		}
		h.WrappedKey = w
	}
	h.Version = v
	h.KeyID = keyID(id)
	return h, nil
}

// The values the optional fields may take.
const (
	CompressionZstd = "zstd"
	ScopeNamespace  = "namespace"
)

// oneOf returns the string among values that equals b, without allocating.
func oneOf(b []byte, values ...string) (string, bool) {
	for _, v := range values {
		if string(b) == v {
			return v, true
		}
	}
	return "", false
}

// optional reads a metadata entry that is either absent or one of values;
// present but empty is not allowed.
func optional(md map[string][]byte, key string, values ...string) (string, bool) {
	b, present := md[key]
	if !present {
		return "", true
	}
	return oneOf(b, values...)
}

// ParseLegacy reads the key ID of a Legacy payload.
func ParseLegacy(md map[string][]byte) (keyID string, err error) {
	id := md[KeyKeyID]
	if len(id) == 0 || len(id) > MaxKeyIDLen {
		return "", ErrMalformed
	}
	return string(id), nil
}

// MetadataLen returns how many bytes [Header.PutMetadata] writes.
func (h *Header) MetadataLen() int {
	return len(EncodingEncrypted) + 1 + len(h.Algorithm) + len(h.KeyID) +
		len(h.Compression) + len(h.Scope) + len(h.WrappedKey)
}

// PutMetadata sets h's metadata entries in md, writing the values into
// buf, which must have room for [Header.MetadataLen] bytes. Each value is a
// subslice of buf with its capacity clipped, so appending to one cannot
// overwrite another. It returns what is left of buf.
func (h *Header) PutMetadata(md map[string][]byte, buf []byte) []byte {
	put := func(key, value string) {
		n := copy(buf, value)
		md[key] = buf[:n:n]
		buf = buf[n:]
	}
	putBytes := func(key string, value []byte) {
		n := copy(buf, value)
		md[key] = buf[:n:n]
		buf = buf[n:]
	}
	put(KeyEncoding, EncodingEncrypted)
	put(KeyFormat, strconv.Itoa(h.Version))
	put(KeyAlgorithm, h.Algorithm)
	put(KeyKeyID, h.KeyID)
	if h.Compression != "" {
		put(KeyCompression, h.Compression)
	}
	if h.Scope != "" {
		put(KeyScope, h.Scope)
	}
	if h.WrappedKey != nil {
		putBytes(KeyWrappedKey, h.WrappedKey)
	}
	return buf
}

// Entries returns how many metadata entries h has.
func (h *Header) Entries() int {
	n := 4
	if h.Compression != "" {
		n++
	}
	if h.Scope != "" {
		n++
	}
	if h.WrappedKey != nil {
		n++
	}
	return n
}

// adLabel starts the associated data, so that a ciphertext made for this
// format can never verify as one made for another protocol with the same key.
const adLabel = "temporal-encryption/payload"

// AppendAssociatedData appends to dst the associated data for h followed by
// bound, the serialization-context values the scope names (namespace, then
// workflow ID), in order.
//
// Layout: the label, a zero byte, the version as one byte, then each of
// encoding, algorithm, key ID, compression, scope, wrapped key and every
// bound value as a uvarint length followed by its bytes. Lengths make the
// encoding injective: no two headers give the same bytes.
func AppendAssociatedData(dst []byte, h *Header, bound ...string) []byte {
	dst = append(dst, adLabel...)
	dst = append(dst, 0, byte(h.Version))
	dst = appendField(dst, EncodingEncrypted)
	dst = appendField(dst, h.Algorithm)
	dst = appendField(dst, h.KeyID)
	dst = appendField(dst, h.Compression)
	dst = appendField(dst, h.Scope)
	dst = binary.AppendUvarint(dst, uint64(len(h.WrappedKey)))
	dst = append(dst, h.WrappedKey...)
	for _, b := range bound {
		dst = appendField(dst, b)
	}
	return dst
}

// AssociatedDataLen returns how many bytes AppendAssociatedData appends.
func AssociatedDataLen(h *Header, bound ...string) int {
	n := len(adLabel) + 2
	for _, s := range []string{EncodingEncrypted, h.Algorithm, h.KeyID, h.Compression, h.Scope} {
		n += uvarintLen(len(s)) + len(s)
	}
	n += uvarintLen(len(h.WrappedKey)) + len(h.WrappedKey)
	for _, b := range bound {
		n += uvarintLen(len(b)) + len(b)
	}
	return n
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

func appendField(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}
