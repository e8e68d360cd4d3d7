package codec_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

// randomKey returns a key for alg with fresh random material.
func randomKey(t testing.TB, id string, alg aead.ID) *codec.Key {
	t.Helper()
	a, err := aead.Lookup(alg)
	if err != nil {
		t.Fatal(err)
	}
	material := make([]byte, a.KeySize())
	_, _ = rand.Read(material)
	k, err := codec.NewKey(id, alg, material)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func codecFor(t testing.TB, primary *codec.Key, decryptOnly ...*codec.Key) *codec.Codec {
	t.Helper()
	ring, err := codec.NewKeyring(primary, decryptOnly...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(ring)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// algorithmPayloads are sealed by every writer: small JSON, empty data, and
// 64 KiB of binary that spans many AES and ChaCha20 blocks.
func algorithmPayloads(alg aead.ID) []*commonpb.Payload {
	return []*commonpb.Payload{
		{
			Metadata: map[string][]byte{"encoding": []byte("json/plain")},
			Data:     []byte(fmt.Sprintf(`{"order":42,"sealed-with":%q}`, alg)),
		},
		{Metadata: map[string][]byte{"encoding": []byte("binary/null")}},
		{
			Metadata: map[string][]byte{"encoding": []byte("binary/plain")},
			Data:     bytes.Repeat([]byte(alg), 64<<10/len(alg)),
		},
	}
}

// writer is one producer of payloads: its key, the payloads it meant to
// send, and what its codec encoded.
type writer struct {
	key     *codec.Key
	plain   []*commonpb.Payload
	encoded []*commonpb.Payload
}

// newWriters encodes algorithmPayloads with one codec per algorithm, each
// holding a single key of that algorithm.
func newWriters(t *testing.T) []writer {
	t.Helper()
	var ws []writer
	for _, a := range aead.All() {
		w := writer{
			key:   randomKey(t, "writer-"+string(a.ID()), a.ID()),
			plain: algorithmPayloads(a.ID()),
		}
		enc, err := codecFor(t, w.key).Encode(w.plain)
		if err != nil {
			t.Fatalf("Encode with %s: %v", a.ID(), err)
		}
		for i, p := range enc {
			if got := string(p.GetMetadata()[codec.MetadataAlgorithm]); got != string(a.ID()) {
				t.Fatalf("Encode with %s: payload %d says algorithm %q", a.ID(), i, got)
			}
		}
		w.encoded = enc
		ws = append(ws, w)
	}
	return ws
}

func writerKeys(ws []writer) []*codec.Key {
	keys := make([]*codec.Key, len(ws))
	for i, w := range ws {
		keys[i] = w.key
	}
	return keys
}

// TestMixedAlgorithms decodes payloads sealed under all four algorithms with
// one codec. Its primary key is a fifth key, of each algorithm in turn, and
// it holds the writers' keys as decrypt-only keys, as a reader does after
// the writers' keys were rotated to a new algorithm.
func TestMixedAlgorithms(t *testing.T) {
	ws := newWriters(t)

	for _, primary := range aead.All() {
		t.Run("primary "+string(primary.ID()), func(t *testing.T) {
			reader := codecFor(t, randomKey(t, "reader-"+string(primary.ID()), primary.ID()),
				writerKeys(ws)...)

			// Each writer's batch on its own.
			for _, w := range ws {
				got, err := reader.Decode(w.encoded)
				if err != nil {
					t.Fatalf("Decode(%s payloads) = %v", w.key.Algorithm(), err)
				}
				assertPayloads(t, string(w.key.Algorithm()), got, w.plain)
			}

			// One batch that interleaves every algorithm.
			var mixed, want []*commonpb.Payload
			for i := range ws[0].encoded {
				for _, w := range ws {
					mixed = append(mixed, w.encoded[i])
					want = append(want, w.plain[i])
				}
			}
			got, err := reader.Decode(mixed)
			if err != nil {
				t.Fatalf("Decode(mixed batch) = %v", err)
			}
			assertPayloads(t, "mixed batch", got, want)

			// The reader encodes with its own primary and reads that back.
			own := algorithmPayloads(primary.ID())
			enc, err := reader.Encode(own)
			if err != nil {
				t.Fatalf("Encode = %v", err)
			}
			alg := string(enc[0].GetMetadata()[codec.MetadataAlgorithm])
			if alg != string(primary.ID()) {
				t.Errorf("Encode wrote algorithm %q, want the primary's %q", alg, primary.ID())
			}
			got, err = reader.Decode(enc)
			if err != nil {
				t.Fatalf("Decode(Encode(x)) = %v", err)
			}
			assertPayloads(t, "own payloads", got, own)
		})
	}
}

func assertPayloads(t *testing.T, what string, got, want []*commonpb.Payload) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: Decode returned %d payloads, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("%s: payload %d decoded to something other than what was encoded", what, i)
		}
	}
}

// TestAlgorithmMetadataIsBound changes the encryption-algorithm metadata of
// payloads sealed under each algorithm. Decoding must fail with ErrDecrypt
// whatever the new value: another algorithm the reader holds a key for,
// "none", empty, or missing. Nothing is returned, in clear or otherwise.
func TestAlgorithmMetadataIsBound(t *testing.T) {
	ws := newWriters(t)
	reader := codecFor(t, randomKey(t, "reader", aead.AES256GCM), writerKeys(ws)...)

	for wi, w := range ws {
		type mutation struct {
			name   string
			mutate func(md map[string][]byte)
		}
		setAlg := func(v string) func(map[string][]byte) {
			return func(md map[string][]byte) { md[codec.MetadataAlgorithm] = []byte(v) }
		}
		tests := []mutation{
			{"none", setAlg("none")},
			{"empty", setAlg("")},
			{"removed", func(md map[string][]byte) { delete(md, codec.MetadataAlgorithm) }},
			{"upper case", setAlg(strings.ToUpper(string(w.key.Algorithm())))},
		}
		for oi, other := range ws {
			if oi == wi {
				continue
			}
			otherAlg := string(other.key.Algorithm())
			tests = append(tests,
				mutation{"to " + otherAlg, setAlg(otherAlg)},
				// Relabelled as the other writer's payload: its key and its
				// algorithm, so the header is consistent with a key held.
				mutation{"to " + other.key.ID() + " and its algorithm", func(md map[string][]byte) {
					md[codec.MetadataKeyID] = []byte(other.key.ID())
					md[codec.MetadataAlgorithm] = []byte(other.key.Algorithm())
				}},
			)
		}

		for _, tc := range tests {
			t.Run(string(w.key.Algorithm())+"/"+tc.name, func(t *testing.T) {
				for i, enc := range w.encoded {
					p := proto.Clone(enc).(*commonpb.Payload)
					tc.mutate(p.Metadata)
					out, err := reader.Decode([]*commonpb.Payload{p})
					if !errors.Is(err, codec.ErrDecrypt) || out != nil {
						t.Errorf("Decode(payload %d, algorithm %s) = %d payloads, %v; "+
							"want ErrDecrypt", i, tc.name, len(out), err)
					}
				}
			})
		}
	}
}
