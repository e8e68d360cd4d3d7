package keyring_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/keyring"
)

// A keyring file written with the package's own functions (keytool does the
// same), opened as a key source, and rotated with a reload.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "keyring-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "keys.json")

	f := &keyring.File{}
	first, _ := keyring.NewEntry("k-1", aead.AES256GCM, keyring.StatePrimary, time.Now())
	f.Add(first)
	if err := keyring.WriteFile(path, f); err != nil { // mode 0600
		panic(err)
	}

	src, err := keyring.Open(path)
	if err != nil {
		panic(err)
	}
	c, _ := codec.New(src)
	before, _ := c.Encode([]*commonpb.Payload{{Data: []byte(`"a"`)}})

	// Rotate: add a key (decrypt-only everywhere first), then promote it.
	second, _ := keyring.NewEntry("k-2", aead.AES256GCM, keyring.StateDecryptOnly, time.Now())
	f.Add(second)
	f.Promote("k-2")
	keyring.WriteFile(path, f)
	if err := src.Reload(); err != nil { // or: go src.Poll(ctx, time.Minute, onError)
		panic(err)
	}
	after, _ := c.Encode([]*commonpb.Payload{{Data: []byte(`"b"`)}})
	_, err = c.Decode(append(before, after...))

	fmt.Println(string(before[0].Metadata[codec.MetadataKeyID]), string(after[0].Metadata[codec.MetadataKeyID]), err)
	// Output: k-1 k-2 <nil>
}
