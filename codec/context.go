package codec

import "context"

type namespaceKey struct{}

// WithNamespace returns a context that tells key sources which Temporal
// namespace the payloads belong to. The codec sets it from the SDK's
// serialization context, and the codec server from the request path, so a
// key source can keep tenants apart (per-namespace keys, KMS encryption
// context). The namespace is not secret.
func WithNamespace(ctx context.Context, namespace string) context.Context {
	return context.WithValue(ctx, namespaceKey{}, namespace)
}

// NamespaceFromContext returns the namespace set by [WithNamespace], if any.
func NamespaceFromContext(ctx context.Context) (string, bool) {
	ns, ok := ctx.Value(namespaceKey{}).(string)
	return ns, ok && ns != ""
}
