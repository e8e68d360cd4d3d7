package envelope

import (
	"bytes"
	"testing"
)

func intern(b []byte) string { return string(b) }

var algs = []string{"aes-256-gcm", "x"}

// FuzzParse: Parse never panics, and what it accepts survives PutMetadata
// then Parse unchanged, with the same associated data.
func FuzzParse(f *testing.F) {
	f.Add([]byte("1"), []byte("aes-256-gcm"), []byte("k1"), []byte(""), []byte(""), []byte(nil))
	f.Add([]byte("1"), []byte("x"), []byte("k"), []byte("zstd"), []byte("namespace"), []byte("wrapped"))
	f.Add([]byte("2"), []byte("x"), []byte("k"), []byte("zstd"), []byte("namespace"), []byte("wrapped"))
	f.Add([]byte("01"), []byte(""), []byte(""), []byte(""), []byte(""), []byte(nil))
	f.Fuzz(func(t *testing.T, format, alg, id, comp, scope, wrapped []byte) {
		md := map[string][]byte{KeyEncoding: []byte(EncodingEncrypted), KeyFormat: format,
			KeyAlgorithm: alg, KeyKeyID: id}
		if len(comp) > 0 {
			md[KeyCompression] = comp
		}
		if len(scope) > 0 {
			md[KeyScope] = scope
		}
		if wrapped != nil {
			md[KeyWrappedKey] = wrapped
		}
		h, err := Parse(md, algs, intern)
		if err != nil {
			return
		}
		out := map[string][]byte{}
		buf := make([]byte, h.MetadataLen())
		if rest := h.PutMetadata(out, buf); len(rest) != 0 {
			t.Fatalf("MetadataLen overstates by %d", len(rest))
		}
		if len(out) != h.Entries() {
			t.Fatalf("Entries = %d, PutMetadata wrote %d", h.Entries(), len(out))
		}
		h2, err := Parse(out, algs, intern)
		if err != nil {
			t.Fatalf("Parse(PutMetadata(h)) = %v", err)
		}
		ad1 := AppendAssociatedData(nil, &h, "ns")
		ad2 := AppendAssociatedData(nil, &h2, "ns")
		if !bytes.Equal(ad1, ad2) || len(ad1) != AssociatedDataLen(&h, "ns") {
			t.Fatal("associated data changed across PutMetadata and Parse")
		}
	})
}

func TestAssociatedDataIsInjective(t *testing.T) {
	// Moving a byte between adjacent fields must change the bytes.
	a := Header{Version: 1, Algorithm: "aes-256-gcm", KeyID: "k1x"}
	b := Header{Version: 1, Algorithm: "aes-256-gcmk", KeyID: "1x"}
	if bytes.Equal(AppendAssociatedData(nil, &a), AppendAssociatedData(nil, &b)) {
		t.Fatal("two headers give the same associated data")
	}
	if bytes.Equal(AppendAssociatedData(nil, &a, "ns1"), AppendAssociatedData(nil, &a, "ns2")) {
		t.Fatal("bound namespace does not change the associated data")
	}
}

func TestParseRequiresCanonicalFields(t *testing.T) {
	base := func() map[string][]byte {
		return map[string][]byte{KeyEncoding: []byte(EncodingEncrypted), KeyFormat: []byte("1"),
			KeyAlgorithm: []byte("aes-256-gcm"), KeyKeyID: []byte("k1")}
	}
	if _, err := Parse(base(), algs, intern); err != nil {
		t.Fatalf("Parse(canonical) = %v", err)
	}
	tests := []struct {
		name string
		key  string
		val  []byte
	}{
		{"format 01", KeyFormat, []byte("01")},
		{"format +1", KeyFormat, []byte("+1")},
		{"unknown algorithm", KeyAlgorithm, []byte("rot13")},
		{"empty compression", KeyCompression, []byte{}},
		{"unknown compression", KeyCompression, []byte("gzip")},
		{"empty scope", KeyScope, []byte{}},
		{"unknown scope", KeyScope, []byte("workflow")},
		{"empty wrapped key", KeyWrappedKey, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := base()
			md[tt.key] = tt.val
			if _, err := Parse(md, algs, intern); err != ErrMalformed {
				t.Fatalf("Parse = %v, want ErrMalformed", err)
			}
		})
	}
}
