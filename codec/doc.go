// Package codec encrypts Temporal payloads on the client, so that the
// Temporal server stores and forwards only ciphertext.
//
// A [Codec] is a [converter.PayloadCodec]: wrap the SDK's data converter with
// it ([NewDataConverter]) on every client and worker, and add
// [NewFailureConverter] so that error messages and stack traces are
// encrypted too. Keys come from a [KeySource]; the simplest is a [Keyring]
// loaded from the environment by package envkey.
//
//	keys, err := envkey.Load()
//	...
//	c, err := codec.New(keys)
//	dc := codec.NewDataConverter(c)
//	cl, err := client.Dial(client.Options{
//		DataConverter:    dc,
//		FailureConverter: codec.NewFailureConverter(dc),
//	})
//
// # Security properties
//
// Each payload is serialized (metadata and data together) and sealed with an
// AEAD under a random nonce. The server cannot read the payload's content or
// its original metadata, such as its encoding. Any change to the ciphertext,
// or to the metadata fields listed under "Wire format", makes decoding fail
// with [ErrDecrypt]; the codec never returns a payload it could not
// authenticate, and never returns plaintext when encoding fails.
//
// What stays visible: each payload's length (to within the fixed overhead),
// the key ID, the algorithm and the format version. Temporal itself keeps in
// clear everything that is not a payload: workflow and run IDs, workflow and
// activity type names, task queues, timestamps, and search attributes, which
// the server must read to index them. See docs/threat-model.md.
//
// # Wire format
//
// An encrypted payload, format version 1:
//
//	metadata:
//	  encoding             = "binary/encrypted"
//	  encryption-format    = "1"
//	  encryption-algorithm = "aes-256-gcm" | "aes-128-gcm" |
//	                         "chacha20-poly1305" | "xchacha20-poly1305"
//	  encryption-key-id    = key ID, 1 to 256 bytes
//	  (reserved: encryption-compression, encryption-scope,
//	   encryption-wrapped-key)
//	data:
//	  +-------------+----------------------------------+---------+
//	  | nonce       | AEAD(serialized inner Payload)   | tag     |
//	  | 12 or 24 B  | same length as the plaintext     | 16 B    |
//	  +-------------+----------------------------------+---------+
//
// The inner payload is the original temporal.api.common.v1.Payload in its
// protobuf encoding. The associated data binds the format version, encoding,
// algorithm, key ID and the reserved fields, each length-prefixed after a
// fixed label, so none of them can be swapped without detection.
//
// Decode reads three kinds of payload. Payloads this format marks are
// decrypted. Payloads whose encoding is anything else (json/plain,
// binary/null, other codecs' encodings) are returned unchanged. Payloads
// marked binary/encrypted without encryption-format are in the format of
// Temporal's published encryption samples; they decode only
// [WithLegacyFormat] and are otherwise an error, never passed through.
//
// # Keys
//
// The key ID on a payload selects the one key that may open it; no other key
// is tried. Each algorithm is bound to its key, and a payload that names a
// different algorithm than its key's is rejected. With random 96-bit nonces,
// rotate a key well before it has sealed 2³² payloads
// ([aead.Algorithm.MaxMessages]).
//
// # Limitations
//
// The codec does not compress; payload sizes are visible. Payloads are not
// bound to the workflow they belong to, so a party that can write to the
// server's database could move a ciphertext between workflows encrypted
// under the same key.
package codec
