package kms

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

// Source is a [codec.KeySource] that encrypts with data keys wrapped under a
// master key held by a key service. It is safe for concurrent use; build
// one per process and share it, since its cache is what keeps the key
// service's bill and latency down.
type Source struct {
	res Resolver
	alg aead.Algorithm
	cfg config

	mu      sync.Mutex
	current map[string]*dataKey   // namespace -> encrypting data key
	cache   map[[32]byte]*dataKey // unwrapped data keys

	flights singleflight.Group
}

var _ codec.KeySource = (*Source)(nil)

// dataKey is one unwrapped data key and its use so far.
type dataKey struct {
	key       *codec.Key
	namespace string
	created   time.Time
	uses      atomic.Uint64 // reserved by EncryptionKey or DecryptionKey
}

// NewSource returns a source whose data keys are wrapped under primary,
// and which also unwraps data keys of the master keys given
// [WithDecryptOnly]. All namespaces share the master keys; each namespace
// still gets its own data keys, bound to it.
func NewSource(primary Wrapper, opts ...Option) (*Source, error) {
	cfg, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	r, err := newStaticResolver(primary, cfg.decryptOnly)
	if err != nil {
		return nil, err
	}
	if cfg.fromKMS {
		if _, ok := primary.(DataKeyGenerator); !ok {
			return nil, fmt.Errorf("kms: WithDataKeysFromKMS: master key %q cannot generate data keys", primary.Name())
		}
	}
	return newSource(r, cfg), nil
}

// NewSourceWithResolver returns a source that asks r for the master key of
// each namespace, as [PerNamespace] does for per-tenant keys.
// WithDecryptOnly does not apply; r finds older keys itself.
func NewSourceWithResolver(r Resolver, opts ...Option) (*Source, error) {
	if r == nil {
		return nil, fmt.Errorf("kms: nil resolver")
	}
	cfg, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	if len(cfg.decryptOnly) > 0 {
		return nil, fmt.Errorf("kms: WithDecryptOnly needs NewSource; a resolver finds older keys itself")
	}
	return newSource(r, cfg), nil
}

