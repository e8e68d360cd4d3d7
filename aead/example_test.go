package aead_test

import (
	"crypto/rand"
	"fmt"
	"log"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// Seal under a fresh random nonce, carried in front of the ciphertext, as
// the codec does. Build the cipher once per key and keep it: it is safe for
// concurrent use, and building one costs more than sealing a small payload.
func ExampleAlgorithm_New() {
	alg, err := aead.Lookup(aead.XChaCha20Poly1305)
	if err != nil {
		log.Fatal(err)
	}
	key := make([]byte, alg.KeySize()) // in practice, from a KMS
	if _, err := rand.Read(key); err != nil {
		log.Fatal(err)
	}
	c, err := alg.New(key)
	if err != nil {
		log.Fatal(err)
	}

	msg := []byte("order 42: buy 100 ACME")
	ad := []byte("key-id=k1")
	buf := make([]byte, alg.NonceSize(), alg.NonceSize()+len(msg)+alg.Overhead())
	if _, err := rand.Read(buf); err != nil {
		log.Fatal(err)
	}
	sealed := c.Seal(buf, buf, msg, ad) // nonce ‖ ciphertext ‖ tag

	nonce, ciphertext := sealed[:alg.NonceSize()], sealed[alg.NonceSize():]
	opened, err := c.Open(nil, nonce, ciphertext, ad)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes sealed to %d\n", len(msg), len(sealed))
	fmt.Printf("%s\n", opened)
	// Output:
	// 22 bytes sealed to 62
	// order 42: buy 100 ACME
}

func ExampleLookup() {
	for _, id := range []aead.ID{aead.AES256GCM, "aes-192-gcm"} {
		a, err := aead.Lookup(id)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(a.ID(), a.KeySize(), a.NonceSize(), a.Overhead(), a.MaxMessages())
	}
	// Output:
	// aes-256-gcm 32 12 16 4294967296
	// aead: unknown algorithm "aes-192-gcm"
}
