// Package codec encrypts Temporal payloads on the client, so that the
// Temporal server stores and forwards only ciphertext.
//
// A [Codec] is a [converter.PayloadCodec]. Keys come from a [KeySource];
// the simplest is a [Keyring] loaded from the environment by package
// envkey. Install it on clients and workers with package encryption's
// plugin, which also encrypts error messages and stack traces and keeps
// memos from falling back to plaintext when encoding fails:
//
//	keys, err := envkey.Load()
//	...
//	c, err := codec.New(keys)
//	...
//	plugin, err := encryption.NewPlugin(c)
//	...
//	cl, err := client.Dial(client.Options{Plugins: []client.Plugin{plugin}})
//
// [NewDataConverter] and [NewFailureConverter] are the same converters
// without the plugin, for code that wires converters by hand.
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
//	metadata (visible to the server):
//	  encoding               = "binary/encrypted"
//	  encryption-format      = "1"
//	  encryption-algorithm   = "aes-256-gcm" | "aes-128-gcm" |
//	                           "chacha20-poly1305" | "xchacha20-poly1305"
//	  encryption-key-id      = key ID, 1 to 256 bytes
//	  encryption-compression = "zstd"       (only when compressed)
//	  encryption-scope       = "namespace"  (only when bound to it)
//	  encryption-wrapped-key = wrapped data key, at most 4096 bytes
//	                           (only with envelope-encryption key sources)
//	data:
//	  +------------+-------------------------------------+--------+
//	  | nonce      | AEAD ciphertext of the inner payload | tag    |
//	  | 12 or 24 B | (zstd frame of it, when compressed)  | 16 B   |
//	  +------------+-------------------------------------+--------+
//
// The inner payload is the original temporal.api.common.v1.Payload in its
// protobuf encoding, metadata and data together. The associated data is
//
//	"temporal-encryption/payload" 0x00 version
//	  then, each as a uvarint length and its bytes:
//	  encoding, algorithm, key ID, compression, scope, wrapped key,
//	  and the namespace when the scope is "namespace"
//
// so no header field can be changed, added or removed, and no payload can
// be moved to another namespace when bound, without [ErrDecrypt]. Other
// metadata keys on an encrypted payload are ignored; the decoded payload's
// metadata comes only from the ciphertext.
//
// Decode reads three kinds of payload. Payloads this format marks are
// decrypted. Payloads whose encoding is anything else (json/plain,
// binary/null, other codecs' encodings) are returned unchanged, or rejected
// [WithStrict]. Payloads marked binary/encrypted without encryption-format
// are in the format of Temporal's published encryption samples; they decode
// only [WithLegacyFormat] and are otherwise an error, never passed through.
// Encode encrypts every payload, binary/null included, so a nil result
// looks like any other small one. Decoding never depends on the encoding
// options: a codec reads compressed and uncompressed payloads alike.
//
// # Keys
//
// The key ID on a payload selects the one key that may open it; no other key
// is tried. Each algorithm is bound to its key, and a payload that names a
// different algorithm than its key's is rejected. With random 96-bit nonces,
// rotate a key well before it has sealed 2³² payloads
// ([aead.Algorithm.MaxMessages]); [WithKeyUsageWarning] reports the count.
// An unknown key ID is an [*UnknownKeyError]. It, and a key source that
// reports [ErrUnavailable], reach the SDK wrapped by
// [converter.NewWorkflowTaskFailureError], so that a workflow task that
// cannot decode fails and is retried rather than failing the workflow.
//
// # Limits
//
// Encode refuses a payload whose encoded size is over
// [WithMaxPayloadSize] (default 2 MiB, the server's own limit) with a
// non-retryable [*PayloadTooLargeError], instead of letting the server
// reject it on every retry, and reports payloads over a warning threshold
// through [WithSizeWarning]. A compressed payload may declare at most
// [WithMaxDecodedSize] bytes (default 64 MiB), checked before anything is
// decompressed, and must be exactly one zstd frame with its size and a
// content checksum. Header fields are length-checked before use.
//
// # Performance
//
// Each key's cipher is built once. Encode, and Decode of an encrypted
// payload, make at most four allocations per payload at any size: the payload (shared with the result
// slice for a batch of one), its metadata map (two), and one buffer for its
// data and metadata values. Sealing is done in place in that buffer, and
// decoding parses the inner payload without copying it: the decoded
// payload's data and metadata values point into the buffer the plaintext
// was decrypted into. Compression uses scratch buffers from a bounded free
// list, cleared before reuse. A payload Decode passes through unencrypted
// is deep-copied, which costs more.
//
// # Limitations
//
// Lengths stay visible: the server sees each payload's size to within the
// fixed overhead. [WithCompression] makes the size depend on content, which
// an attacker who controls part of a payload can exploit; its doc explains.
// Workflow IDs are never bound (see [WithNamespaceBinding] for why), so a
// party that can write to the server's database could move a ciphertext
// between workflows of one namespace. Key usage counts are per process.
package codec