func buildConfig(opts []Option) (config, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func newSource(r Resolver, cfg config) *Source {
	alg, _ := aead.Lookup(cfg.alg) // checked by WithAlgorithm
	return &Source{
		res:     r,
		alg:     alg,
		cfg:     cfg,
		current: make(map[string]*dataKey),
		cache:   make(map[[32]byte]*dataKey),
	}
}

func (s *Source) namespace(ctx context.Context) (string, error) {
	ns, _ := codec.NamespaceFromContext(ctx)
	if ns == "" && s.cfg.requireNS {
		return "", ErrNoNamespace
	}
	return ns, nil
}

// EncryptionKey returns the current data key of the context's namespace,
// making and wrapping a new one when there is none or the current one is
// past its lifetime, uses or bytes. Concurrent callers that find no usable
// key share one request to the key service.
//
// Uses are counted twice, and a key is replaced when either count reaches
// [WithMaxUses]: each call reserves one use, atomically, and the codec
// counts each payload the key seals ([codec.Key.Sealed]). A batch of n
// payloads can thus take a key up to n-1 payloads past its limit.
func (s *Source) EncryptionKey(ctx context.Context) (*codec.Key, error) {
	ns, err := s.namespace(ctx)
	if err != nil {
		return nil, err
	}

	// A key made for us can be used up by other callers before we reserve
	// a use of it; then we ask again. Each round makes at most one key.
	for range 8 {
		s.mu.Lock()
		dk := s.current[ns]
		s.mu.Unlock()
		if dk != nil && s.reserve(dk) {
			s.event(Event{Kind: EventHit, Op: OpEncrypt, MasterKey: dk.key.ID(), Namespace: ns, Algorithm: s.alg.ID()})
			return dk.key, nil
		}
		s.event(Event{Kind: EventMiss, Op: OpEncrypt, Namespace: ns, Algorithm: s.alg.ID()})

		fresh, err := s.flight(ctx, "e\x00"+ns, func(fctx context.Context) (*dataKey, error) {
			s.mu.Lock()
			cur := s.current[ns]
			s.mu.Unlock()
			if cur != nil && cur != dk && s.usable(cur) {
				return cur, nil // made by a flight that ended before ours began
			}
			return s.newDataKey(fctx, ns)
		})
		if err != nil {
			return nil, err
		}
		if s.reserve(fresh) {
			return fresh.key, nil
		}
	}
	return nil, fmt.Errorf("kms: data keys of namespace %q are used up faster than they are made; raise WithMaxUses",
		truncate(ns))
}

// usable reports whether dk may seal more payloads, without reserving.
func (s *Source) usable(dk *dataKey) bool {
	return s.fresh(dk) && dk.uses.Load() < s.cfg.maxUses
}

// fresh reports whether dk is within its lifetime and the codec's counts
// of what it sealed are within the limits.
func (s *Source) fresh(dk *dataKey) bool {
	return s.cfg.now().Sub(dk.created) < s.cfg.lifetime &&
		dk.key.Sealed() < s.cfg.maxUses && sealedBytes(dk.key) < s.cfg.maxBytes
}

// reserve counts one use of dk if it is usable. Uses are reserved
// atomically, so no more than the configured number of calls get a key.
func (s *Source) reserve(dk *dataKey) bool {
	return s.fresh(dk) && dk.uses.Add(1) <= s.cfg.maxUses
}

// sealedBytes returns how many plaintext bytes the codec sealed under k.
func sealedBytes(k *codec.Key) uint64 { return k.SealedBytes() }

func (s *Source) newDataKey(ctx context.Context, ns string) (*dataKey, error) {
	w, err := s.res.Primary(ctx, ns)
	if err != nil {
		return nil, fmt.Errorf("kms: master key for namespace %q: %w", ns, err)
	}
	if w == nil {
		return nil, fmt.Errorf("kms: no master key for namespace %q", ns)
	}
	name := w.Name()
	if err := checkName(name); err != nil {
		return nil, err
	}
	b := Binding{Namespace: ns, Algorithm: s.alg.ID()}

	var dek, wrapped []byte
	if s.cfg.fromKMS {
		g, ok := w.(DataKeyGenerator)
		if !ok {
			return nil, fmt.Errorf("kms: master key %q cannot generate data keys", name)
		}
		err = s.call(ctx, OpGenerate, name, ns, func(ctx context.Context) (err error) {
			dek, wrapped, err = g.GenerateDataKey(ctx, s.alg.KeySize(), b)
			return err
		})
	} else {
		dek = make([]byte, s.alg.KeySize())
		if _, rerr := io.ReadFull(s.cfg.rand, dek); rerr != nil {
			return nil, fmt.Errorf("kms: random source failed: %w", rerr)
		}
		err = s.call(ctx, OpWrap, name, ns, func(ctx context.Context) (err error) {
			wrapped, err = w.Wrap(ctx, dek, b)
			return err
		})
	}
	defer clear(dek)
	if err != nil {
		return nil, err
	}
	if len(dek) != s.alg.KeySize() {
		return nil, fmt.Errorf("kms: master key %q generated a %d-byte data key, want %d", name, len(dek), s.alg.KeySize())
	}
	k, err := codec.NewWrappedKey(name, s.alg.ID(), dek, wrapped)
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}

	dk := &dataKey{key: k, namespace: ns, created: s.cfg.now()}
	// The new key also opens what it seals without a trip to the service.
	ck := cacheKey(ns, name, s.alg.ID(), wrapped)
	dec := &dataKey{key: k, namespace: ns, created: dk.created}
	s.mu.Lock()
	if _, ok := s.current[ns]; !ok && len(s.current) >= s.cfg.cacheSize {
		s.evictCurrentLocked()
	}
	s.current[ns] = dk
	s.putLocked(ck, dec)
	s.mu.Unlock()
	s.event(Event{Kind: EventNewDataKey, Op: OpEncrypt, MasterKey: name, Namespace: ns, Algorithm: s.alg.ID()})
	return dk, nil
}

