package kms_test

import (
	"crypto/rand"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/kms"
)

// A source over a master key. In production the wrapper comes from a
// provider package (awskms, gcpkms, azurekv, vaulttransit, pkcs11); a
// LocalWrapper keeps this example self-contained. Build one source per
// process and share it: its cache saves calls to the key service.
func ExampleNewSource() {
	master := make([]byte, 32)
	rand.Read(master) // in production: a key service holds the master key
	w, err := kms.NewLocalWrapper("example-master", master)
	if err != nil {
		panic(err)
	}
	src, err := kms.NewSource(w,
		kms.WithLifetime(10*time.Minute),
		kms.WithObserver(func(e kms.Event) {
			if e.Kind == kms.EventCall {
				fmt.Printf("key service: %s %s\n", e.Op, e.MasterKey)
			}
		}))
	if err != nil {
		panic(err)
	}
	c, err := codec.New(src)
	if err != nil {
		panic(err)
	}
	payments := c.ForNamespace("payments") // the SDK does this for workers

	for range 3 { // one data key serves all three
		if _, err := payments.Encode([]*commonpb.Payload{{Data: []byte(`"hi"`)}}); err != nil {
			panic(err)
		}
	}
	// Output:
	// key service: wrap example-master
}
