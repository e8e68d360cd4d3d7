package aead_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// sunscreen is the plaintext of the RFC 8439 and XChaCha draft examples.
var sunscreen = hex.EncodeToString([]byte("Ladies and Gentlemen of the class of '99: " +
	"If I could offer you only one tip for the future, sunscreen would be it."))

// knownAnswers are test vectors published with each algorithm's
// specification, in hex. The ciphertext includes the 16-byte tag.
var knownAnswers = []struct {
	name                              string
	alg                               aead.ID
	key, nonce, ad, plaintext, sealed string
}{
	// RFC 8439, section 2.8.2, "Example and Test Vector for
	// AEAD_CHACHA20_POLY1305".
	// https://www.rfc-editor.org/rfc/rfc8439#section-2.8.2
	{
		name:      "RFC 8439 2.8.2",
		alg:       aead.ChaCha20Poly1305,
		key:       "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
		nonce:     "070000004041424344454647",
		ad:        "50515253c0c1c2c3c4c5c6c7",
		plaintext: sunscreen,
		sealed: "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6" +
			"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36" +
			"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
			"3ff4def08e4b7a9de576d26586cec64b6116" +
			"1ae10b594f09e26a7e902ecbd0600691",
	},

	// draft-irtf-cfrg-xchacha-03, appendix A.3.1, "Example and Test Vector
	// for AEAD_XCHACHA20_POLY1305".
	// https://datatracker.ietf.org/doc/html/draft-irtf-cfrg-xchacha-03#appendix-A.3.1
	{
		name:      "draft-irtf-cfrg-xchacha A.3.1",
		alg:       aead.XChaCha20Poly1305,
		key:       "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
		nonce:     "404142434445464748494a4b4c4d4e4f5051525354555657",
		ad:        "50515253c0c1c2c3c4c5c6c7",
		plaintext: sunscreen,
		sealed: "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb" +
			"731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452" +
			"2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9" +
			"21f9664c97637da9768812f615c68b13b52e" +
			"c0875924c1c7987947deafd8780acf49",
	},

	// D. McGrew and J. Viega, "The Galois/Counter Mode of Operation (GCM)",
	// revised submission to NIST, 2005, appendix B: test cases 1 to 4 use
	// AES-128 and 13 to 16 AES-256, all with 96-bit IVs. (Cases 5, 6, 11,
	// 12, 17 and 18 use other IV lengths, and 7 to 12 use AES-192, which no
	// backend here offers.)
	// https://csrc.nist.gov/CSRC/media/Projects/Block-Cipher-Techniques/documents/BCM/proposed-modes/gcm/gcm-revised-spec.pdf
	{
		name:   "GCM test case 1",
		alg:    aead.AES128GCM,
		key:    "00000000000000000000000000000000",
		nonce:  "000000000000000000000000",
		sealed: "58e2fccefa7e3061367f1d57a4e7455a",
	},
	{
		name:      "GCM test case 2",
		alg:       aead.AES128GCM,
		key:       "00000000000000000000000000000000",
		nonce:     "000000000000000000000000",
		plaintext: "00000000000000000000000000000000",
		sealed:    "0388dace60b6a392f328c2b971b2fe78" + "ab6e47d42cec13bdf53a67b21257bddf",
	},
	{
		name:  "GCM test case 3",
		alg:   aead.AES128GCM,
		key:   "feffe9928665731c6d6a8f9467308308",
		nonce: "cafebabefacedbaddecaf888",
		plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
			"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
		sealed: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" +
			"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985" +
			"4d5c2af327cd64a62cf35abd2ba6fab4",
	},
	{
		name:  "GCM test case 4",
		alg:   aead.AES128GCM,
		key:   "feffe9928665731c6d6a8f9467308308",
		nonce: "cafebabefacedbaddecaf888",
		ad:    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
			"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		sealed: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" +
			"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091" +
			"5bc94fbc3221a5db94fae95ae7121a47",
	},
	{
		name:   "GCM test case 13",
		alg:    aead.AES256GCM,
		key:    "0000000000000000000000000000000000000000000000000000000000000000",
		nonce:  "000000000000000000000000",
		sealed: "530f8afbc74536b9a963b4f1c4cb738b",
	},
	{
		name:      "GCM test case 14",
		alg:       aead.AES256GCM,
		key:       "0000000000000000000000000000000000000000000000000000000000000000",
		nonce:     "000000000000000000000000",
		plaintext: "00000000000000000000000000000000",
		sealed:    "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919",
	},
	{
		name:  "GCM test case 15",
		alg:   aead.AES256GCM,
		key:   "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		nonce: "cafebabefacedbaddecaf888",
		plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
			"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
		sealed: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
			"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad" +
			"b094dac5d93471bdec1a502270e3cc6c",
	},
	{
		name:  "GCM test case 16",
		alg:   aead.AES256GCM,
		key:   "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		nonce: "cafebabefacedbaddecaf888",
		ad:    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
			"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		sealed: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
			"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
			"76fc6ece0f4e1768cddf8853bb2d551b",
	},
}

func TestKnownAnswers(t *testing.T) {
	covered := make(map[aead.ID]bool)
	for _, tc := range knownAnswers {
		t.Run(tc.name, func(t *testing.T) {
			a, err := aead.Lookup(tc.alg)
			if err != nil {
				t.Fatal(err)
			}
			c := mustNew(t, a, mustHex(t, tc.key))
			nonce, ad := mustHex(t, tc.nonce), mustHex(t, tc.ad)
			plaintext, sealed := mustHex(t, tc.plaintext), mustHex(t, tc.sealed)

			if got := c.Seal(nil, nonce, plaintext, ad); !bytes.Equal(got, sealed) {
				t.Errorf("Seal = %x, want %x", got, sealed)
			}
			got, err := c.Open(nil, nonce, sealed, ad)
			if err != nil || !bytes.Equal(got, plaintext) {
				t.Errorf("Open(%x) = %x, %v; want %x", sealed, got, err, plaintext)
			}
			sealed[len(sealed)-1] ^= 0x80
			if _, err := c.Open(nil, nonce, sealed, ad); err == nil {
				t.Errorf("Open(%x) with the tag's last bit flipped succeeded", sealed)
			}
		})
		covered[tc.alg] = true
	}
	for _, a := range aead.All() {
		if !covered[a.ID()] {
			t.Errorf("no known-answer vector for %s", a.ID())
		}
	}
}
