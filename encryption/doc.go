// Package encryption wires a [codec.Codec] into Temporal clients and
// workers in one call.
//
// A [Plugin] is both a client plugin and a worker plugin. Given to a
// client, it installs the encrypting data converter and a failure converter
// that moves error messages and stack traces into encrypted payloads; every
// worker made from that client inherits both, and a workflow replayer given
// the plugin gets them too:
//
//	p, err := encryption.NewPlugin(c)
//	cl, err := client.Dial(client.Options{Plugins: []client.Plugin{p}})
//
// [Dial] does the same from configuration: the connection from a Temporal
// CLI profile and the TEMPORAL_* environment variables (package
// go.temporal.io/sdk/contrib/envconfig), the key from
// TEMPORAL_ENCRYPTION_KEY (package envkey):
//
//	cl, err := encryption.Dial(ctx)
//
// Build one codec and one plugin per process and share them between
// clients; a client made with client.NewClientFromExisting needs the plugin
// in its options again.
//
// # What is encrypted
//
// Every payload the SDK writes through the data converter: workflow,
// activity, local activity, child workflow, signal, query and update
// arguments and results, memo values, user metadata (static summaries and
// details, activity, timer and side-effect summaries), side-effect and
// local-activity markers, heartbeat details, continue-as-new input,
// schedule actions, worker deployment metadata, and, through the failure
// converter, failure messages, stack traces and details at every level of
// a cause chain. Headers are encrypted only for context propagators that
// opt in; see [EncryptHeaders].
//
// What stays readable, because the server routes and indexes by it: search
// attributes, workflow and run IDs, type and task queue names, timestamps,
// failure types, worker deployment names and build IDs, and each payload's
// size, key ID and algorithm. docs/what-is-encrypted.md lists every field,
// names the test that pins it, and says how to leave a control-plane value
// readable on purpose.
//
// # Memo values fail closed
//
// The SDK encodes a memo value with the data converter and, if that fails,
// silently encodes it again with the default, plaintext converter. When a
// key source cannot be reached, a memo would then be stored in clear. The
// plugin adds an interceptor, innermost, that hands the SDK each memo value
// in a form only the plugin's data converter can encode, so that the
// codec's error reaches the caller instead: a workflow start, a
// signal-with-start or a schedule creation fails, and workflow.UpsertMemo
// returns the error. Interceptors that run inside the plugin's see memo
// values in that wrapped form. The start options of update-with-start are
// out of an interceptor's reach and keep the SDK's behaviour.
//
// # Undecodable payloads
//
// A payload sealed under a key the process does not hold cannot be
// decoded. The codec reports it as a [codec.UnknownKeyError], which fails
// the workflow task so that Temporal retries it once the key is deployed;
// the SDK instead drops a signal whose argument does not decode, logs it
// and counts it in its temporal_corrupted_signals metric. The plugin counts
// every decode failure ([Plugin.DecodeFailures]) and reports each one, with
// the namespace, workflow ID, key ID, algorithm and reason but never
// payload content, to the function given [WithDecodeFailureHook];
// [LogDecodeFailures] turns that into one log line.
//
// # Limitations
//
// The plugin sets the failure converter, replacing any the options carry: a
// failure converter that does not encode common attributes stores error
// messages in clear. It wraps a data converter already set rather than
// replacing it, so custom payload converters keep working; do not also set
// codec.NewDataConverter, or payloads are encrypted twice.
package encryption
