package kms

import (
	"encoding/binary"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// Binding is what a wrapped data key is bound to. A [Wrapper] must make
// the binding part of the wrapping, so that the master key refuses to
// unwrap the data key under any other binding: a data key wrapped for
// namespace "a" must not open in namespace "b", even in a process that
// holds the master key. Neither field is secret.
type Binding struct {
	// Namespace is the Temporal namespace, or "" when the codec did not
	// know it.
	Namespace string

	// Algorithm is the AEAD the data key is for, so that the key cannot be
	// used with another algorithm.
	Algorithm aead.ID
}

// Context keys of [Binding.Map].
const (
	ContextNamespace = "temporal-namespace"
	ContextAlgorithm = "temporal-encryption-algorithm"
)

// Map returns the binding as a key-value context, for services that take
// one (the AWS KMS encryption context). An empty namespace is left out, so
// a key wrapped without a namespace is bound to having none.
func (b Binding) Map() map[string]string {
	m := map[string]string{ContextAlgorithm: string(b.Algorithm)}
	if b.Namespace != "" {
		m[ContextNamespace] = b.Namespace
	}
	return m
}

// bindingLabel starts [Binding.AAD], so that the associated data of a key
// wrap can never be mistaken for that of another protocol.
const bindingLabel = "temporal-encryption/data-key/v1"

// AAD returns the binding as associated data, for services that take bytes
// (GCP Cloud KMS, AES-GCM in an HSM). Each field is length-prefixed, so no
// two bindings share an encoding.
func (b Binding) AAD() []byte {
	out := make([]byte, 0, len(bindingLabel)+8+len(b.Namespace)+len(b.Algorithm))
	out = append(out, bindingLabel...)
	for _, f := range []string{b.Namespace, string(b.Algorithm)} {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}
