package kms

import (
	"context"
	"fmt"

	"github.com/temporal-encryption/temporal-encryption/codec"
)

// Wrapper wraps and unwraps data keys under one master key that it never
// exposes: a key in AWS KMS, GCP Cloud KMS, Azure Key Vault, Vault transit,
// an HSM, or (for tests and local setups) memory.
//
// Name identifies the master key. It becomes the key ID written in clear on
// every payload sealed under a data key it wrapped, so it must be stable,
// 1 to 256 bytes, and not secret: a key ARN or resource name is typical.
//
// Wrap returns dek wrapped and bound to b; Unwrap reverses it and must
// fail, with an error wrapping [ErrUnwrap], for wrapped bytes that were
// altered or bound to another [Binding]. Both must wrap [ErrUnavailable]
// (see [Unavailable] and [Throttled]) for failures worth retrying, and
// only for those. Neither may keep or log dek. Both must be safe for
// concurrent use.
type Wrapper interface {
	Name() string
	Wrap(ctx context.Context, dek []byte, b Binding) (wrapped []byte, err error)
	Unwrap(ctx context.Context, wrapped []byte, b Binding) (dek []byte, err error)
}

// DataKeyGenerator is implemented by wrappers whose service can make a data
// key and return it both in clear and wrapped, in one call (AWS KMS
// GenerateDataKey). A [Source] built [WithDataKeysFromKMS] uses it.
type DataKeyGenerator interface {
	GenerateDataKey(ctx context.Context, size int, b Binding) (dek, wrapped []byte, err error)
}

// Resolver picks the master key for each namespace. Primary returns the
// one that wraps new data keys; Lookup returns the one called name, if it
// may unwrap data keys of namespace, or an error wrapping
// [codec.ErrUnknownKey]. A [Source] calls them only on a cache miss. Both
// must be safe for concurrent use.
type Resolver interface {
	Primary(ctx context.Context, namespace string) (Wrapper, error)
	Lookup(ctx context.Context, namespace, name string) (Wrapper, error)
}

// staticResolver is one primary master key and older ones kept to unwrap,
// shared by every namespace.
type staticResolver struct {
	primary Wrapper
	byName  map[string]Wrapper
}

func newStaticResolver(primary Wrapper, decryptOnly []Wrapper) (*staticResolver, error) {
	if primary == nil {
		return nil, fmt.Errorf("kms: nil primary master key")
	}
	r := &staticResolver{primary: primary, byName: make(map[string]Wrapper)}
	for _, w := range append([]Wrapper{primary}, decryptOnly...) {
		if w == nil {
			return nil, fmt.Errorf("kms: nil decrypt-only master key")
		}
		name := w.Name()
		if err := checkName(name); err != nil {
			return nil, err
		}
		if _, dup := r.byName[name]; dup {
			return nil, fmt.Errorf("kms: master key %q given twice", name)
		}
		r.byName[name] = w
	}
	return r, nil
}

func (r *staticResolver) Primary(context.Context, string) (Wrapper, error) {
	return r.primary, nil
}

func (r *staticResolver) Lookup(_ context.Context, _, name string) (Wrapper, error) {
	if w, ok := r.byName[name]; ok {
		return w, nil
	}
	return nil, &codec.UnknownKeyError{ID: name}
}

// PerNamespace returns a [Resolver] that gives each namespace its own
// master key, the one masterKey returns for it. A payload of namespace ns
// opens only under masterKey(ns), and only when it names that key; so
// destroying one tenant's master key makes that tenant's payloads
// unreadable and leaves every other tenant's alone (see
// docs/crypto-shredding.md). masterKey is called on cache misses only; an
// error from it is returned to the codec as is.
//
// Rotating one tenant's master key needs a Resolver that also finds the
// tenant's older keys by name; write one when you need that.
func PerNamespace(masterKey func(ctx context.Context, namespace string) (Wrapper, error)) Resolver {
	return perNamespace(masterKey)
}

type perNamespace func(ctx context.Context, namespace string) (Wrapper, error)

func (f perNamespace) Primary(ctx context.Context, namespace string) (Wrapper, error) {
	return f.get(ctx, namespace)
}

func (f perNamespace) Lookup(ctx context.Context, namespace, name string) (Wrapper, error) {
	w, err := f.get(ctx, namespace)
	if err != nil {
		return nil, err
	}
	if w.Name() != name {
		return nil, &codec.UnknownKeyError{ID: name}
	}
	return w, nil
}

func (f perNamespace) get(ctx context.Context, namespace string) (Wrapper, error) {
	w, err := f(ctx, namespace)
	if err != nil {
		return nil, err
	}
	if w == nil {
		return nil, fmt.Errorf("kms: no master key for namespace %q", namespace)
	}
	return w, nil
}

// maxNameLen is the longest master key name: it is the key ID on every
// payload, which the envelope caps at 256 bytes.
const maxNameLen = 256

func checkName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("kms: master key name must be 1 to %d bytes, got %d", maxNameLen, len(name))
	}
	return nil
}