// DecryptionKey returns the data key a payload carries, unwrapped by the
// master key the payload names, for the context's namespace and the
// payload's algorithm. Unwrapped keys are cached; concurrent callers that
// miss the cache for the same wrapped key share one request to the key
// service.
//
// A payload without a wrapped key, or naming a master key the source does
// not have, fails with an error wrapping [codec.ErrUnknownKey]; one the
// master key refuses (another namespace, altered bytes, destroyed key)
// with [ErrUnwrap]; a key service that stays unreachable with
// [ErrUnavailable].
func (s *Source) DecryptionKey(ctx context.Context, ref codec.KeyRef) (*codec.Key, error) {
	ns, err := s.namespace(ctx)
	if err != nil {
		return nil, err
	}
	if len(ref.Wrapped) == 0 {
		return nil, fmt.Errorf("kms: payload names key %q but carries no wrapped data key: %w",
			truncate(ref.ID), codec.ErrUnknownKey)
	}
	alg, err := aead.Lookup(ref.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}

	ck := cacheKey(ns, ref.ID, alg.ID(), ref.Wrapped)
	s.mu.Lock()
	dk := s.cache[ck]
	s.mu.Unlock()
	if dk != nil && s.reserveDecrypt(dk) {
		s.event(Event{Kind: EventHit, Op: OpDecrypt, MasterKey: ref.ID, Namespace: ns, Algorithm: alg.ID()})
		return dk.key, nil
	}
	s.event(Event{Kind: EventMiss, Op: OpDecrypt, MasterKey: ref.ID, Namespace: ns, Algorithm: alg.ID()})

	// ref aliases the payload; the flight may outlive this call.
	id, wrapped := ref.ID, append([]byte(nil), ref.Wrapped...)
	for range 8 {
		fresh, err := s.flight(ctx, "d\x00"+string(ck[:]), func(fctx context.Context) (*dataKey, error) {
			s.mu.Lock()
			cur := s.cache[ck]
			s.mu.Unlock()
			if cur != nil && cur != dk && s.usableDecrypt(cur) {
				return cur, nil
			}
			return s.unwrap(fctx, ns, id, alg, wrapped, ck)
		})
		if err != nil {
			return nil, err
		}
		if s.reserveDecrypt(fresh) {
			return fresh.key, nil
		}
		dk = fresh
	}
	return nil, fmt.Errorf("kms: data key of master key %q is used up faster than it is unwrapped; raise WithMaxUses",
		truncate(id))
}

func (s *Source) usableDecrypt(dk *dataKey) bool {
	return s.cfg.now().Sub(dk.created) < s.cfg.lifetime && dk.uses.Load() < s.cfg.maxUses
}

func (s *Source) reserveDecrypt(dk *dataKey) bool {
	if s.cfg.now().Sub(dk.created) >= s.cfg.lifetime {
		return false
	}
	return dk.uses.Add(1) <= s.cfg.maxUses
}

func (s *Source) unwrap(ctx context.Context, ns, id string, alg aead.Algorithm, wrapped []byte, ck [32]byte) (*dataKey, error) {
	w, err := s.res.Lookup(ctx, ns, id)
	if err != nil {
		return nil, fmt.Errorf("kms: master key %q: %w", truncate(id), err)
	}
	if w == nil {
		return nil, &codec.UnknownKeyError{ID: id}
	}
	b := Binding{Namespace: ns, Algorithm: alg.ID()}

	var dek []byte
	err = s.call(ctx, OpUnwrap, id, ns, func(ctx context.Context) (err error) {
		dek, err = w.Unwrap(ctx, wrapped, b)
		return err
	})
	defer clear(dek)
	if err != nil {
		return nil, err
	}
	if len(dek) != alg.KeySize() {
		return nil, fmt.Errorf("kms: master key %q unwrapped a %d-byte data key for %s: %w",
			id, len(dek), alg.ID(), ErrUnwrap)
	}
	k, err := codec.NewWrappedKey(id, alg.ID(), dek, wrapped)
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}

	dk := &dataKey{key: k, namespace: ns, created: s.cfg.now()}
	s.mu.Lock()
	s.putLocked(ck, dk)
	s.mu.Unlock()
	return dk, nil
}

