// Package anthropic is an [agent.Model] that calls Anthropic's messages
// API with tool use, through github.com/anthropics/anthropic-sdk-go/v2.
//
// The agent's conversation is in chat-completions shape; this package maps
// it onto the messages API: system messages become the system prompt, an
// assistant message's tool calls become tool_use blocks, and the tool
// messages answering them become tool_result blocks of one user message.
// Consecutive messages of the same role are merged, as the API expects
// turns to alternate.
//
// Like agent/openai it reads none of the ANTHROPIC_* variables the library
// reads by default, turns the library's retries off so that Temporal's
// activity retries handle rate limits and outages, reads the API key from
// the worker's environment ([Options.APIKeyEnv], ANTHROPIC_API_KEY by
// default) on every call, inside the activity, and never quotes the key or
// the service's error text in the errors it returns. The errors map as in
// agent/openai; HTTP 529 (overloaded) is retried like a 5xx.
//
// # Limitations
//
// Only text and tool_use blocks are read from a reply; a reply with any
// other block (extended thinking, server tools) is a bad reply. Streaming
// is not used, so [Options.MaxTokens] must stay under what the service
// allows without streaming (the library refuses larger values).
package anthropic
