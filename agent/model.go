package agent

import (
	"context"
	"encoding/json"
)

// Role says who wrote a [Message], with the values chat-completions APIs
// use.
type Role string

// The roles of a conversation.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Finish reasons of a [CompletionResponse].
const (
	FinishToolCalls = "tool_calls"
	FinishStop      = "stop"
)

// Message is one entry of the conversation. An assistant message carries
// either Content (a final answer) or ToolCalls; a tool message carries the
// tool's JSON result in Content and the call it answers in ToolCallID.
type Message struct {
	Role       Role       `json:"role"`
	Content    string     `json:"content,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolCall is a model's request to run one tool. Arguments is a JSON
// object, as the model wrote it; the workflow validates it.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ToolSpec describes a tool to the model. Parameters is a JSON Schema
// object.
type ToolSpec struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// CompletionRequest is the input of one model call: the whole conversation
// so far and the tools the model may call.
type CompletionRequest struct {
	Messages []Message  `json:"messages"`
	Tools    []ToolSpec `json:"tools,omitempty"`
}

// CompletionResponse is a model's answer: an assistant [Message] and why it
// stopped ([FinishToolCalls] or [FinishStop]).
type CompletionResponse struct {
	Message      Message `json:"message"`
	FinishReason string  `json:"finish_reason"`
}

// Model is a chat model with tool calling. Given the conversation it returns
// either tool calls to run or a final answer.
//
// Complete runs inside an activity, so it may use the network, take its
// time and fail; a failed call is retried by Temporal. It must not keep
// state between calls: everything it needs is in the request. It is called
// from many activities at once and must be safe for concurrent use.
type Model interface {
	Complete(ctx context.Context, req CompletionRequest) (CompletionResponse, error)
}
