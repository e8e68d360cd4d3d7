package keyring

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// FormatVersion is the version of the file format this package reads and
// writes.
const FormatVersion = 1

// Limits on a keyring file. They are far above any real keyring and keep a
// corrupt or hostile file from using much memory.
const (
	MaxFileSize = 1 << 20
	MaxKeys     = 1000
	MaxIDLen    = 256
)

// State is what a key in a keyring file may do.
type State string

// Key states. Exactly one key is primary.
const (
	// StatePrimary encrypts new payloads and decrypts.
	StatePrimary State = "primary"
	// StateDecryptOnly decrypts payloads written earlier, or, when a key
	// is added ahead of a rotation, payloads written by processes that
	// already promoted it.
	StateDecryptOnly State = "decrypt-only"
	// StateDisabled keeps a key in the file but refuses to use it: payloads
	// that name it fail as if the key were unknown. Disable a key before
	// removing it, to find out safely whether anything still needs it.
	StateDisabled State = "disabled"
)

// Entry is one key of a keyring file. Material is the secret key;
// [File.Wipe] clears it.
type Entry struct {
	ID        string
	Algorithm aead.ID
	State     State
	Created   time.Time
	Material  []byte
}

// File is a keyring file's content. Build one with [Parse] or [ReadFile],
// change it with its methods (each keeps it valid), and store it with
// [WriteFile].
type File struct {
	Keys []Entry
}

// The JSON form. Material is standard, padded base64 (RFC 4648 section 4).
type jsonFile struct {
	Version int         `json:"version"`
	Keys    []jsonEntry `json:"keys"`
}

type jsonEntry struct {
	ID        string    `json:"id"`
	Algorithm aead.ID   `json:"algorithm"`
	State     State     `json:"state"`
	Created   time.Time `json:"created"`
	Material  string    `json:"material"`
}

// Parse reads and checks a keyring file. It rejects, each with an error
// that names the key and never shows material: unknown fields, a version
// other than [FormatVersion], no primary key or more than one, a key ID
// given twice (or bound to two algorithms), an unknown algorithm or state,
// a missing creation time, and material that is not standard padded base64
// of exactly the algorithm's key size. Nothing is padded, truncated, or
// guessed from a key's length.
func Parse(data []byte) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("keyring: file is %d bytes, limit %d", len(data), MaxFileSize)
	}
	var jf jsonFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&jf); err != nil {
		return nil, fmt.Errorf("keyring: not a keyring file: %w", jsonError(err))
	}
	if dec.More() {
		return nil, errors.New("keyring: not a keyring file: data after the JSON object")
	}
	if jf.Version != FormatVersion {
		return nil, fmt.Errorf("keyring: format version %d, this program reads %d", jf.Version, FormatVersion)
	}
	if len(jf.Keys) > MaxKeys {
		return nil, fmt.Errorf("keyring: %d keys, limit %d", len(jf.Keys), MaxKeys)
	}

	f := &File{Keys: make([]Entry, 0, len(jf.Keys))}
	for i, je := range jf.Keys {
		e := Entry{ID: je.ID, Algorithm: je.Algorithm, State: je.State, Created: je.Created}
		var err error
		e.Material, err = decodeMaterial(je.Material, je.Algorithm)
		if err == nil {
			err = checkEntry(e)
		}
		if err != nil {
			f.Wipe()
			return nil, fmt.Errorf("keyring: key %d (%q): %w", i, truncate(je.ID), err)
		}
		f.Keys = append(f.Keys, e)
	}
	if err := f.check(); err != nil {
		f.Wipe()
		return nil, err
	}
	return f, nil
}

// jsonError drops the offending value from a JSON error, which could be
// key material, and keeps the position or field.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("field %q must be %s", te.Field, te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	case errors.Is(err, io.EOF):
		return errors.New("empty file")
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return errors.New(`"created" must be an RFC 3339 time`)
	}
	return errors.New("malformed JSON")
}

