// Package keyring keeps a codec's keys in a JSON file: one primary key that
// encrypts, older keys that only decrypt, and retired keys that are
// disabled, and it reloads the file so that running workers can rotate
// keys without a restart.
//
//	src, err := keyring.Open("/etc/temporal/keys.json")
//	c, err := codec.New(src)
//	go src.Poll(ctx, time.Minute, func(err error) { log.Print(err) })
//
// # File format
//
//	{
//	  "version": 1,
//	  "keys": [
//	    {
//	      "id": "k-2026-03",
//	      "algorithm": "aes-256-gcm",
//	      "state": "primary",
//	      "created": "2026-03-01T09:00:00Z",
//	      "material": "<the key, standard padded base64>"
//	    },
//	    { "id": "k-2025-12", "state": "decrypt-only", ... },
//	    { "id": "k-2025-06", "state": "disabled", ... }
//	  ]
//	}
//
// The algorithm is part of each key; it is never guessed from the key's
// length, and a key of the wrong length is an error, never padded or cut.
// Exactly one key is primary. The keytool command (cmd/keytool) writes and
// edits these files; [Parse] lists every check.
//
// # Security properties
//
// The file holds keys in clear. [ReadFile] refuses a file that group or
// others may read or write, but anyone who can read it (root, backups, the
// owner's other processes) has the keys. For keys that never leave a key
// service, use package kms and a provider.
//
// Errors name keys by ID and index and describe material by length and
// alphabet only; they never include it.
//
// # Key rotation
//
// A key ID names one key for good: [Source.Reload] refuses a file in which
// a loaded ID has another algorithm or material. A rotation across many
// processes goes in stages, so that no process meets a payload under a key
// it does not have yet:
//
//  1. add the new key as decrypt-only, deploy the file everywhere, reload;
//  2. promote it (the old primary becomes decrypt-only), deploy, reload;
//  3. once no history needs the old key (keytool scan), retire it
//     (disabled), then remove it.
//
// docs/key-rotation.md is the runbook.
//
// # Limitations
//
// Usage counts ([WithUsageWarning]) are per process and start at zero on
// every start, so they cannot enforce a budget shared by a fleet; they warn.
// Key material read from the file is cleared after the ciphers are built,
// but the ciphers keep their own copies until they are garbage-collected.
package keyring