// evictCurrentLocked drops the oldest encrypting key, so that a flood of
// namespaces (a codec server's path is client input) cannot grow the map
// without bound.
func (s *Source) evictCurrentLocked() {
	var oldest string
	var oldestAt time.Time
	for ns, dk := range s.current {
		if oldestAt.IsZero() || dk.created.Before(oldestAt) {
			oldest, oldestAt = ns, dk.created
		}
	}
	delete(s.current, oldest)
}

// putLocked adds dk to the cache, making room first: expired keys go,
// then the oldest.
func (s *Source) putLocked(ck [32]byte, dk *dataKey) {
	if _, ok := s.cache[ck]; !ok && len(s.cache) >= s.cfg.cacheSize {
		now := s.cfg.now()
		var oldest [32]byte
		var oldestAt time.Time
		for k, v := range s.cache {
			if now.Sub(v.created) >= s.cfg.lifetime {
				delete(s.cache, k)
				continue
			}
			if oldestAt.IsZero() || v.created.Before(oldestAt) {
				oldest, oldestAt = k, v.created
			}
		}
		if len(s.cache) >= s.cfg.cacheSize {
			delete(s.cache, oldest)
		}
	}
	s.cache[ck] = dk
}

// Forget drops every data key of namespace from memory: the one it
// encrypts with and every unwrapped one. Call it in every process right
// after destroying a tenant's master key, so that its payloads stop
// opening at once rather than when the cached keys expire ([WithLifetime]).
//
// Data keys cannot be wiped from memory: the ciphers built from them keep
// their own copies until the garbage collector frees them.
func (s *Source) Forget(namespace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.current, namespace)
	for k, v := range s.cache {
		if v.namespace == namespace {
			delete(s.cache, k)
		}
	}
}

// Flush drops every data key of every namespace, as [Source.Forget] does
// for one.
func (s *Source) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.current)
	clear(s.cache)
}

// flight runs f once for all concurrent callers with the same key. f runs
// detached from the caller's cancellation, so that one caller giving up
// does not fail the others; its calls are bounded by [WithCallTimeout]
// and [WithRetry]. The caller stops waiting when its context ends.
func (s *Source) flight(ctx context.Context, key string, f func(context.Context) (*dataKey, error)) (*dataKey, error) {
	fctx := context.WithoutCancel(ctx)
	ch := s.flights.DoChan(key, func() (any, error) { return f(fctx) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*dataKey), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("kms: waiting for the key service: %w", ctx.Err())
	}
}

// call runs one request to the key service with retries, recording each
// attempt.
func (s *Source) call(ctx context.Context, op Op, name, ns string, f func(context.Context) error) error {
	var err error
	backoff := s.cfg.backoff
	attempt := 1
	for ; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, s.cfg.callTimeout)
		start := time.Now()
		err = f(actx)
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if err != nil && timedOut && !errors.Is(err, ErrUnavailable) {
			err = Unavailable(err)
		}
		s.event(Event{Kind: EventCall, Op: op, MasterKey: name, Namespace: ns,
			Algorithm: s.alg.ID(), Duration: time.Since(start), Err: err})
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrThrottled) {
			s.event(Event{Kind: EventThrottled, Op: op, MasterKey: name, Namespace: ns, Algorithm: s.alg.ID()})
		}
		if !errors.Is(err, ErrUnavailable) || attempt >= s.cfg.attempts || ctx.Err() != nil {
			break
		}
		if !sleep(ctx, jitter(backoff)) {
			break
		}
		backoff = min(2*backoff, s.cfg.maxBackoff)
	}
	return fmt.Errorf("kms: %s with master key %q (namespace %q), %d attempts: %w",
		op, truncate(name), ns, attempt, err)
}

func (s *Source) event(e Event) {
	if s.cfg.observer != nil {
		s.cfg.observer(e)
	}
}

// cacheKey identifies an unwrapped data key by everything its unwrapping
// depended on, so that a key unwrapped for one namespace or algorithm is
// never handed out for another.
func cacheKey(ns, name string, alg aead.ID, wrapped []byte) [32]byte {
	h := sha256.New()
	for _, f := range [][]byte{[]byte(ns), []byte(name), []byte(alg), wrapped} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		h.Write(n[:])
		h.Write(f)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// truncate bounds a name from untrusted input before it goes into an error.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
