package keyring_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/keyring"
)

var created = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// key is one entry of a hand-written test file.
type key struct {
	ID        string `json:"id"`
	Algorithm string `json:"algorithm"`
	State     string `json:"state"`
	Created   string `json:"created,omitempty"`
	Material  string `json:"material"`
}

func material(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func b64(n int, b byte) string { return base64.StdEncoding.EncodeToString(material(n, b)) }

func primary(id string) key {
	return key{id, "aes-256-gcm", "primary", created.Format(time.RFC3339), b64(32, 1)}
}

func fileJSON(t testing.TB, keys ...key) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"version": 1, "keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path+".new", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// TestParseRejects is case C24: each bad key fails with a clear error, and
// none is padded, truncated or guessed from its length.
func TestParseRejects(t *testing.T) {
	hex64 := hex.EncodeToString(material(32, 0xab))
	urlSafe := base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)) // has '-' and '_'
	withState := func(k key, s string) key { k.State = s; return k }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"aes-256 with 16 bytes",
			fileJSON(t, key{"k", "aes-256-gcm", "primary", "2026-03-01T09:00:00Z", b64(16, 1)}),
			"material is 16 bytes, aes-256-gcm needs exactly 32"},
		{"aes-256 with 31 bytes",
			fileJSON(t, key{"k", "aes-256-gcm", "primary", "2026-03-01T09:00:00Z", b64(31, 1)}),
			"material is 31 bytes, aes-256-gcm needs exactly 32"},
		{"aes-256 with 33 bytes",
			fileJSON(t, key{"k", "aes-256-gcm", "primary", "2026-03-01T09:00:00Z", b64(33, 1)}),
			"material is 33 bytes, aes-256-gcm needs exactly 32"},
		{"64 hex digits instead of base64",
			fileJSON(t, key{"k", "aes-256-gcm", "primary", "2026-03-01T09:00:00Z", hex64}),
			"it looks like 64 hex digits; material must be base64"},
		{"base64url instead of base64",
			fileJSON(t, key{"k", "aes-256-gcm", "primary", "2026-03-01T09:00:00Z", urlSafe}),
			"uses the URL-safe alphabet"},
		{"unpadded base64",
			fileJSON(t, key{"k", "aes-256-gcm", "primary", "2026-03-01T09:00:00Z", strings.TrimRight(b64(32, 1), "=")}),
			"lacks '=' padding"},
		{"chacha20 with 16 bytes",
			fileJSON(t, key{"k", "chacha20-poly1305", "primary", "2026-03-01T09:00:00Z", b64(16, 1)}),
			"material is 16 bytes, chacha20-poly1305 needs exactly 32"},
		{"aes-128 given a 32-byte key",
			fileJSON(t, key{"k", "aes-128-gcm", "primary", "2026-03-01T09:00:00Z", b64(32, 1)}),
			"material is 32 bytes, aes-128-gcm needs exactly 16"},
		{"duplicate key IDs",
			fileJSON(t, primary("k1"), withState(primary("k1"), "decrypt-only")),
			`key ID "k1" appears twice (keys 0 and 1)`},
		{"one ID bound to two algorithms",
			fileJSON(t, primary("k1"), key{"k1", "chacha20-poly1305", "decrypt-only", "2026-03-01T09:00:00Z", b64(32, 2)}),
			`key ID "k1" is bound to two algorithms`},
		{"no primary",
			fileJSON(t, withState(primary("k1"), "decrypt-only")),
			"no primary key"},
		{"two primaries",
			fileJSON(t, primary("k1"), primary("k2")),
			`2 primary keys ("k1", "k2")`},
		{"unknown algorithm",
			fileJSON(t, key{"k", "aes-512-gcm", "primary", "2026-03-01T09:00:00Z", b64(32, 1)}),
			"unknown algorithm"},
		{"missing algorithm",
			fileJSON(t, key{"k", "", "primary", "2026-03-01T09:00:00Z", b64(32, 1)}),
			"unknown algorithm"},
		{"unknown state",
			fileJSON(t, withState(primary("k1"), "active")),
			`state "active" is not one of`},
		{"missing created",
			fileJSON(t, key{"k", "aes-256-gcm", "primary", "", b64(32, 1)}),
			`"created" is missing`},
		{"empty ID",
			fileJSON(t, primary("")),
			"ID must be 1 to 256 bytes"},
		{"missing material",
			fileJSON(t, key{"k", "aes-256-gcm", "primary", "2026-03-01T09:00:00Z", ""}),
			`"material" is missing`},
		{"unknown field", []byte(`{"version":1,"keys":[],"primary":"k"}`), `unknown field "primary"`},
		{"wrong version", []byte(`{"version":2,"keys":[]}`), "format version 2"},
		{"not JSON", []byte(hex64), "not a keyring file"},
		{"empty", nil, "empty file"},
		{"trailing data", append(fileJSON(t, primary("k1")), "{}"...), "data after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := keyring.Parse(tt.data)
			if err == nil {
				t.Fatalf("Parse accepted the file: %d keys", len(f.Keys))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %q, want it to contain %q", err, tt.want)
			}
			// The error never shows key material.
			for _, secret := range []string{b64(32, 1), b64(16, 1), hex64, urlSafe, b64(31, 1), b64(33, 1)} {
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:16]) {
					t.Errorf("error %q holds key material", err)
				}
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	data := fileJSON(t,
		primary("k3"),
		key{"k2", "chacha20-poly1305", "decrypt-only", "2025-12-01T00:00:00Z", b64(32, 2)},
		key{"k1", "aes-128-gcm", "disabled", "2025-06-01T00:00:00Z", b64(16, 3)},
		key{"k0", "xchacha20-poly1305", "decrypt-only", "2025-01-01T00:00:00+01:00", b64(32, 4)},
	)
	f, err := keyring.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if p := f.Primary(); p == nil || p.ID != "k3" {
		t.Fatalf("Primary() = %v, want k3", p)
	}
	// Marshal and Parse are inverse.
	out, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g, err := keyring.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Keys {
		a, b := f.Keys[i], g.Keys[i]
		if a.ID != b.ID || a.Algorithm != b.Algorithm || a.State != b.State ||
			!a.Created.Equal(b.Created) || !bytes.Equal(a.Material, b.Material) {
			t.Errorf("key %d changed across Marshal and Parse", i)
		}
	}
}

func TestReadFilePermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	data := fileJSON(t, primary("k1"))
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o660} {
		if err := os.WriteFile(path, data, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, mode) // past the umask
		_, err := keyring.ReadFile(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("ReadFile of a mode %#o file = %v, want a refusal", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		os.Chmod(path, mode)
		if _, err := keyring.ReadFile(path); err != nil {
			t.Errorf("ReadFile of a mode %#o file: %v", mode, err)
		}
	}
	if _, err := keyring.ReadFile(dir); err == nil {
		t.Error("ReadFile of a directory succeeded")
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	e, err := keyring.NewEntry("k1", aead.AES256GCM, keyring.StatePrimary, created)
	if err != nil {
		t.Fatal(err)
	}
	f := &keyring.File{}
	if err := f.Add(e); err != nil {
		t.Fatal(err)
	}
	if err := keyring.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("written file has mode %#o, want 0600", st.Mode().Perm())
	}
	g, err := keyring.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g.Keys[0].Material, e.Material) {
		t.Error("material changed across WriteFile and ReadFile")
	}
	// An invalid file is never written.
	if err := keyring.WriteFile(path, &keyring.File{}); err == nil {
		t.Error("WriteFile wrote a keyring without a primary key")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestFileEdits(t *testing.T) {
	f := &keyring.File{}
	mustEntry := func(id string, st keyring.State) keyring.Entry {
		e, err := keyring.NewEntry(id, aead.AES256GCM, st, created)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	steps := []struct {
		name    string
		do      func() error
		wantErr string
	}{
		{"first key primary", func() error { return f.Add(mustEntry("k1", keyring.StatePrimary)) }, ""},
		{"second primary refused", func() error { return f.Add(mustEntry("k2", keyring.StatePrimary)) }, "add it as decrypt-only"},
		{"add decrypt-only", func() error { return f.Add(mustEntry("k2", keyring.StateDecryptOnly)) }, ""},
		{"duplicate ID", func() error { return f.Add(mustEntry("k2", keyring.StateDecryptOnly)) }, "already in the keyring"},
		{"retire primary refused", func() error { return f.Retire("k1") }, "is primary"},
		{"promote", func() error { return f.Promote("k2") }, ""},
		{"promote again", func() error { return f.Promote("k2") }, "already primary"},
		{"remove live key refused", func() error { return f.Remove("k1") }, "retire it first"},
		{"retire", func() error { return f.Retire("k1") }, ""},
		{"promote disabled refused", func() error { return f.Promote("k1") }, "is disabled"},
		{"enable", func() error { return f.Enable("k1") }, ""},
		{"retire again", func() error { return f.Retire("k1") }, ""},
		{"remove", func() error { return f.Remove("k1") }, ""},
		{"unknown", func() error { return f.Promote("k9") }, `no key "k9"`},
	}
	for _, s := range steps {
		err := s.do()
		switch {
		case s.wantErr == "" && err != nil:
			t.Fatalf("%s: %v", s.name, err)
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Fatalf("%s: err = %v, want %q", s.name, err, s.wantErr)
		}
	}
	if len(f.Keys) != 1 || f.Primary().ID != "k2" {
		t.Errorf("after the edits: %d keys, primary %q; want k2 alone", len(f.Keys), f.Primary().ID)
	}
}

func openSource(t testing.TB, path string, opts ...keyring.Option) *keyring.Source {
	t.Helper()
	s, err := keyring.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func newCodec(t testing.TB, src codec.KeySource) *codec.Codec {
	t.Helper()
	c, err := codec.New(src)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func payload(s string) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(s)}
}

func keyID(p *commonpb.Payload) string { return string(p.GetMetadata()[codec.MetadataKeyID]) }

// TestStagedRotation runs a rotation across two processes that share a
// file: add the new key as decrypt-only, reload both, promote, reload one
// at a time. At every step each process decodes what the other wrote.
func TestStagedRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	old := primary("k-old")
	writeFile(t, path, fileJSON(t, old))
	src1, src2 := openSource(t, path), openSource(t, path)
	w1, w2 := newCodec(t, src1), newCodec(t, src2)

	exchange := func(step, wantID1, wantID2 string) {
		t.Helper()
		p1, err := w1.Encode([]*commonpb.Payload{payload(`"one"`)})
		if err != nil {
			t.Fatalf("%s: worker 1 Encode: %v", step, err)
		}
		p2, err := w2.Encode([]*commonpb.Payload{payload(`"two"`)})
		if err != nil {
			t.Fatalf("%s: worker 2 Encode: %v", step, err)
		}
		if keyID(p1[0]) != wantID1 || keyID(p2[0]) != wantID2 {
			t.Fatalf("%s: workers encrypt with %q and %q, want %q and %q",
				step, keyID(p1[0]), keyID(p2[0]), wantID1, wantID2)
		}
		if _, err := w2.Decode(p1); err != nil {
			t.Fatalf("%s: worker 2 cannot read worker 1: %v", step, err)
		}
		if _, err := w1.Decode(p2); err != nil {
			t.Fatalf("%s: worker 1 cannot read worker 2: %v", step, err)
		}
	}
	exchange("before", "k-old", "k-old")
	early, _ := w1.Encode([]*commonpb.Payload{payload(`"early"`)})

	// Stage 1: add the new key as decrypt-only everywhere.
	next := key{"k-new", "aes-256-gcm", "decrypt-only", "2026-06-01T00:00:00Z", b64(32, 9)}
	writeFile(t, path, fileJSON(t, old, next))
	for _, s := range []*keyring.Source{src1, src2} {
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	exchange("new key added", "k-old", "k-old")

	// Stage 2: promote it; the processes reload one after the other.
	old.State, next.State = "decrypt-only", "primary"
	writeFile(t, path, fileJSON(t, old, next))
	if err := src1.Reload(); err != nil {
		t.Fatal(err)
	}
	exchange("promoted in worker 1 only", "k-new", "k-old")
	if err := src2.Reload(); err != nil {
		t.Fatal(err)
	}
	exchange("promoted everywhere", "k-new", "k-new")

	// Stage 3: retire the old key; its payloads fail as unknown.
	old.State = "disabled"
	writeFile(t, path, fileJSON(t, old, next))
	if err := src1.Reload(); err != nil {
		t.Fatal(err)
	}
	out, err := w1.Decode(early)
	if !errors.Is(err, codec.ErrUnknownKey) || out != nil {
		t.Errorf("Decode under a disabled key = %v, want ErrUnknownKey", err)
	}
	if _, err := w2.Decode(early); err != nil {
		t.Errorf("worker 2 has not reloaded and should still read k-old: %v", err)
	}
}

func TestReloadKeepsKeysOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFile(t, path, fileJSON(t, primary("k1")))
	src := openSource(t, path)
	c := newCodec(t, src)
	p, err := c.Encode([]*commonpb.Payload{payload(`1`)})
	if err != nil {
		t.Fatal(err)
	}

	changed := primary("k1")
	changed.Material = b64(32, 7)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"same ID, new material", fileJSON(t, changed), "changed its algorithm or material"},
		{"same ID, new algorithm",
			fileJSON(t, key{"k1", "chacha20-poly1305", "primary", "2026-03-01T09:00:00Z", b64(32, 1)}),
			"changed its algorithm or material"},
		{"invalid file", []byte("{"), "not a keyring file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, path, tt.data)
			err := src.Reload()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Reload = %v, want %q", err, tt.want)
			}
			if _, err := c.Decode(p); err != nil {
				t.Errorf("keys lost after a failed reload: %v", err)
			}
		})
	}
	// Permissions that loosen are refused on reload too.
	writeFile(t, path, fileJSON(t, primary("k1")))
	os.Chmod(path, 0o644)
	if err := src.Reload(); err == nil {
		t.Error("Reload accepted a world-readable file")
	}
}

func TestConcurrentReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	a, b := primary("a"), key{"b", "aes-256-gcm", "decrypt-only", "2026-03-01T09:00:00Z", b64(32, 2)}
	writeFile(t, path, fileJSON(t, a, b))
	src := openSource(t, path)
	c := newCodec(t, src)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			a.State, b.State = b.State, a.State
			writeFile(t, path, fileJSON(t, a, b))
			if err := src.Reload(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 300 {
				p, err := c.Encode([]*commonpb.Payload{payload(`"x"`)})
				if err == nil {
					_, err = c.Decode(p)
				}
				if err != nil {
					t.Errorf("goroutine %d: %v", i, err)
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
}

func TestUsageWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFile(t, path, fileJSON(t, primary("k1")))
	var got []keyring.Usage
	var mu sync.Mutex
	// AES-GCM's budget is 2³²; divisor 2²⁰ warns first at 4096 payloads.
	src := openSource(t, path, keyring.WithUsageWarning(1<<20, func(u keyring.Usage) {
		mu.Lock()
		got = append(got, u)
		mu.Unlock()
	}))
	c := newCodec(t, src)
	batch := make([]*commonpb.Payload, 1024)
	for i := range batch {
		batch[i] = payload(`0`)
	}
	for range 9 { // 9216 payloads: past 4096 and 8192
		if _, err := c.Encode(batch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Encode(batch[:1]); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d warnings, want 2 (at 4096 and 8192): %+v", len(got), got)
	}
	for i, u := range got {
		if u.KeyID != "k1" || u.Budget != 1<<32 || u.Sealed < 4096<<i {
			t.Errorf("warning %d = %+v", i, u)
		}
	}
	for _, ki := range src.Keys() {
		if ki.ID == "k1" && ki.Sealed != 9*1024+1 {
			t.Errorf("Keys() reports %d sealed, want %d", ki.Sealed, 9*1024+1)
		}
	}
	if _, err := keyring.Open(path, keyring.WithUsageWarning(1, func(keyring.Usage) {})); err == nil {
		t.Error("Open accepted divisor 1")
	}
}
