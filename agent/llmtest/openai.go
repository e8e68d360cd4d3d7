package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/temporal-encryption/temporal-encryption/agent"
)

// The chat completions wire format, as much of it as the agent uses.
type (
	chatRequest struct {
		Model    string        `json:"model"`
		Messages []chatMessage `json:"messages"`
		Tools    []chatTool    `json:"tools"`
		Stream   bool          `json:"stream"`
	}
	chatMessage struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content,omitempty"`
		ToolCalls  []chatToolCall  `json:"tool_calls,omitempty"`
		ToolCallID string          `json:"tool_call_id,omitempty"`
	}
	chatToolCall struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
	chatTool struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
	}
	chatAnswer struct {
		Role      string         `json:"role"`
		Content   *string        `json:"content"`
		Refusal   *string        `json:"refusal"`
		ToolCalls []chatToolCall `json:"tool_calls,omitempty"`
	}
	chatChoice struct {
		Index        int        `json:"index"`
		Message      chatAnswer `json:"message"`
		Logprobs     *struct{}  `json:"logprobs"`
		FinishReason string     `json:"finish_reason"`
	}
	chatUsage struct {
		Prompt     int `json:"prompt_tokens"`
		Completion int `json:"completion_tokens"`
		Total      int `json:"total_tokens"`
	}
	chatCompletion struct {
		ID      string       `json:"id"`
		Object  string       `json:"object"`
		Created int64        `json:"created"`
		Model   string       `json:"model"`
		Choices []chatChoice `json:"choices"`
		Usage   chatUsage    `json:"usage"`
	}
)

func openAIError(w http.ResponseWriter, status int, kind, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": kind, "param": nil, "code": code,
	}})
}

func openAIFaultBody(status int) string {
	kind, code := "server_error", "server_error"
	switch {
	case status == http.StatusTooManyRequests:
		kind, code = "requests", "rate_limit_exceeded"
	case status == http.StatusUnauthorized:
		kind, code = "invalid_request_error", "invalid_api_key"
	case status < 500:
		kind, code = "invalid_request_error", "invalid_value"
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": fmt.Sprintf("fake fault %d", status), "type": kind, "param": nil, "code": code,
	}})
	return string(b)
}

func (s *Server) openAI(w http.ResponseWriter, r *http.Request) {
	body, fault, err := s.begin(r)
	if fault != nil {
		writeFault(w, fault, func() string { return openAIFaultBody(fault.Status) })
		return
	}
	if r.Method != http.MethodPost {
		openAIError(w, http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "POST only")
		return
	}
	given, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if given != s.key {
		openAIError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
			"Incorrect API key provided: "+given+". You can find your API key in your account settings.")
		return
	}
	if err != nil {
		openAIError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large", err.Error())
		return
	}

	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json",
			"We could not parse the JSON body of your request.")
		return
	}
	creq, err := req.toAgent()
	if err != nil {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "invalid_value", err.Error())
		return
	}
	resp, err := s.model.Complete(r.Context(), creq)
	if err != nil {
		openAIError(w, http.StatusInternalServerError, "server_error", "server_error",
			"The server had an error while processing your request.")
		return
	}

	ans := chatAnswer{Role: "assistant"}
	if resp.Message.Content != "" || len(resp.Message.ToolCalls) == 0 {
		ans.Content = &resp.Message.Content
	}
	finish := "stop"
	for _, c := range resp.Message.ToolCalls {
		var tc chatToolCall
		tc.ID, tc.Type = c.ID, "function"
		tc.Function.Name, tc.Function.Arguments = c.Name, c.Arguments
		ans.ToolCalls = append(ans.ToolCalls, tc)
		finish = "tool_calls"
	}
	out, _ := json.Marshal(ans)
	s.done()
	n := s.Answered()
	writeJSON(w, http.StatusOK, chatCompletion{
		ID:      fmt.Sprintf("chatcmpl-fake-%d", n),
		Object:  "chat.completion",
		Created: 1_700_000_000 + int64(n),
		Model:   req.Model,
		Choices: []chatChoice{{Index: 0, Message: ans, FinishReason: finish}},
		Usage:   chatUsage{Prompt: tokens(len(body)), Completion: tokens(len(out)), Total: tokens(len(body)) + tokens(len(out))},
	})
}

// toAgent checks the request the way the real service does and converts
// it: every assistant tool call is answered by a tool message before the
// next assistant or user message, and every tool message answers one.
func (req *chatRequest) toAgent() (agent.CompletionRequest, error) {
	var out agent.CompletionRequest
	if req.Model == "" {
		return out, fmt.Errorf("you must provide a model parameter")
	}
	if req.Stream {
		return out, fmt.Errorf("this fake does not stream")
	}
	if len(req.Messages) == 0 {
		return out, fmt.Errorf("'messages' must contain at least one message")
	}
	open := map[string]bool{}
	for i, m := range req.Messages {
		content, err := text(m.Content)
		if err != nil {
			return out, fmt.Errorf("messages[%d]: %v", i, err)
		}
		if m.Role != "tool" && len(open) > 0 {
			return out, fmt.Errorf("messages[%d]: an assistant message with 'tool_calls' must be "+
				"followed by tool messages responding to each 'tool_call_id'", i)
		}
		msg := agent.Message{Content: content}
		switch m.Role {
		case "system", "developer":
			msg.Role = agent.RoleSystem
		case "user":
			msg.Role = agent.RoleUser
		case "assistant":
			msg.Role = agent.RoleAssistant
			for j, c := range m.ToolCalls {
				if c.ID == "" || c.Type != "function" || c.Function.Name == "" || !json.Valid([]byte(c.Function.Arguments)) {
					return out, fmt.Errorf("messages[%d].tool_calls[%d]: invalid tool call", i, j)
				}
				open[c.ID] = true
				msg.ToolCalls = append(msg.ToolCalls, agent.ToolCall{
					ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
			}
			if content == "" && len(m.ToolCalls) == 0 {
				return out, fmt.Errorf("messages[%d]: assistant message needs content or tool_calls", i)
			}
		case "tool":
			if !open[m.ToolCallID] {
				return out, fmt.Errorf("messages[%d]: messages with role 'tool' must be a response "+
					"to a preceding message with 'tool_calls'", i)
			}
			delete(open, m.ToolCallID)
			msg.Role, msg.ToolCallID = agent.RoleTool, m.ToolCallID
		default:
			return out, fmt.Errorf("messages[%d]: invalid role %q", i, m.Role)
		}
		out.Messages = append(out.Messages, msg)
	}
	if len(open) > 0 {
		return out, fmt.Errorf("tool calls without responses at the end of 'messages'")
	}
	for i, t := range req.Tools {
		if t.Type != "function" || t.Function.Name == "" {
			return out, fmt.Errorf("tools[%d]: invalid tool", i)
		}
		var schema map[string]any
		if err := json.Unmarshal(t.Function.Parameters, &schema); err != nil || schema["type"] != "object" {
			return out, fmt.Errorf("tools[%d].function.parameters: not a JSON Schema object", i)
		}
		out.Tools = append(out.Tools, agent.ToolSpec{
			Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	return out, nil
}
