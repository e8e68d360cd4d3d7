// Package openai is an [agent.Model] that calls an OpenAI-compatible chat
// completions API with tool calling: OpenAI itself, or any server that
// speaks the same protocol (vLLM, Ollama, LiteLLM, Azure-style gateways)
// at the base URL given.
//
// It is built on github.com/openai/openai-go/v3, configured explicitly: it
// reads none of the OPENAI_* variables that library reads by default, and
// it turns the library's own retries off, so that every retry is a
// Temporal activity retry, visible in history and bounded by the
// workflow's retry policy.
//
// # The API key
//
// The key is read from the worker's environment ([Options.APIKeyEnv],
// OPENAI_API_KEY by default) each time [Model.Complete] runs, that is,
// inside the model activity. It is not part of [agent.CompletionRequest]
// or of any other workflow or activity payload, memo or summary, and the
// errors Complete returns never quote it, nor the service's error text
// (which, for an authentication failure, repeats part of the key). The
// agent's tests run the workflow against a fake server and search the whole
// history for the key, raw and decrypted.
//
// # Errors
//
// Complete returns Temporal application errors that the workflow's retry
// policy understands:
//
//	HTTP 401, 403, no key        agent.ErrTypeModelAuth         not retried
//	HTTP 400, 404, 422, other 4xx agent.ErrTypeModelRejected    not retried
//	HTTP 429                     agent.ErrTypeModelRateLimited  retried after Retry-After
//	HTTP 408, 409, 5xx, network  agent.ErrTypeModelUnavailable  retried with backoff
//	unusable reply               agent.ErrTypeBadModelReply     not retried
//
// # Limitations
//
// Only function tools and text content are mapped; a reply with a custom
// tool call, or a refusal with no text, is a bad reply. Streaming is not
// used: a reply arrives whole or not at all, and the activity heartbeats
// while it waits.
package openai
