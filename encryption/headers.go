package encryption

import "go.temporal.io/sdk/workflow"

// EncryptHeaders returns a context propagator that behaves like p and asks
// the SDK to pass the headers p writes through the client's payload codec
// (the SDK's [workflow.CodecContextPropagator]). With the plugin installed,
// those headers reach the server encrypted, and p's Extract methods are
// handed decrypted copies. Headers written by other propagators and by
// interceptors are not touched. EncryptHeaders(nil) returns nil.
//
// p's Inject methods must write payloads serialized with a plain converter
// (converter.GetDefaultDataConverter), not with the client's encrypting
// one; the SDK encrypts them after p returns.
//
// Give the wrapped propagator to every client and worker that reads the
// header. A process that lists p unwrapped hands it the ciphertext, which
// p cannot parse, and an Extract error fails the task that carries it.
//
// Without this wrapper the SDK stores every header in clear, so a
// propagator that carries a tenant, user or request identifier exposes it
// to the server.
func EncryptHeaders(p workflow.ContextPropagator) workflow.ContextPropagator {
	if p == nil {
		return nil
	}
	if cp, ok := p.(workflow.CodecContextPropagator); ok && cp.EncodeHeaders() {
		return p
	}
	return encryptedHeaders{p}
}

// encryptedHeaders opts a propagator into header encoding.
type encryptedHeaders struct {
	workflow.ContextPropagator
}

var _ workflow.CodecContextPropagator = encryptedHeaders{}

// EncodeHeaders implements [workflow.CodecContextPropagator].
func (encryptedHeaders) EncodeHeaders() bool { return true }
