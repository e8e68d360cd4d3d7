// Command keytool makes and edits keyring files, prints keys for the
// environment, and scans workflow histories for the key IDs they still
// use, so that a retired key can be removed safely.
//
//	keytool generate [-algorithm A] [-encoding hex|base64]
//	keytool init     -keyring FILE [-id ID] [-algorithm A]
//	keytool add      -keyring FILE [-id ID] [-algorithm A]
//	keytool promote  -keyring FILE -id ID
//	keytool retire   -keyring FILE -id ID
//	keytool enable   -keyring FILE -id ID
//	keytool remove   -keyring FILE -id ID
//	keytool show     -keyring FILE
//	keytool scan     [-address H:P] [-namespace NS] [-query Q] [-keyring FILE] [-unused ID]
//
// -keyring defaults to $TEMPORAL_ENCRYPTION_KEYRING. show never prints key
// material; generate prints one key to standard output and nothing else.
// See docs/key-rotation.md for the rotation these commands carry out.
package main

import (
	"os"

	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

func main() {
	cli.Exit("keytool", run(os.Args[1:], os.Stdout))
}
