package keyring

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

// Source is a [codec.KeySource] backed by a keyring file. It encrypts with
// the file's primary key and decrypts with the key a payload names, if that
// key is primary or decrypt-only. [Source.Reload] reads the file again, so
// a long-running worker picks up a promoted key without a restart. It is
// safe for concurrent use.
type Source struct {
	path string
	cfg  config

	reloadMu sync.Mutex // serializes Reload
	set      atomic.Pointer[keySet]

	usageMu sync.Mutex
	next    map[string]uint64 // key ID -> sealed count of the next warning
}

var _ codec.KeySource = (*Source)(nil)

// keySet is one loaded version of the file. It is never modified.
type keySet struct {
	primary *codec.Key
	keys    map[string]*loadedKey
}

type loadedKey struct {
	key     *codec.Key // nil when disabled
	alg     aead.ID
	state   State
	created time.Time
	// fingerprint identifies the material and algorithm, so that a reload
	// can tell a key that changed under the same ID.
	fingerprint [32]byte
}

// Usage reports that a key has sealed many payloads in this process: the
// first report comes at the threshold set by [WithUsageWarning], then one
// at each doubling, until the key's budget
// ([aead.Algorithm.MaxMessages]). Rotate the key when it comes.
type Usage struct {
	KeyID     string
	Algorithm aead.ID
	Sealed    uint64
	Budget    uint64
}

// Option configures a [Source]. Options are checked by [Open].
type Option func(*config) error

type config struct {
	warn     func(Usage)
	fraction uint64 // warn at budget / fraction
}

// WithUsageWarning calls fn when the primary key's count of sealed payloads
// in this process (as the codec counts them, [codec.Key.Sealed]) reaches
// budget/divisor, and again at each doubling of that count until the
// budget. The default divisor is 16 (the first warning at 2²⁸ payloads for
// AES-GCM, whose budget is 2³²); the range is 2 to 2²⁰. Each process counts
// only its own payloads, and all workers sharing a key share its budget:
// with n workers, use a divisor of about 16·n. fn is called from the
// encoding goroutine and must be quick and safe for concurrent use.
func WithUsageWarning(divisor uint64, fn func(Usage)) Option {
	return func(c *config) error {
		if fn == nil {
			return fmt.Errorf("keyring: WithUsageWarning: nil function")
		}
		if divisor < 2 || divisor > 1<<20 {
			return fmt.Errorf("keyring: WithUsageWarning: divisor %d is outside 2 to 2^20", divisor)
		}
		c.warn, c.fraction = fn, divisor
		return nil
	}
}

// Open reads the keyring file at path (see [ReadFile]) and returns a source
// over its keys.
func Open(path string, opts ...Option) (*Source, error) {
	s := &Source{path: path, cfg: config{fraction: 16}, next: make(map[string]uint64)}
	for _, o := range opts {
		if err := o(&s.cfg); err != nil {
			return nil, err
		}
	}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the file again and switches to its keys. If the file is
// unreadable or invalid, or changes the algorithm or material of a key ID
// already loaded, Reload returns an error and keeps the keys it had. Keys
// that are unchanged keep their [codec.Key] and so their usage counts.
//
// Call it on a signal (SIGHUP) or a timer ([Source.Poll]) in every worker
// to take a rotation: first add the new key as decrypt-only everywhere,
// then promote it. See docs/key-rotation.md.
func (s *Source) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()

	f, err := ReadFile(s.path)
	if err != nil {
		return err
	}
	defer f.Wipe()

	old := s.set.Load()
	next := &keySet{keys: make(map[string]*loadedKey, len(f.Keys))}
	for _, e := range f.Keys {
		lk := &loadedKey{alg: e.Algorithm, state: e.State, created: e.Created, fingerprint: fingerprint(e)}
		var prev *loadedKey
		if old != nil {
			prev = old.keys[e.ID]
		}
		if prev != nil && prev.fingerprint != lk.fingerprint {
			return fmt.Errorf("keyring: key %q changed its algorithm or material in %s; a key ID names one key for good, so give a new key a new ID",
				truncate(e.ID), s.path)
		}
		if e.State != StateDisabled {
			if prev != nil && prev.key != nil {
				lk.key = prev.key
			} else if lk.key, err = codec.NewKey(e.ID, e.Algorithm, e.Material); err != nil {
				return fmt.Errorf("keyring: %w", err)
			}
		}
		next.keys[e.ID] = lk
		if e.State == StatePrimary {
			next.primary = lk.key
		}
	}
	s.set.Store(next)
	return nil
}

// fingerprint hashes a key's algorithm and material under a fixed label.
// It stays in memory only, to compare reloads.
func fingerprint(e Entry) [32]byte {
	h := sha256.New()
	h.Write([]byte("temporal-encryption/keyring-fingerprint\x00"))
	h.Write([]byte(e.Algorithm))
	h.Write([]byte{0})
	h.Write(e.Material)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Poll calls [Source.Reload] every interval until ctx ends, and passes each
// error to onError (which may be nil). Run it on its own goroutine.
func (s *Source) Poll(ctx context.Context, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Reload(); err != nil && onError != nil {
				onError(err)
			}
		}
	}
}

// EncryptionKey returns the primary key.
func (s *Source) EncryptionKey(context.Context) (*codec.Key, error) {
	k := s.set.Load().primary
	if s.cfg.warn != nil {
		s.checkUsage(k)
	}
	return k, nil
}

func (s *Source) checkUsage(k *codec.Key) {
	alg, _ := aead.Lookup(k.Algorithm())
	budget := alg.MaxMessages()
	sealed := k.Sealed()
	first := budget / s.cfg.fraction
	if sealed < first {
		return
	}
	s.usageMu.Lock()
	next, ok := s.next[k.ID()]
	if !ok {
		next = first
	}
	if next == 0 || sealed < next {
		s.usageMu.Unlock()
		return
	}
	for next != 0 && next <= sealed {
		switch {
		case next >= budget:
			next = 0 // the last warning
		case next > budget/2:
			next = budget
		default:
			next *= 2
		}
	}
	s.next[k.ID()] = next
	s.usageMu.Unlock()
	s.cfg.warn(Usage{KeyID: k.ID(), Algorithm: k.Algorithm(), Sealed: sealed, Budget: budget})
}

// DecryptionKey returns the key with ref's ID. A key that is not in the
// file, or is disabled, is an error wrapping [codec.ErrUnknownKey].
func (s *Source) DecryptionKey(_ context.Context, ref codec.KeyRef) (*codec.Key, error) {
	lk := s.set.Load().keys[ref.ID]
	switch {
	case lk == nil:
		return nil, &codec.UnknownKeyError{ID: ref.ID}
	case lk.key == nil:
		return nil, fmt.Errorf("keyring: key %q is disabled: %w", truncate(ref.ID), codec.ErrUnknownKey)
	}
	return lk.key, nil
}

// KeyInfo describes one loaded key, without its material.
type KeyInfo struct {
	ID        string
	Algorithm aead.ID
	State     State
	Created   time.Time
	// Sealed is how many payloads the key sealed in this process.
	Sealed uint64
}

// Keys describes the loaded keys, in no particular order.
func (s *Source) Keys() []KeyInfo {
	set := s.set.Load()
	out := make([]KeyInfo, 0, len(set.keys))
	for id, lk := range set.keys {
		ki := KeyInfo{ID: id, Algorithm: lk.alg, State: lk.state, Created: lk.created}
		if lk.key != nil {
			ki.Sealed = lk.key.Sealed()
		}
		out = append(out, ki)
	}
	return out
}