// decodeMaterial reads standard padded base64 and checks its length
// against the algorithm. Its errors say what the string looks like, by
// length and alphabet only.
func decodeMaterial(s string, alg aead.ID) ([]byte, error) {
	a, err := aead.Lookup(alg)
	if err != nil {
		return nil, fmt.Errorf("algorithm: %w; use one of %s", err, algorithmNames())
	}
	if s == "" {
		return nil, errors.New(`"material" is missing`)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		hint := ""
		switch {
		case strings.ContainsAny(s, "-_"):
			hint = " (it uses the URL-safe alphabet: write '+' and '/' instead of '-' and '_')"
		case len(s)%4 != 0:
			hint = " (it lacks '=' padding)"
		}
		return nil, fmt.Errorf("material is not standard base64%s", hint)
	}
	if len(b) != a.KeySize() {
		clear(b)
		hint := ""
		if len(s) == 2*a.KeySize() && isHex(s) {
			hint = fmt.Sprintf(" (it looks like %d hex digits; material must be base64)", len(s))
		}
		return nil, fmt.Errorf("material is %d bytes, %s needs exactly %d%s", len(b), a.ID(), a.KeySize(), hint)
	}
	return b, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// checkEntry checks one entry on its own.
func checkEntry(e Entry) error {
	if e.ID == "" || len(e.ID) > MaxIDLen {
		return fmt.Errorf("ID must be 1 to %d bytes, got %d", MaxIDLen, len(e.ID))
	}
	for _, r := range e.ID {
		if r < 0x20 || r == 0x7f {
			return errors.New("ID contains a control character")
		}
	}
	a, err := aead.Lookup(e.Algorithm)
	if err != nil {
		return fmt.Errorf("algorithm: %w; use one of %s", err, algorithmNames())
	}
	if len(e.Material) != a.KeySize() {
		return fmt.Errorf("material is %d bytes, %s needs exactly %d", len(e.Material), a.ID(), a.KeySize())
	}
	switch e.State {
	case StatePrimary, StateDecryptOnly, StateDisabled:
	default:
		return fmt.Errorf("state %q is not one of %q, %q, %q",
			truncate(string(e.State)), StatePrimary, StateDecryptOnly, StateDisabled)
	}
	if e.Created.IsZero() {
		return errors.New(`"created" is missing`)
	}
	return nil
}

// check checks the keys together: unique IDs, one primary.
func (f *File) check() error {
	seen := make(map[string]int, len(f.Keys))
	var primaries []string
	for i, e := range f.Keys {
		if j, dup := seen[e.ID]; dup {
			if prev := f.Keys[j].Algorithm; prev != e.Algorithm {
				return fmt.Errorf("keyring: key ID %q is bound to two algorithms (%s in key %d, %s in key %d); an ID names one key",
					truncate(e.ID), prev, j, e.Algorithm, i)
			}
			return fmt.Errorf("keyring: key ID %q appears twice (keys %d and %d)", truncate(e.ID), j, i)
		}
		seen[e.ID] = i
		if e.State == StatePrimary {
			primaries = append(primaries, e.ID)
		}
	}
	switch len(primaries) {
	case 0:
		return fmt.Errorf(`keyring: no primary key; exactly one key must have "state": %q`, StatePrimary)
	case 1:
		return nil
	}
	return fmt.Errorf("keyring: %d primary keys (%s); exactly one may be primary",
		len(primaries), strings.Join(quoteAll(primaries), ", "))
}

// Marshal returns f as JSON, after checking it as [Parse] does. The result
// holds key material; the caller should clear it after use.
func (f *File) Marshal() ([]byte, error) {
	jf := jsonFile{Version: FormatVersion, Keys: make([]jsonEntry, len(f.Keys))}
	for i, e := range f.Keys {
		if err := checkEntry(e); err != nil {
			return nil, fmt.Errorf("keyring: key %d (%q): %w", i, truncate(e.ID), err)
		}
		jf.Keys[i] = jsonEntry{
			ID: e.ID, Algorithm: e.Algorithm, State: e.State, Created: e.Created.UTC(),
			Material: base64.StdEncoding.EncodeToString(e.Material),
		}
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return json.MarshalIndent(jf, "", "  ")
}

// Wipe clears the key material of every entry.
func (f *File) Wipe() {
	for i := range f.Keys {
		clear(f.Keys[i].Material)
	}
}

// Primary returns the primary entry.
func (f *File) Primary() *Entry {
	for i := range f.Keys {
		if f.Keys[i].State == StatePrimary {
			return &f.Keys[i]
		}
	}
	return nil
}

// Find returns the entry with the given ID, or nil.
func (f *File) Find(id string) *Entry {
	for i := range f.Keys {
		if f.Keys[i].ID == id {
			return &f.Keys[i]
		}
	}
	return nil
}

// NewEntry returns an entry with fresh random material from crypto/rand.
func NewEntry(id string, alg aead.ID, state State, created time.Time) (Entry, error) {
	a, err := aead.Lookup(alg)
	if err != nil {
		return Entry{}, fmt.Errorf("keyring: %w; use one of %s", err, algorithmNames())
	}
	e := Entry{ID: id, Algorithm: alg, State: state, Created: created.UTC().Truncate(time.Second),
		Material: make([]byte, a.KeySize())}
	if _, err := rand.Read(e.Material); err != nil {
		return Entry{}, fmt.Errorf("keyring: random source failed: %w", err)
	}
	if err := checkEntry(e); err != nil {
		clear(e.Material)
		return Entry{}, fmt.Errorf("keyring: key %q: %w", truncate(id), err)
	}
	return e, nil
}

// Add appends e, which must not be primary unless f has no keys yet: add
// a key as decrypt-only everywhere first, then promote it.
func (f *File) Add(e Entry) error {
	if err := checkEntry(e); err != nil {
		return fmt.Errorf("keyring: key %q: %w", truncate(e.ID), err)
	}
	if f.Find(e.ID) != nil {
		return fmt.Errorf("keyring: key ID %q is already in the keyring", truncate(e.ID))
	}
	if e.State == StatePrimary && len(f.Keys) > 0 {
		return fmt.Errorf("keyring: key %q: add it as %s and promote it once every process has it",
			truncate(e.ID), StateDecryptOnly)
	}
	f.Keys = append(f.Keys, e)
	return nil
}

// Promote makes the decrypt-only key id primary and the old primary
// decrypt-only.
func (f *File) Promote(id string) error {
	e, err := f.mustFind(id)
	if err != nil {
		return err
	}
	switch e.State {
	case StatePrimary:
		return fmt.Errorf("keyring: key %q is already primary", truncate(id))
	case StateDisabled:
		return fmt.Errorf("keyring: key %q is disabled; enable it before promoting it", truncate(id))
	}
	if p := f.Primary(); p != nil {
		p.State = StateDecryptOnly
	}
	e.State = StatePrimary
	return nil
}

// Retire disables the decrypt-only key id. The primary key cannot be
// retired; promote another first.
func (f *File) Retire(id string) error {
	e, err := f.mustFind(id)
	if err != nil {
		return err
	}
	if e.State == StatePrimary {
		return fmt.Errorf("keyring: key %q is primary; promote another key first", truncate(id))
	}
	e.State = StateDisabled
	return nil
}

// Enable makes the disabled key id decrypt-only again.
func (f *File) Enable(id string) error {
	e, err := f.mustFind(id)
	if err != nil {
		return err
	}
	if e.State != StateDisabled {
		return fmt.Errorf("keyring: key %q is %s, not %s", truncate(id), e.State, StateDisabled)
	}
	e.State = StateDecryptOnly
	return nil
}

// Remove deletes the disabled key id and clears its material. Payloads
// sealed under it can never be decrypted again.
func (f *File) Remove(id string) error {
	e, err := f.mustFind(id)
	if err != nil {
		return err
	}
	if e.State != StateDisabled {
		return fmt.Errorf("keyring: key %q is %s; retire it first and check nothing needs it", truncate(id), e.State)
	}
	clear(e.Material)
	f.Keys = slices.DeleteFunc(f.Keys, func(k Entry) bool { return k.ID == id })
	return nil
}

func (f *File) mustFind(id string) (*Entry, error) {
	if e := f.Find(id); e != nil {
		return e, nil
	}
	return nil, fmt.Errorf("keyring: no key %q", truncate(id))
}

// ReadFile reads and parses the keyring file at path. It refuses a file
// that its group or other users may read or write (any of mode 0077) on
// systems with Unix permissions, and a file larger than [MaxFileSize].
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring: %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("keyring: %s has mode %#o, which lets group or others at the keys; run chmod 600 %s",
			path, perm, path)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("keyring: %s is %d bytes, limit %d", path, st.Size(), MaxFileSize)
	}
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	defer clear(data)
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return f, nil
}

// WriteFile stores f at path with mode 0600, atomically: it writes a
// temporary file in the same directory, syncs it and renames it over path,
// so a reader sees the old file or the new one, never a part.
func WriteFile(path string, f *File) error {
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	defer clear(data)
	data = append(data, '\n')

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}

func algorithmNames() string {
	var names []string
	for _, a := range aead.All() {
		names = append(names, string(a.ID()))
	}
	return strings.Join(names, ", ")
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", truncate(s))
	}
	return out
}

// truncate bounds a name before it goes into an error.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
