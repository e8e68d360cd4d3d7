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

// Parse reads a Current header from metadata and checks every field's
// length, so that nothing unbounded reaches the key lookup or the AEAD.
func Parse(md map[string][]byte) (Header, error) {
	var h Header
	v, err := strconv.Atoi(string(md[KeyFormat]))
	if err != nil || len(md[KeyFormat]) > 4 {
		return h, ErrMalformed
	}
	if v != Version {
		return h, ErrVersion
	}
	h.Version = v
	h.Algorithm = string(md[KeyAlgorithm])
	h.KeyID = string(md[KeyKeyID])
	h.Compression = string(md[KeyCompression])
	h.Scope = string(md[KeyScope])
	h.WrappedKey = md[KeyWrappedKey]
	switch {
	case h.Algorithm == "", len(h.Algorithm) > MaxNameLen,
		h.KeyID == "", len(h.KeyID) > MaxKeyIDLen,
		len(h.Compression) > MaxNameLen, len(h.Scope) > MaxNameLen,
		len(h.WrappedKey) > MaxWrappedKeyLen:
		return h, ErrMalformed
	}
	return h, nil
}

// ParseLegacy reads the key ID of a Legacy payload.
func ParseLegacy(md map[string][]byte) (keyID string, err error) {
	id := md[KeyKeyID]
	if len(id) == 0 || len(id) > MaxKeyIDLen {
		return "", ErrMalformed
	}
	return string(id), nil
}

// Metadata returns the metadata for h. Values are fresh slices that the
// caller owns.
func (h *Header) Metadata() map[string][]byte {
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
	md := make(map[string][]byte, n)
	md[KeyEncoding] = []byte(EncodingEncrypted)
	md[KeyFormat] = []byte(strconv.Itoa(h.Version))
	md[KeyAlgorithm] = []byte(h.Algorithm)
	md[KeyKeyID] = []byte(h.KeyID)
	if h.Compression != "" {
		md[KeyCompression] = []byte(h.Compression)
	}
	if h.Scope != "" {
		md[KeyScope] = []byte(h.Scope)
	}
	if h.WrappedKey != nil {
		md[KeyWrappedKey] = append([]byte(nil), h.WrappedKey...)
	}
	return md
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

func appendField(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}
